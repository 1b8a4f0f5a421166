"""Who a check-in round asks: eligibility, the split of the sample over segments, and the
order within a segment, as functions of plain data."""

from __future__ import annotations

import heapq
import random
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import compress, count, islice
from math import floor
from operator import eq
from types import MappingProxyType
from typing import NamedTuple

MAX_COUNT = 100_000
DAY_SECONDS = 86_400

# An asked customer is packed into one int, last_asked_at above the user id, so that sorting
# plain ints orders by (last_asked_at, user_id): a list of a million of them sorts in C about
# twice as fast as tuples and takes a third of the memory.
_SHIFT = 64
_USER_MASK = (1 << _SHIFT) - 1

_COUNT = re.compile(r"\s*([0-9]{1,9})\s*")
# A comma too: Dutch admins write 12,5%.
_PERCENT = re.compile(r"\s*([0-9]{1,9}(?:[.,][0-9]{1,9})?)\s*%\s*")


class SkipReason(StrEnum):
    """Why a reachable customer was left out of a round (the first that applies)."""

    PAUSED = "paused"
    COOLDOWN = "cooldown"
    OPEN_INVITATION = "open_invitation"


class Candidate(NamedTuple):
    """A customer as the sampler sees them; times are epoch seconds.

    A named tuple, not a dataclass: a round builds one per reachable customer, a million of
    them, and a tuple is built from a database row in a fifth of the time.
    """

    user_id: int
    segment_id: int
    status: str
    paused_until: int | None
    last_asked_at: int | None
    has_open_invitation: bool
    # The customer's own cool-down (/frequency; None: the global one) and their last "Not
    # now" (a decline at or after `last_asked_at` was the answer to that last check-in).
    cooldown_days: int | None = None
    declined_at: int | None = None


def cooldown_of(candidate: Candidate, cooldown_seconds: int, notnow_seconds: int | None) -> int:
    """Seconds after `last_asked_at` before this customer may be asked again.

    Their own cool-down when they set one, never shorter than the global one (so a global
    one raised later wins); otherwise, after "Not now" to the last check-in, the Not-now
    cool-down (never longer than the global one); otherwise the global one.
    """
    if candidate.cooldown_days is not None:
        return max(cooldown_seconds, candidate.cooldown_days * DAY_SECONDS)
    declined, last = candidate.declined_at, candidate.last_asked_at
    # Declined at or after the last ask: "Not now" was the answer to that last check-in.
    declined_last = declined is not None and last is not None and declined >= last
    if notnow_seconds is not None and declined_last:
        return min(cooldown_seconds, notnow_seconds)
    return cooldown_seconds


class InvalidSampleSize(ValueError):
    """Not a sample size: a whole number from 1 to 100000, or a percentage above 0 up to 100."""


@dataclass(frozen=True)
class SampleSize:
    """How many customers a round asks: a fixed count or a percentage of the population."""

    count: int | None = None
    percent: float | None = None

    def __post_init__(self) -> None:
        if (self.count is None) == (self.percent is None):
            raise InvalidSampleSize("give a count or a percentage, not both or neither")
        if self.count is not None and not 1 <= self.count <= MAX_COUNT:
            raise InvalidSampleSize(str(self.count))
        # Written so that NaN fails too.
        if self.percent is not None and not 0 < self.percent <= 100:
            raise InvalidSampleSize(f"{self.percent}%")

    def target(self, population: int) -> int:
        """The number to ask out of `population`; a percentage asks at least one person."""
        if self.count is not None:
            return self.count
        assert self.percent is not None  # __post_init__ allows nothing else
        if population <= 0:
            return 0
        # Exact decimal arithmetic, halves rounding up: 10% of 25 asks 3, not float's 2.
        exact = Fraction(str(self.percent)) * population / 100
        return max(1, floor(exact + Fraction(1, 2)))

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        # Decimal, not float formatting, so 0.00001% is not written as 1e-05%.
        return f"{Decimal(repr(self.percent)).normalize():f}%"


def parse_sample_size(text: str) -> SampleSize:
    """The sample size an admin typed: `20`, `15%`, `15 %` or `12.5%`; raises InvalidSampleSize."""
    if match := _COUNT.fullmatch(text):
        return SampleSize(count=int(match[1]))
    if match := _PERCENT.fullmatch(text):
        return SampleSize(percent=float(match[1].replace(",", ".")))
    raise InvalidSampleSize(text)


@dataclass(frozen=True)
class Stratum:
    """One segment's share of a round, set against its population for the digest."""

    segment_id: int
    population: int
    eligible: int
    invited: int


@dataclass(frozen=True)
class Sample:
    """A round's customers, grouped by segment, with the composition behind them."""

    user_ids: tuple[int, ...]
    strata: tuple[Stratum, ...]
    skipped: Mapping[SkipReason, int]
    target: int


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


