"""Who a check-in round asks: the split of the sample over segments and the order within a
segment. Which customers are due is decided in SQL (`storage.eligibility.Eligibility`), so a
round reads only counts and the customers it picks, not a million rows."""

from __future__ import annotations

import heapq
import random
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import groupby
from operator import itemgetter
from types import MappingProxyType

from bot.checkins.allocation import ResponseRates, allocate_by_answers, split_in_proportion
from bot.common.sample_size import SampleSize
from storage import base_shares, eligibility
from storage.base_shares import SegmentRecords
from storage.eligibility import AttributeValue, Eligibility, Pool


class SkipReason(StrEnum):
    """Why a reachable customer was left out of a round (the first that applies)."""

    PAUSED = "paused"
    COOLDOWN = "cooldown"
    OPEN_INVITATION = "open_invitation"


@dataclass(frozen=True)
class Stratum:
    """One segment's share of a round, set against its population for the digest, the
    response rate its invitations were split by (None: split by due customers alone), and
    their split by an attribute's values when the round was stratified by one."""

    segment_id: int
    population: int
    eligible: int
    invited: int
    rate: float | None = None
    # Stratified by an attribute: the invitations by its value (None: unknown), in order.
    by_value: tuple[tuple[str | None, int], ...] = ()

    @property
    def expected_answers(self) -> float | None:
        """How many answers the split expects from this segment."""
        return None if self.rate is None else self.invited * self.rate


@dataclass(frozen=True)
class Sample:
    """A round's customers, grouped by segment, with the composition behind them."""

    user_ids: tuple[int, ...]
    strata: tuple[Stratum, ...]
    skipped: Mapping[SkipReason, int]
    target: int
    # The base attribute the invitations were split by within each segment, if any.
    stratified_by: str | None = None