def draw_sample(
    candidates: Iterable[Candidate],
    *,
    size: SampleSize,
    now: int,
    cooldown_seconds: int,
    seed: int,
    segment_id: int | None = None,
    notnow_seconds: int | None = None,
) -> Sample:
    """Chooses a round's customers: eligible ones, split over segments, longest-unasked first.

    A customer's cool-down is `cooldown_of` theirs: the global one unless they chose a longer
    one or said "Not now" to their last check-in (`notnow_seconds`).

    Within a segment the never-asked come first, then by last_asked_at ascending; equal ones
    are ordered by a draw seeded with (`seed`, segment), made over the customers in user-id
    order so that the input order does not matter.
    """
    population: dict[int, int] = {}
    never: dict[int, list[int]] = {}
    asked: dict[int, list[int]] = {}
    paused = open_invitation = cooling = 0
    # Asked at or before this moment means the cool-down is over.
    cooled = now - cooldown_seconds
    # One plain loop: attribute reads on the named tuple beat attrgetter.
    for candidate in candidates:
        segment = candidate.segment_id
        if segment_id is not None and segment != segment_id:
            continue
        status = candidate.status
        if status != "active" and status != "paused":
            if status == "stopped" or status == "blocked":
                continue
            raise ValueError(f"unknown customer status {status!r}")
        if segment in population:
            population[segment] += 1
        else:
            population[segment] = 1
            never[segment] = []
            asked[segment] = []
        if status == "paused" and (candidate.paused_until is None or candidate.paused_until > now):
            # A pause without an end is still a pause.
            paused += 1
        elif candidate.has_open_invitation:
            open_invitation += 1
        elif (last := candidate.last_asked_at) is None:
            never[segment].append(_checked(candidate.user_id))
        elif candidate.cooldown_days is not None or candidate.declined_at is not None:
            # The few with a cool-down of their own; the common case stays one comparison.
            if last > now - cooldown_of(candidate, cooldown_seconds, notnow_seconds):
                cooling += 1
            else:
                asked[segment].append(last << _SHIFT | _checked(candidate.user_id))
        elif last > cooled:
            cooling += 1
        else:
            asked[segment].append(last << _SHIFT | _checked(candidate.user_id))

    target = size.target(sum(population.values()))
    segments = sorted(population)
    eligible = {s: len(never[s]) + len(asked[s]) for s in segments}
    invited = allocate(eligible, target)
    chosen: list[int] = []
    for segment in segments:
        if invited[segment]:
            rng = random.Random(f"{seed}:{segment}")
            chosen += _first(never[segment], asked[segment], invited[segment], rng)
    return Sample(
        user_ids=tuple(chosen),
        strata=tuple(Stratum(s, population[s], eligible[s], invited[s]) for s in segments),
        skipped=MappingProxyType(
            {
                SkipReason.PAUSED: paused,
                SkipReason.OPEN_INVITATION: open_invitation,
                SkipReason.COOLDOWN: cooling,
            }
        ),
        target=target,
    )


def _checked(user_id: int) -> int:
    # Packing needs the user id to fit below last_asked_at; Telegram's are well inside.
    if user_id >> _SHIFT or user_id < 0:
        raise ValueError(f"user id {user_id} out of range")
    return user_id


def _first(never: list[int], asked: list[int], wanted: int, rng: random.Random) -> list[int]:
    """The first `wanted` user ids of a segment in priority order."""
    never.sort()
    if wanted <= len(never):
        return rng.sample(never, wanted)
    rng.shuffle(never)
    wanted -= len(never)
    # The `wanted` lowest keys cut through at most one run of equal last_asked_at: the last.
    head = heapq.nsmallest(wanted, asked)
    low = head[-1] >> _SHIFT << _SHIFT
    cut = bisect_left(head, low)
    if len(head) < len(asked):
        last_run = sorted(key for key in asked if low <= key < low + (1 << _SHIFT))
    else:
        last_run = head[cut:]
    tail = rng.sample(last_run, wanted - cut)
    del head[cut:]
    _shuffle_runs(head, rng)
    return never + [key & _USER_MASK for key in head] + [key & _USER_MASK for key in tail]


def _shuffle_runs(keys: list[int], rng: random.Random) -> None:
    """Puts each run of equal last_asked_at in sorted `keys` into a seeded random order."""
    lasts = [key >> _SHIFT for key in keys]
    done = 0
    # Only positions followed by an equal value start or continue a run; found in C.
    for start in compress(count(), map(eq, lasts, islice(lasts, 1, None))):
        if start < done:
            continue
        done = bisect_right(lasts, lasts[start], start)
        run = keys[start:done]
        rng.shuffle(run)
        keys[start:done] = run