def allocate(eligible: Mapping[int, int], size: int) -> dict[int, int]:
    """Splits `size` over segments in proportion to their eligible counts (largest remainder).

    Each non-empty segment gets at least one when `size` allows, taken from the segments
    given most above their exact quota.
    """
    if any(n < 0 for n in eligible.values()):
        raise ValueError(f"negative eligible count in {dict(eligible)}")
    total = sum(eligible.values())
    size = max(0, min(size, total))
    if size == 0:
        return dict.fromkeys(eligible, 0)
    # Quotas are size * n / total; integers scaled by `total` keep the comparisons exact.
    shares = {segment: size * n // total for segment, n in eligible.items()}
    by_remainder = sorted(eligible, key=lambda s: (-(size * eligible[s] % total), -eligible[s], s))
    for segment in by_remainder[: size - sum(shares.values())]:
        shares[segment] += 1
    nonempty = [segment for segment, n in eligible.items() if n > 0]
    if size >= len(nonempty):
        # The donor that gives is the one most above its quota; on a tie, the one with the
        # smaller claim (fewer eligible, then the larger id), the reverse of who got extras.
        donors = [
            (-(shares[s] * total - size * eligible[s]), eligible[s], -s)
            for s in nonempty
            if shares[s] >= 2
        ]
        heapq.heapify(donors)
        for segment in sorted(s for s in nonempty if shares[s] == 0):
            excess, n, negated = heapq.heappop(donors)
            shares[segment] = 1
            shares[-negated] -= 1
            if shares[-negated] >= 2:
                heapq.heappush(donors, (excess + total, n, negated))
    return shares


def base_sizes(conn: sqlite3.Connection, pool: Pool) -> dict[int, int]:
    """Each segment's size in the customer base, by segment id: the one source of segment
    shares, for the sample's split and, through the sizes a round records, the digest's
    weights (`base_sizes_of` says how it is counted)."""
    return base_sizes_of(pool, base_shares.segment_records(conn))


def base_sizes_of(pool: Pool, records: Sequence[SegmentRecords]) -> dict[int, int]:
    """With an imported base (`records`), its records that are not gone plus the enrolled
    customers without a record, as the digest counts them (`customer_base.segment_coverage`);
    without one, the enrolled customers Pulse may reach (active and paused), as `pool` has
    counted them (a second count would cost a pass over a million customers, and the
    enrolled without a record are `pool`'s less the joined)."""
    enrolled = {s.segment_id: s.population for s in pool.segments}
    if not records:
        return enrolled
    sizes = {s.segment_id: s.records for s in records}
    joined = {s.segment_id: s.joined_enrolled for s in records}
    for segment_id, n in enrolled.items():
        sizes[segment_id] = sizes.get(segment_id, 0) + n - joined.get(segment_id, 0)
    return sizes


def draw_sample(
    conn: sqlite3.Connection,
    *,
    size: SampleSize,
    now: int,
    cooldown_seconds: int,
    seed: int,
    segment_id: int | None = None,
    notnow_seconds: int | None = None,
    rates: ResponseRates | None = None,
    stratify_by: str | None = None,
) -> Sample:
    """Chooses a round's customers: due ones, split over segments, longest-unasked first.

    With `rates`, the split is by expected answers (`bot.checkins.allocation`) against each
    segment's size in the base (`base_sizes`); without, in proportion to the due customers,
    the old split (bench.pulse compares the two).

    Who is due is `Eligibility`: not paused, no invitation open, out of their cool-down (the
    global one unless they chose a longer one or said "Not now" to their last check-in,
    `notnow_seconds`).

    With `stratify_by` (an attribute of the base) and an imported base, each segment's
    invitations are split over the attribute's values in proportion to the segment's counts
    in the base (`_by_value`, customers without a value or a record as one more, "unknown");
    without a base it is ignored.

    Within a segment (a stratum) the never-asked come first, then by last_asked_at
    ascending; equal ones are ordered by a draw seeded with (`seed`, segment, and the value),
    made over the customers in user-id order, so the stored order of the rows does not matter.
    """
    rules = Eligibility(now, cooldown_seconds, notnow_seconds)
    pool = eligibility.sampling_pool(conn, rules, segment_id)
    target = size.target(sum(s.population for s in pool.segments))
    eligible = {s.segment_id: s.never_asked + s.asked for s in pool.segments}
    records = base_shares.segment_records(conn)
    base = base_sizes_of(pool, records)
    population = {s.segment_id: base.get(s.segment_id, s.population) for s in pool.segments}
    if rates is None:
        invited = allocate(eligible, target)
    else:
        invited = allocate_by_answers(population, eligible, rates, target)
    stratified_by = stratify_by if records else None
    counted = {} if stratified_by is None else base_shares.attribute_counts(conn, stratified_by)
    chosen: list[int] = []
    by_value: dict[int, tuple[tuple[str | None, int], ...]] = {}
    for counts in pool.segments:
        segment = counts.segment_id
        if not (wanted := invited[segment]):
            continue
        held = pool.held.get(segment, ())
        if stratified_by is None:
            rng = random.Random(f"{seed}:{segment}")
            chosen += _first(conn, rules, segment, counts.never_asked, held, wanted, rng)
            continue
        # The enrolled without a record are in the base with no value: the unknown stratum.
        in_base = {v: n for (s, v), n in counted.items() if s == segment}
        in_base[None] = in_base.get(None, 0) + base[segment] - sum(in_base.values())
        picked, by_value[segment] = _by_value(
            conn, rules, AttributeValue(stratified_by, None), segment, in_base, held, wanted, seed
        )
        chosen += picked
    return Sample(
        user_ids=tuple(chosen),
        strata=tuple(
            Stratum(
                s.segment_id,
                population[s.segment_id],
                eligible[s.segment_id],
                invited[s.segment_id],
                None if rates is None else rates.of(s.segment_id),
                by_value.get(s.segment_id, ()),
            )
            for s in pool.segments
        ),
        skipped=MappingProxyType(
            {
                SkipReason.PAUSED: sum(s.paused for s in pool.segments),
                SkipReason.OPEN_INVITATION: sum(s.open_invitation for s in pool.segments),
                SkipReason.COOLDOWN: sum(s.cooling for s in pool.segments),
            }
        ),
        target=target,
        stratified_by=stratified_by,
    )


def _by_value(
    conn: sqlite3.Connection,
    rules: Eligibility,
    attribute: AttributeValue,
    segment: int,
    in_base: Mapping[str | None, int],
    held: Sequence[int],
    wanted: int,
    seed: int,
) -> tuple[list[int], tuple[tuple[str | None, int], ...]]:
    """A segment's `wanted` customers split over `attribute`'s values in proportion to their
    counts `in_base` (never beyond a value's due customers), each value's in priority order;
    and how many each value got (the values with any, in order, None last)."""
    due = eligibility.due_by_value(conn, rules, segment, attribute.attribute, held)
    values = sorted(v for v in due if v is not None) + ([None] if None in due else [])
    seats = split_in_proportion(
        [in_base.get(v, 0) for v in values], [sum(due[v]) for v in values], wanted
    )
    split = tuple((v, n) for v, n in zip(values, seats, strict=True) if n)
    chosen: list[int] = []
    for value, n in split:
        rng = random.Random(f"{seed}:{segment}:{value}")
        stratum = attribute._replace(value=value)
        chosen += _first(conn, rules, segment, due[value][0], held, n, rng, stratum)
    return chosen, split


def _first(
    conn: sqlite3.Connection,
    rules: Eligibility,
    segment: int,
    never_asked: int,
    held: Sequence[int],
    wanted: int,
    rng: random.Random,
    stratum: AttributeValue | None = None,
) -> list[int]:
    """The first `wanted` user ids of a segment (of its `stratum`, whose due never-asked
    number `never_asked`) in priority order, reading only what it needs."""
    if wanted <= never_asked:
        # Which places the draw picks depends only on how many there are: read the never-asked
        # up to the last place picked, not all of them.
        places = rng.sample(range(never_asked), wanted)
        never = eligibility.never_asked(conn, rules, segment, max(places) + 1, held, stratum)
        return [never[place] for place in places]
    never = eligibility.never_asked(conn, rules, segment, never_asked, held, stratum)
    rng.shuffle(never)
    return never + _longest_unasked(
        eligibility.longest_unasked(conn, rules, segment, wanted - len(never), held, stratum),
        wanted - len(never),
        rng,
    )


def _longest_unasked(rows: list[tuple[int, int]], wanted: int, rng: random.Random) -> list[int]:
    """The first `wanted` user ids of (last_asked_at, user_id) `rows` in that order, each run
    asked at the same moment in a seeded order; the run at the cut holds everyone asked at
    that moment, and the draw picks who of them gets the seats left."""
    last = rows[wanted - 1][0]
    cut = next(i for i, row in enumerate(rows) if row[0] == last)
    tail = rng.sample([user_id for _, user_id in rows[cut:]], wanted - cut)
    head: list[int] = []
    for _, run in groupby(rows[:cut], key=itemgetter(0)):
        ids = [user_id for _, user_id in run]
        rng.shuffle(ids)
        head += ids
    return head + tail
