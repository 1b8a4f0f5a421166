"""Who a round asks: the sample size an admin types, the split over segments (pure), and
eligibility, the order within a segment and the recorded composition, drawn from customers
stored in a real migrated SQLite database, where the eligibility rules are evaluated."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkins.allocation import ResponseRates
from bot.checkins.sampling import Sample, SkipReason, Stratum, allocate, draw_sample
from bot.common.sample_size import MAX_COUNT, InvalidSampleSize, SampleSize, parse_sample_size
from storage.db import Database
from storage.invitations import OPEN_STATES, CheckinState

ROOT = Path(__file__).resolve().parents[1]
NOW = 1_800_000_000
DAY = 86_400
COOLDOWN = 30 * DAY
SEED = 20261117
NO_SKIPS = {SkipReason.PAUSED: 0, SkipReason.OPEN_INVITATION: 0, SkipReason.COOLDOWN: 0}
# Until when `candidate` pauses someone paused without a date: the schema wants one.
PAUSED_A_WEEK = NOW + 7 * DAY


class Candidate(NamedTuple):
    """A customer as these tests set them up; stored as a customers row, and an invitation
    still open when `has_open_invitation`. Times are epoch seconds."""

    user_id: int
    segment_id: int
    status: str
    paused_until: int | None
    last_asked_at: int | None
    has_open_invitation: bool
    cooldown_days: int | None = None
    declined_at: int | None = None


def candidate(
    user_id: int,
    segment_id: int = 1,
    *,
    status: str = "active",
    paused_until: int | None = None,
    last_asked_at: int | None = None,
    open_invitation: bool = False,
) -> Candidate:
    if status == "paused" and paused_until is None:
        paused_until = PAUSED_A_WEEK
    return Candidate(user_id, segment_id, status, paused_until, last_asked_at, open_invitation)


_migrated: bytes | None = None


async def migrated() -> bytes:
    """An empty migrated database file: copying one is five times faster than migrating, and
    the properties below draw from hundreds of databases."""
    global _migrated
    if _migrated is None:
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "pulse.db"
            await (await Database.open(path)).close()
            _migrated = path.read_bytes()
    return _migrated


@asynccontextmanager
async def stored(
    people: Sequence[Candidate], invitation_state: CheckinState = CheckinState.ASKED_SCORE
) -> AsyncIterator[Database]:
    """A migrated database holding `people`, in the order given, their segments, and for each
    with an open invitation one invitation in `invitation_state`."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "pulse.db"
        path.write_bytes(await migrated())
        db = await Database.open(path)
        try:

            def store_people(conn: sqlite3.Connection) -> None:
                conn.executemany(
                    "INSERT OR IGNORE INTO segments (id, name, created_at) VALUES (?, ?, 0)",
                    [(s, f"segment {s}") for s in sorted({c.segment_id for c in people})],
                )
                conn.executemany(
                    "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id,"
                    " status, paused_until, consented_at, enrolled_at, last_asked_at, updated_at,"
                    " cooldown_days, declined_at) VALUES (:user_id, :user_id, 'C', 'en',"
                    " :segment_id, :status, :paused_until, 0, 0, :last_asked_at, 0,"
                    " :cooldown_days, :declined_at)",
                    [c._asdict() for c in people],
                )
                conn.execute(
                    "INSERT INTO rounds (id, schedule, scheduled_for, started_at, sample_size,"
                    " target, seed) VALUES (1, 'earlier', 0, 0, '20', 20, 0)"
                )
                conn.executemany(
                    "INSERT INTO invitations (round_id, user_id, chat_id, segment_id, language,"
                    " state, created_at, send_after, expires_at)"
                    " VALUES (1, :user, :user, :segment, 'en', :state, 0, 0, :expires)",
                    [
                        {"user": c.user_id, "segment": c.segment_id}
                        | {"state": invitation_state, "expires": NOW + DAY}
                        for c in people
                        if c.has_open_invitation
                    ],
                )

            await db.write(store_people)
            yield db
        finally:
            await db.close()


async def draw_stored(
    people: Sequence[Candidate],
    size: SampleSize,
    *,
    seed: int = SEED,
    now: int = NOW,
    cooldown: int = COOLDOWN,
    segment_id: int | None = None,
    notnow: int | None = None,
    invitation_state: CheckinState = CheckinState.ASKED_SCORE,
    rates: ResponseRates | None = None,
) -> Sample:
    """The sample a round draws from `people` stored in a fresh database (split by due
    customers, or with `rates` by expected answers)."""
    async with stored(people, invitation_state) as db:
        return await db.read(
            lambda conn: draw_sample(
                conn,
                size=size,
                now=now,
                cooldown_seconds=cooldown,
                seed=seed,
                segment_id=segment_id,
                notnow_seconds=notnow,
                rates=rates,
            )
        )


async def draw(
    candidates: Sequence[Candidate],
    size: str = "20",
    *,
    seed: int = SEED,
    now: int = NOW,
    cooldown: int = COOLDOWN,
    segment_id: int | None = None,
) -> Sample:
    return await draw_stored(
        candidates,
        parse_sample_size(size),
        seed=seed,
        now=now,
        cooldown=cooldown,
        segment_id=segment_id,
    )


def never_asked(ids: range, segment_id: int = 1) -> list[Candidate]:
    return [candidate(u, segment_id) for u in ids]


def asked_at(when: int, ids: range, segment_id: int = 1) -> list[Candidate]:
    return [candidate(u, segment_id, last_asked_at=when) for u in ids]


# --- The sample size an admin types -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count"),
    [("20", 20), ("1", 1), (" 7 ", 7), ("007", 7), ("\t42\n", 42), (str(MAX_COUNT), MAX_COUNT)],
)
def test_a_whole_number_is_a_count_of_customers(text: str, count: int) -> None:
    assert parse_sample_size(text) == SampleSize(count=count)


@pytest.mark.parametrize(
    ("text", "percent"),
    [
        ("15%", 15.0),
        ("15 %", 15.0),
        (" 15% ", 15.0),
        ("12.5%", 12.5),
        ("12,5%", 12.5),  # a Dutch admin's decimal comma
        ("100%", 100.0),
        ("0.000000001%", 1e-9),
        ("0,5 %", 0.5),
    ],
)
def test_a_percentage_may_have_spaces_a_decimal_point_or_a_decimal_comma(
    text: str, percent: float
) -> None:
    assert parse_sample_size(text) == SampleSize(percent=percent)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "twenty",
        "-5",
        "+5",
        "5.5",
        "1e3",
        "1,000",
        "5 5",
        "20 people",
        "1000000000",  # ten digits: not even read as a number
        "%",
        "5%%",
        "%5",
        "-5%",
        ".5%",
        "12.%",
        "1.5.5%",
        "12.1234567891%",  # ten decimals
        "nan%",
        "inf%",
        "１２",  # full-width digits
        "٢٠",  # Arabic-Indic digits
    ],
)
def test_text_that_is_not_a_sample_size_is_rejected_naming_the_text(text: str) -> None:
    with pytest.raises(InvalidSampleSize) as raised:
        parse_sample_size(text)
    assert isinstance(raised.value, ValueError)
    assert str(raised.value) == text


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("0", "0"),
        ("000", "0"),
        (str(MAX_COUNT + 1), str(MAX_COUNT + 1)),
        ("999999999", "999999999"),
        ("0%", "0.0%"),
        ("0,0%", "0.0%"),
        ("100.1%", "100.1%"),
        ("101%", "101.0%"),
    ],
)
def test_a_number_out_of_range_is_rejected_naming_the_number(text: str, named: str) -> None:
    with pytest.raises(InvalidSampleSize) as raised:
        parse_sample_size(text)
    assert str(raised.value) == named


def test_a_sample_size_is_a_count_or_a_percentage_never_both_or_neither() -> None:
    with pytest.raises(InvalidSampleSize):
        SampleSize()
    with pytest.raises(InvalidSampleSize):
        SampleSize(count=5, percent=5.0)


@pytest.mark.parametrize("percent", [0.0, -1.0, 100.0001, float("nan"), float("inf")])
def test_an_impossible_percentage_is_rejected_even_when_built_directly(percent: float) -> None:
    with pytest.raises(InvalidSampleSize):
        SampleSize(percent=percent)


@pytest.mark.parametrize("count", [0, -1, MAX_COUNT + 1])
def test_an_impossible_count_is_rejected_even_when_built_directly(count: int) -> None:
    with pytest.raises(InvalidSampleSize):
        SampleSize(count=count)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("20", "20"),
        (" 007 ", "7"),
        ("15 %", "15%"),
        ("10.0%", "10%"),
        ("100%", "100%"),
        ("12,5%", "12.5%"),
        ("0.00001%", "0.00001%"),  # not float's 1e-05%
        ("0.000000001%", "0.000000001%"),
    ],
)
def test_a_sample_size_prints_as_canonical_text(text: str, canonical: str) -> None:
    assert str(parse_sample_size(text)) == canonical


# The settings store str(parse_sample_size(text)) and every round parses that again.
@given(
    whole=st.integers(0, 120),
    decimals=st.text(alphabet="0123456789", max_size=9),
    comma=st.booleans(),
)
def test_a_stored_percentage_parses_back_to_the_same_size(
    whole: int, decimals: str, comma: bool
) -> None:
    number = f"{whole}{',' if comma else '.'}{decimals}" if decimals else str(whole)
    value = Fraction(number.replace(",", "."))
    if not 0 < value <= 100:
        with pytest.raises(InvalidSampleSize):
            parse_sample_size(f"{number}%")
        return
    size = parse_sample_size(f"{number}%")
    canonical = str(size)
    assert parse_sample_size(canonical) == size
    assert Fraction(canonical.removesuffix("%")) == value


@given(st.integers(1, MAX_COUNT))
def test_a_stored_count_parses_back_to_the_same_size(count: int) -> None:
    size = SampleSize(count=count)
    assert parse_sample_size(str(size)) == size


# --- What a size asks of a population -----------------------------------------------------


@pytest.mark.parametrize(
    ("percent", "population", "target"),
    [
        (10.0, 25, 3),  # 2.5: a half rounds up (round() would give 2)
        (10.0, 24, 2),  # 2.4
        (10.0, 26, 3),  # 2.6
        (50.0, 7, 4),  # 3.5
        (12.5, 12, 2),  # 1.5
        (9.2, 375, 35),  # exactly 34.5, but 34.4999… in floats
        (10.0, 5, 1),  # 0.5
        (1.0, 10, 1),  # 0.1: a percentage asks at least one
        (0.00001, 1000, 1),
        (33.3, 3, 1),  # 0.999
        (100.0, 37, 37),
        (20.0, 1_000_000, 200_000),
    ],
)
def test_a_percentage_of_the_population_rounds_half_up_and_asks_at_least_one(
    percent: float, population: int, target: int
) -> None:
    assert SampleSize(percent=percent).target(population) == target


def test_a_percentage_of_nobody_asks_nobody() -> None:
    assert SampleSize(percent=100.0).target(0) == 0


def test_a_count_is_the_target_whatever_the_population() -> None:
    assert SampleSize(count=20).target(3) == 20
    assert SampleSize(count=20).target(0) == 20


@given(st.integers(1, 100 * 10**9), st.integers(0, 10**6))
def test_a_percentage_target_is_the_nearest_whole_number_to_the_exact_share(
    billionths: int, population: int
) -> None:
    # Any percentage an admin can type: up to nine decimals.
    number = f"{billionths // 10**9}.{billionths % 10**9:09d}"
    target = parse_sample_size(f"{number}%").target(population)
    exact = Fraction(number) * population / 100
    if population == 0:
        assert target == 0
    elif exact < Fraction(1, 2):
        assert target == 1
    else:
        assert exact - Fraction(1, 2) < target <= exact + Fraction(1, 2)


# --- The split over segments --------------------------------------------------------------


@pytest.mark.parametrize(
    ("eligible", "size", "split"),
    [
        pytest.param({1: 10, 2: 10}, 4, {1: 2, 2: 2}, id="even"),
        pytest.param({1: 50, 2: 30, 3: 20}, 10, {1: 5, 2: 3, 3: 2}, id="exact-quotas"),
        # Quotas 4.7, 3.3, 2.0: the one spare seat goes to the largest remainder, .7.
        pytest.param({1: 47, 2: 33, 3: 20}, 10, {1: 5, 2: 3, 3: 2}, id="largest-remainder"),
        # Quotas 4.2, 2.1, 0.7: the spare seat goes to the smallest segment, .7 beats .2.
        pytest.param({1: 6, 2: 3, 3: 1}, 7, {1: 4, 2: 2, 3: 1}, id="remainder-not-size"),
        # Quotas 2.8, 2.8, 1.4 of 7: floors 2, 2, 1 leave two seats for the two .8s.
        pytest.param({1: 4, 2: 4, 3: 2}, 7, {1: 3, 2: 3, 3: 1}, id="two-spare-seats"),
        # Quotas 4.5, 3.5, 2.0: equal remainders, the seat goes to more eligible.
        pytest.param({1: 45, 2: 35, 3: 20}, 10, {1: 5, 2: 3, 3: 2}, id="tie-more-eligible"),
        pytest.param({1: 35, 2: 45, 3: 20}, 10, {1: 3, 2: 5, 3: 2}, id="tie-more-eligible-2"),
        # Quotas 1.5, 1.5: equal remainders and sizes, the seat goes to the lower id.
        pytest.param({1: 3, 2: 3}, 3, {1: 2, 2: 1}, id="tie-lower-id"),
        pytest.param({5: 3, 2: 3}, 3, {5: 1, 2: 2}, id="tie-lower-id-not-first-key"),
        # Three quotas of 2/3 and two seats: fewer seats than segments, lowest ids win.
        pytest.param({1: 1, 2: 1, 3: 1}, 2, {1: 1, 2: 1, 3: 0}, id="fewer-seats-than-segments"),
    ],
)
def test_the_sample_is_split_in_proportion_by_largest_remainder(
    eligible: dict[int, int], size: int, split: dict[int, int]
) -> None:
    assert allocate(eligible, size) == split


@pytest.mark.parametrize(
    ("eligible", "size", "split"),
    [
        # Largest remainder gives 3, 0, 0; each small segment takes one from the big one.
        pytest.param({1: 100, 2: 1, 3: 1}, 3, {1: 1, 2: 1, 3: 1}, id="all-seats-taken"),
        # Quotas 9.80, 0.10, 0.10: largest remainder 10, 0, 0, then two seats move.
        pytest.param({1: 100, 2: 1, 3: 1}, 10, {1: 8, 2: 1, 3: 1}, id="two-seats-move"),
        # Quotas 0.5 and 1.5 tie on remainder; more eligible wins it (0, 2); then one moves.
        pytest.param({1: 1, 2: 3}, 2, {1: 1, 2: 1}, id="after-a-tie"),
        # Quotas 2.08, 1.88, 0.04 give 2, 2, 0. Segment 2 is .13 above its quota and segment
        # 1 is .08 below: the seat comes from segment 2, though segment 1 is larger.
        pytest.param({1: 50, 2: 45, 3: 1}, 4, {1: 2, 2: 1, 3: 1}, id="most-above-quota-gives"),
        # Quotas 2.67, 4.67, 0.67 tie three ways; more eligible wins the two spare seats
        # (3, 5, 0). Segments 1 and 2 are both 1/3 above quota: the one with fewer eligible
        # gives.
        pytest.param({1: 4, 2: 7, 3: 1}, 8, {1: 2, 2: 5, 3: 1}, id="equal-excess-fewer-gives"),
        # Quotas 1.90, 1.90, 0.19 give 2, 2, 0; equal excess and size: the larger id gives.
        pytest.param({1: 10, 2: 10, 3: 1}, 4, {1: 2, 2: 1, 3: 1}, id="equal-excess-larger-id"),
    ],
)
def test_every_non_empty_segment_gets_at_least_one_when_the_size_allows(
    eligible: dict[int, int], size: int, split: dict[int, int]
) -> None:
    assert allocate(eligible, size) == split


def test_with_fewer_seats_than_segments_largest_remainder_alone_decides() -> None:
    # Quotas 1.67, 0.17, 0.17: two seats cannot reach three segments, so no seat moves.
    assert allocate({1: 10, 2: 1, 3: 1}, 2) == {1: 2, 2: 0, 3: 0}


def test_a_segment_with_nobody_eligible_gets_nobody() -> None:
    assert allocate({1: 5, 2: 0, 3: 2}, 4) == {1: 3, 2: 0, 3: 1}
    assert allocate({1: 0, 2: 0}, 4) == {1: 0, 2: 0}


def test_a_size_larger_than_the_eligible_population_asks_everyone_eligible() -> None:
    assert allocate({1: 3, 2: 2, 3: 0}, 100) == {1: 3, 2: 2, 3: 0}
    assert allocate({1: 3, 2: 2}, 5) == {1: 3, 2: 2}


@pytest.mark.parametrize("size", [0, -3])
def test_a_size_of_zero_or_less_asks_nobody(size: int) -> None:
    assert allocate({1: 3, 2: 2}, size) == {1: 0, 2: 0}


def test_no_segments_split_into_nothing() -> None:
    assert allocate({}, 10) == {}


def test_a_negative_eligible_count_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate({1: 3, 2: -1}, 2)


eligible_counts = st.dictionaries(st.integers(1, 50), st.integers(0, 500), max_size=8)


def quotas(eligible: dict[int, int], size: int) -> dict[int, Fraction]:
    total = sum(eligible.values())
    seats = max(0, min(size, total))
    return {s: Fraction(seats * n, total) if total else Fraction(0) for s, n in eligible.items()}


@given(eligible_counts, st.integers(-5, 3000))
def test_the_split_asks_exactly_the_size_or_everyone_and_nobody_twice(
    eligible: dict[int, int], size: int
) -> None:
    split = allocate(eligible, size)
    assert split.keys() == eligible.keys()
    assert sum(split.values()) == max(0, min(size, sum(eligible.values())))
    assert all(0 <= split[s] <= n for s, n in eligible.items())
    nonempty = [s for s, n in eligible.items() if n > 0]
    if size >= len(nonempty):
        assert all(split[s] >= 1 for s in nonempty)


@given(eligible_counts, st.integers(0, 3000))
def test_each_segment_is_within_one_of_its_exact_share_unless_a_seat_had_to_move(
    eligible: dict[int, int], size: int
) -> None:
    split = allocate(eligible, size)
    share = quotas(eligible, size)
    nonempty = [s for s, n in eligible.items() if n > 0]
    small = [s for s in nonempty if share[s] < 1]
    for s in eligible:
        # Never more than one above the exact share, the min-one rule included.
        assert split[s] < share[s] + 1
        # Below it only by the seats the min-one rule moved, at most one per small segment.
        assert split[s] > share[s] - 1 - len(small)
    if size < len(nonempty) or not small:
        # No seat moves: plain largest remainder, each the floor or the ceiling of its share.
        assert all(abs(split[s] - share[s]) < 1 for s in eligible)


@given(st.lists(st.integers(0, 6), max_size=4), st.integers(0, 26))
def test_the_split_is_the_one_closest_to_the_exact_shares(counts: list[int], size: int) -> None:
    """Largest remainder, with the min-one rule, minimises the squared distance to the shares."""
    eligible = dict(enumerate(counts, 1))
    share = quotas(eligible, size)
    seats = min(size, sum(counts))
    nonempty = [s for s, n in eligible.items() if n > 0]

    def distance(split: dict[int, int]) -> Fraction:
        return sum(((split[s] - share[s]) ** 2 for s in eligible), Fraction(0))

    feasible = [
        dict(zip(eligible, option, strict=True))
        for option in product(*(range(n + 1) for n in counts))
        if sum(option) == seats
    ]
    if seats >= len(nonempty):
        feasible = [f for f in feasible if all(f[s] >= 1 for s in nonempty)]
    assert distance(allocate(eligible, size)) == min(distance(f) for f in feasible)


# --- Eligibility --------------------------------------------------------------------------


async def test_an_active_customer_never_asked_is_eligible() -> None:
    sample = await draw([candidate(1)])
    assert sample.user_ids == (1,)
    assert sample.skipped == NO_SKIPS


async def test_stopped_and_blocked_customers_are_not_part_of_the_population() -> None:
    sample = await draw(
        [candidate(1), candidate(2, status="stopped"), candidate(3, status="blocked")], "100%"
    )
    assert sample.user_ids == (1,)
    assert sample.strata == (Stratum(1, population=1, eligible=1, invited=1),)
    assert sample.skipped == NO_SKIPS
    assert sample.target == 1  # 100% of one reachable customer


# A pause without an end cannot be stored: the schema requires paused_until for a pause.
@pytest.mark.parametrize(
    "paused_until", [NOW + 1, NOW + 365 * DAY], ids=["a-second-left", "a-year"]
)
async def test_a_paused_customer_is_skipped_as_paused(paused_until: int) -> None:
    sample = await draw([candidate(1, status="paused", paused_until=paused_until), candidate(2)])
    assert sample.user_ids == (2,)
    assert sample.skipped[SkipReason.PAUSED] == 1
    assert sample.strata == (Stratum(1, population=2, eligible=1, invited=1),)


@pytest.mark.parametrize("paused_until", [NOW, NOW - 1], ids=["ends-now", "ended"])
async def test_a_customer_whose_pause_is_over_is_eligible(paused_until: int) -> None:
    sample = await draw([candidate(1, status="paused", paused_until=paused_until)])
    assert sample.user_ids == (1,)
    assert sample.skipped == NO_SKIPS


async def test_a_customer_with_an_open_invitation_is_skipped() -> None:
    sample = await draw([candidate(1, open_invitation=True), candidate(2)])
    assert sample.user_ids == (2,)
    assert sample.skipped[SkipReason.OPEN_INVITATION] == 1


@pytest.mark.parametrize("state", list(CheckinState))
async def test_an_invitation_holds_a_customer_back_while_its_check_in_is_open(
    state: CheckinState,
) -> None:
    people = [candidate(1, open_invitation=True), candidate(2, last_asked_at=NOW - 90 * DAY)]
    sample = await draw_stored(people, SampleSize(count=20), invitation_state=state)
    is_open = state in OPEN_STATES
    assert sample.user_ids == ((2,) if is_open else (1, 2))
    assert sample.skipped[SkipReason.OPEN_INVITATION] == int(is_open)
    assert sample.strata == (Stratum(1, population=2, eligible=2 - is_open, invited=2 - is_open),)


@pytest.mark.parametrize(
    ("last_asked_at", "eligible"),
    [
        (NOW - COOLDOWN, True),  # exactly the cool-down ago: it is over
        (NOW - COOLDOWN - 1, True),
        (NOW - 400 * DAY, True),
        (NOW - COOLDOWN + 1, False),  # one second inside the cool-down
        (NOW - DAY, False),
        (NOW, False),
        (NOW + 60, False),  # a clock that stepped back: still cooling
    ],
    ids=["exactly", "a-second-after", "long-ago", "a-second-inside", "yesterday", "now", "future"],
)
async def test_the_cool_down_ends_exactly_cool_down_seconds_after_the_last_ask(
    last_asked_at: int, eligible: bool
) -> None:
    sample = await draw([candidate(1, last_asked_at=last_asked_at)])
    assert sample.user_ids == ((1,) if eligible else ())
    assert sample.skipped[SkipReason.COOLDOWN] == (0 if eligible else 1)


async def test_without_a_cool_down_someone_asked_this_very_second_is_eligible() -> None:
    assert (await draw([candidate(1, last_asked_at=NOW)], cooldown=0)).user_ids == (1,)


async def test_a_customer_is_skipped_for_the_first_reason_that_applies() -> None:
    cooling = NOW - DAY
    sample = await draw(
        [
            candidate(1, status="paused", open_invitation=True, last_asked_at=cooling),
            candidate(2, open_invitation=True, last_asked_at=cooling),
            candidate(3, last_asked_at=cooling),
        ]
    )
    assert sample.user_ids == ()
    assert sample.skipped == {
        SkipReason.PAUSED: 1,
        SkipReason.OPEN_INVITATION: 1,
        SkipReason.COOLDOWN: 1,
    }


async def test_a_round_for_one_segment_sees_only_that_segment() -> None:
    people = never_asked(range(1, 6), 1) + never_asked(range(6, 9), 2)
    people.append(candidate(9, 2, status="paused"))
    sample = await draw(people, "20", segment_id=2)
    assert sorted(sample.user_ids) == [6, 7, 8]
    assert sample.strata == (Stratum(2, population=4, eligible=3, invited=3),)
    assert sample.skipped[SkipReason.PAUSED] == 1


# --- Sizes in a round ---------------------------------------------------------------------


async def test_a_sample_larger_than_the_eligible_population_asks_everyone_eligible() -> None:
    people = never_asked(range(1, 5), 1) + asked_at(NOW - 90 * DAY, range(5, 8), 2)
    people.append(candidate(8, 2, last_asked_at=NOW - DAY))
    sample = await draw(people, "50")
    assert sorted(sample.user_ids) == list(range(1, 8))
    assert sample.target == 50  # what was asked for, recorded as such
    assert sample.strata == (
        Stratum(1, population=4, eligible=4, invited=4),
        Stratum(2, population=4, eligible=3, invited=3),
    )


async def test_a_percentage_is_of_the_reachable_population_not_of_the_eligible() -> None:
    # 25 reachable: 12 eligible, 8 cooling, 5 paused; 10% of 25 is 2.5, which asks 3.
    people = never_asked(range(1, 13))
    people += asked_at(NOW - DAY, range(13, 21))
    people += [candidate(u, status="paused") for u in range(21, 26)]
    people += [candidate(u, status="stopped") for u in range(26, 40)]
    sample = await draw(people, "10%")
    assert sample.target == 3
    assert len(sample.user_ids) == 3


async def test_a_percentage_of_an_empty_population_asks_nobody() -> None:
    sample = await draw([candidate(1, status="stopped")], "50%")
    assert sample == Sample(user_ids=(), strata=(), skipped=NO_SKIPS, target=0)


async def test_a_round_with_nobody_to_ask_records_the_target_and_no_strata() -> None:
    sample = await draw([], "20")
    assert sample == Sample(user_ids=(), strata=(), skipped=NO_SKIPS, target=20)


async def test_a_round_where_everyone_is_cooling_asks_nobody_and_says_why() -> None:
    sample = await draw(asked_at(NOW - DAY, range(1, 4), 1) + asked_at(NOW - DAY, range(4, 6), 2))
    assert sample.user_ids == ()
    assert sample.strata == (
        Stratum(1, population=3, eligible=0, invited=0),
        Stratum(2, population=2, eligible=0, invited=0),
    )
    assert sample.skipped[SkipReason.COOLDOWN] == 5


# --- The recorded composition -------------------------------------------------------------


async def test_the_round_records_each_segments_population_eligible_and_invited() -> None:
    long_ago, recently = NOW - 90 * DAY, NOW - DAY
    people = [
        *never_asked(range(1, 7), 1),
        candidate(7, 1, status="paused", paused_until=NOW + DAY),
        candidate(8, 1, status="paused"),
        candidate(9, 1, status="stopped"),
        *asked_at(long_ago, range(10, 13), 2),
        *asked_at(recently, range(13, 15), 2),
        candidate(15, 2, open_invitation=True),
        candidate(16, 2, status="blocked"),
        *asked_at(recently, range(17, 19), 3),
    ]
    sample = await draw(people, "5")
    # Eligible 6 and 3 of 9: quotas 3.33 and 1.67, the spare seat to segment 2's .67.
    assert sample.strata == (
        Stratum(1, population=8, eligible=6, invited=3),
        Stratum(2, population=6, eligible=3, invited=2),
        Stratum(3, population=2, eligible=0, invited=0),
    )
    assert sample.skipped == {
        SkipReason.PAUSED: 2,
        SkipReason.OPEN_INVITATION: 1,
        SkipReason.COOLDOWN: 4,
    }
    assert sample.target == 5
    segment_of = {c.user_id: c.segment_id for c in people}
    assert Counter(segment_of[u] for u in sample.user_ids) == {1: 3, 2: 2}


async def test_the_recorded_skips_cannot_be_changed_afterwards() -> None:
    sample = await draw([candidate(1, status="paused")])
    with pytest.raises(TypeError):
        sample.skipped[SkipReason.PAUSED] = 0  # type: ignore[index]


async def test_the_sample_lists_customers_segment_by_segment_in_segment_order() -> None:
    people = (
        never_asked(range(1, 4), 3) + never_asked(range(4, 7), 1) + never_asked(range(7, 9), 2)
    )
    sample = await draw(people, "100%")
    segment_of = {c.user_id: c.segment_id for c in people}
    segments = [segment_of[u] for u in sample.user_ids]
    assert segments == sorted(segments)
    assert [s.segment_id for s in sample.strata] == [1, 2, 3]


# --- The order within a segment -----------------------------------------------------------


async def test_customers_never_asked_go_before_anyone_asked_before() -> None:
    people = asked_at(NOW - 400 * DAY, range(1, 6)) + never_asked(range(6, 9))
    sample = await draw(people, "3")
    assert sorted(sample.user_ids) == [6, 7, 8]


async def test_after_the_never_asked_those_asked_longest_ago_go_first() -> None:
    people = [
        candidate(1, last_asked_at=NOW - 40 * DAY),
        candidate(2, last_asked_at=NOW - 200 * DAY),
        candidate(3),
        candidate(4, last_asked_at=NOW - 31 * DAY),
        candidate(5, last_asked_at=NOW - 90 * DAY),
        candidate(6, last_asked_at=NOW - 60 * DAY),
    ]
    assert (await draw(people, "1")).user_ids == (3,)
    assert (await draw(people, "3")).user_ids == (3, 2, 5)
    assert (await draw(people, "5")).user_ids == (3, 2, 5, 6, 1)


async def test_within_a_segment_the_sample_is_listed_in_priority_order() -> None:
    people = (
        asked_at(NOW - 50 * DAY, range(1, 4))
        + asked_at(NOW - 70 * DAY, range(4, 7))
        + never_asked(range(7, 10))
    )
    sample = await draw(people, "7")
    assert set(sample.user_ids[:3]) == {7, 8, 9}
    assert set(sample.user_ids[3:6]) == {4, 5, 6}
    assert sample.user_ids[6] in {1, 2, 3}


async def test_rounds_rotate_through_a_segment_before_asking_anyone_again() -> None:
    last: dict[int, int | None] = dict.fromkeys(range(1, 13))
    asked: list[set[int]] = []
    for week in range(4):
        now = NOW + week * 7 * DAY
        people = [candidate(u, last_asked_at=when) for u, when in last.items()]
        chosen = (await draw(people, "4", now=now, cooldown=0, seed=week)).user_ids
        asked.append(set(chosen))
        last.update(dict.fromkeys(chosen, now))
    assert set().union(*asked[:3]) == set(range(1, 13))
    assert asked[3] == asked[0]


async def test_equal_claims_are_broken_by_the_seed_reproducibly() -> None:
    people = asked_at(NOW - 90 * DAY, range(1, 21)) + never_asked(range(21, 41), 2)
    first = await draw(people, "6", seed=1)
    assert await draw(people, "6", seed=1) == first
    assert await draw(list(reversed(people)), "6", seed=1) == first
    shuffled = people.copy()
    random.Random(7).shuffle(shuffled)
    assert await draw(shuffled, "6", seed=1) == first


@pytest.mark.parametrize("kind", ["never-asked", "asked-at-the-same-time"])
async def test_another_seed_breaks_equal_claims_differently(kind: str) -> None:
    people = never_asked(range(1, 31)) if kind == "never-asked" else asked_at(0, range(1, 31))
    samples = {(await draw(people, "5", seed=seed)).user_ids for seed in range(5)}
    # Any two of these draws (5 of 30) coincide with a chance of 1 in 142,506.
    assert len({frozenset(s) for s in samples}) == 5


async def test_ties_are_broken_only_among_equals_at_the_cut() -> None:
    # Two oldest are certain; the third seat is drawn among the five asked 60 days ago.
    people = (
        asked_at(NOW - 90 * DAY, range(1, 3))
        + asked_at(NOW - 60 * DAY, range(3, 8))
        + asked_at(NOW - 40 * DAY, range(8, 11))
    )
    thirds = set()
    for seed in range(40):
        chosen = (await draw(people, "3", seed=seed)).user_ids
        assert set(chosen[:2]) == {1, 2}
        thirds.add(chosen[2])
    assert thirds == {3, 4, 5, 6, 7}


async def test_the_draw_in_one_segment_does_not_depend_on_the_others() -> None:
    base = never_asked(range(1, 21), 1) + never_asked(range(21, 41), 2)
    grown = base + asked_at(NOW - 90 * DAY, range(41, 61), 2)
    # Segment 1 has 5 seats either way: 10 * 20/40 and 15 * 20/60.
    first, second = await draw(base, "10", seed=3), await draw(grown, "15", seed=3)
    assert [u for u in first.user_ids if u <= 20] == [u for u in second.user_ids if u <= 20]


def test_the_same_seed_draws_the_same_sample_in_another_process() -> None:
    """A round is reproduced later from its recorded seed, not in the process that drew it."""
    script = (
        "import asyncio, json\n"
        "from bot.common.sample_size import SampleSize\n"
        "from tests.test_sampling import Candidate, draw_stored\n"
        "people = [Candidate(u, u % 3 + 1, 'active', None, (u % 4) * 86400 or None, False)\n"
        "          for u in range(1, 301)]\n"
        "sample = asyncio.run(draw_stored(people, SampleSize(count=40), now=10**9,\n"
        "                                 cooldown=0, seed=123456789))\n"
        "print(json.dumps(sample.user_ids))\n"
    )
    people = [
        Candidate(u, u % 3 + 1, "active", None, (u % 4) * 86400 or None, False)
        for u in range(1, 301)
    ]
    here = asyncio.run(
        draw_stored(people, SampleSize(count=40), now=10**9, cooldown=0, seed=123456789)
    )
    # String hashing is salted per process; the draw must not depend on it.
    for hash_seed in ("0", "4242"):
        result = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        assert tuple(json.loads(result.stdout)) == here.user_ids
    assert len(set(here.user_ids)) == 40


async def test_a_recorded_seed_keeps_drawing_the_sample_it_drew_when_recorded() -> None:
    """Rounds keep their seed to be reproduced: a change to the draw would break old rounds.

    This pins the order of random.Random's draws too, so a Python release that changes
    shuffle or sample fails here first.
    """
    # Per segment: 4 never asked, then runs asked 33, 32, 31 and 30 days ago. Ten seats each:
    # the never-asked in a drawn order, the whole 33-day run shuffled, two of the 32-day run.
    people = [
        candidate(u, u % 3, last_asked_at=(NOW - (30 + u % 4) * DAY) if u % 5 else None)
        for u in range(1, 61)
    ]
    assert (await draw(people, "30", seed=987654321)).user_ids == (
        *(15, 45, 60, 30, 51, 27, 39, 3, 54, 18),
        *(25, 40, 10, 55, 43, 7, 31, 19, 58, 34),
        *(5, 20, 35, 50, 59, 23, 47, 11, 14, 2),
    )
    # Thirty never asked per segment and four seats: drawn among them by place in user-id
    # order, however few of them the round reads.
    people = [
        candidate(u, u % 3, last_asked_at=None if u % 4 else NOW - (40 + u % 8) * DAY)
        for u in range(1, 121)
    ]
    assert (await draw(people, "12", seed=987654321)).user_ids == (
        *(18, 33, 42, 90),
        *(58, 7, 31, 109),
        *(95, 83, 65, 50),
    )


# --- Properties of any round --------------------------------------------------------------

NOTNOW = 14 * DAY
TIMES = [
    None,
    NOW - 400 * DAY,
    NOW - 90 * DAY,
    NOW - 60 * DAY,
    NOW - COOLDOWN - 1,
    NOW - COOLDOWN,
    NOW - COOLDOWN + 1,
    NOW - NOTNOW,
    NOW - NOTNOW + 1,
    NOW - DAY,
    NOW,
]


@st.composite
def populations(draw: st.DrawFn) -> list[Candidate]:
    """Reachable and unreachable customers in four segments, each as the schema allows: a
    pause has an end; some chose their own cool-down, some said "Not now" (to their last
    check-in or an earlier one)."""
    people = []
    ids = draw(st.lists(st.integers(1, 2**40), max_size=60, unique=True))
    for user_id in ids:
        status = draw(st.sampled_from(["active", "active", "active", "paused", "stopped"]))
        last = draw(st.sampled_from(TIMES))
        declined = draw(st.sampled_from([None, None, 0, 1, -1]))
        people.append(
            Candidate(
                user_id,
                segment_id=draw(st.integers(1, 4)),
                status=status
                if status != "stopped"
                else draw(st.sampled_from(["stopped", "blocked"])),
                paused_until=draw(st.sampled_from([NOW - 1, NOW, NOW + 1]))
                if status == "paused"
                else None,
                last_asked_at=last,
                has_open_invitation=draw(st.booleans()),
                cooldown_days=draw(st.sampled_from([None, None, None, 10, 45])),
                # "Not now" at the moment they were last asked, a second after or before it.
                declined_at=None if declined is None or last is None else last + declined,
            )
        )
    return people


sizes = st.one_of(
    st.integers(1, 70).map(lambda n: SampleSize(count=n)),
    st.sampled_from([0.5, 5.0, 10.0, 12.5, 33.3, 50.0, 99.9, 100.0]).map(
        lambda p: SampleSize(percent=p)
    ),
)


def cooldown(c: Candidate) -> int:
    """The cool-down the rules give this customer, with `NOTNOW` for "Not now"."""
    if c.cooldown_days is not None:
        return max(COOLDOWN, c.cooldown_days * DAY)
    said_not_now = c.declined_at is not None and c.last_asked_at is not None
    if said_not_now and c.declined_at >= c.last_asked_at:  # type: ignore[operator]
        return min(COOLDOWN, NOTNOW)
    return COOLDOWN


def reason(c: Candidate) -> SkipReason | None:
    """Why the rules leave a reachable customer out, or None when they are eligible.

    Only for active and paused customers: stopped and blocked ones are not in the population.
    """
    assert c.status in ("active", "paused")
    if c.status == "paused" and (c.paused_until is None or c.paused_until > NOW):
        return SkipReason.PAUSED
    if c.has_open_invitation:
        return SkipReason.OPEN_INVITATION
    if c.last_asked_at is not None and c.last_asked_at > NOW - cooldown(c):
        return SkipReason.COOLDOWN
    return None


def priority(c: Candidate) -> tuple[int, int]:
    return (0, 0) if c.last_asked_at is None else (1, c.last_asked_at)


async def draw_from(
    people: list[Candidate], size: SampleSize, seed: int, segment_id: int | None = None
) -> Sample:
    return await draw_stored(people, size, seed=seed, segment_id=segment_id, notnow=NOTNOW)


def reachable_in(people: list[Candidate], segment_id: int | None) -> list[Candidate]:
    """The population a round draws from: active and paused, in its segment if it has one."""
    return [
        c
        for c in people
        if c.status in ("active", "paused") and segment_id in (None, c.segment_id)
    ]


segments_or_all = st.none() | st.integers(1, 4)


@settings(deadline=None)  # each example opens a database
@given(populations(), sizes, st.integers(0, 2**56), segments_or_all)
async def test_any_round_asks_as_many_as_it_can_never_twice_and_only_the_eligible(
    people: list[Candidate], size: SampleSize, seed: int, segment_id: int | None
) -> None:
    sample = await draw_from(people, size, seed, segment_id)
    reachable = reachable_in(people, segment_id)
    eligible = {c.user_id for c in reachable if reason(c) is None}
    assert sample.target == size.target(len(reachable))
    assert len(sample.user_ids) == min(sample.target, len(eligible))
    assert len(set(sample.user_ids)) == len(sample.user_ids)
    assert set(sample.user_ids) <= eligible


@settings(deadline=None)  # each example opens a database
@given(populations(), sizes, st.integers(0, 2**56), segments_or_all)
async def test_any_round_records_its_composition_against_the_population(
    people: list[Candidate], size: SampleSize, seed: int, segment_id: int | None
) -> None:
    sample = await draw_from(people, size, seed, segment_id)
    reachable = reachable_in(people, segment_id)
    segment_of = {c.user_id: c.segment_id for c in people}
    invited = Counter(segment_of[u] for u in sample.user_ids)
    expected = tuple(
        Stratum(
            s,
            population=sum(c.segment_id == s for c in reachable),
            eligible=sum(c.segment_id == s and reason(c) is None for c in reachable),
            invited=invited[s],
        )
        for s in sorted({c.segment_id for c in reachable})
    )
    assert sample.strata == expected
    reasons = Counter(reason(c) for c in reachable)
    assert sample.skipped == {r: reasons[r] for r in SkipReason}


@settings(deadline=None)  # each example opens a database
@given(populations(), sizes, st.integers(0, 2**56))
async def test_any_round_splits_its_seats_within_one_of_each_segments_share(
    people: list[Candidate], size: SampleSize, seed: int
) -> None:
    sample = await draw_from(people, size, seed)
    eligible = {s.segment_id: s.eligible for s in sample.strata}
    share = quotas(eligible, sample.target)
    nonempty = [s for s, n in eligible.items() if n > 0]
    small = [s for s in nonempty if share[s] < 1]
    seats = sum(s.invited for s in sample.strata)
    for stratum in sample.strata:
        assert stratum.invited < share[stratum.segment_id] + 1
        if seats < len(nonempty) or not small:
            assert abs(stratum.invited - share[stratum.segment_id]) < 1
        if seats >= len(nonempty) and stratum.eligible:
            assert stratum.invited >= 1


@settings(deadline=None)  # each example opens a database
@given(populations(), sizes, st.integers(0, 2**56))
async def test_any_round_asks_nobody_while_someone_in_their_segment_waited_longer(
    people: list[Candidate], size: SampleSize, seed: int
) -> None:
    sample = await draw_from(people, size, seed)
    chosen = set(sample.user_ids)
    by_id = {c.user_id: c for c in people}
    reachable = reachable_in(people, None)
    for segment in {c.segment_id for c in reachable}:
        eligible = [c for c in reachable if c.segment_id == segment and reason(c) is None]
        taken = [priority(c) for c in eligible if c.user_id in chosen]
        left = [priority(c) for c in eligible if c.user_id not in chosen]
        if taken and left:
            assert max(taken) <= min(left)
        listed = [priority(by_id[u]) for u in sample.user_ids if by_id[u].segment_id == segment]
        assert listed == sorted(listed)


@settings(deadline=None)  # each example opens a database
@given(populations(), sizes, st.integers(0, 2**56), st.randoms(use_true_random=False))
async def test_any_round_drawn_again_with_the_same_seed_is_the_same_in_any_input_order(
    people: list[Candidate], size: SampleSize, seed: int, rng: random.Random
) -> None:
    first = await draw_from(people, size, seed)
    shuffled = people.copy()
    rng.shuffle(shuffled)
    assert await draw_from(shuffled, size, seed) == first


# --- A customer's own cool-down (/frequency) and "Not now" --------------------------------


def own(
    user_id: int,
    *,
    last_asked_at: int,
    cooldown_days: int | None = None,
    declined_at: int | None = None,
) -> Candidate:
    return Candidate(user_id, 1, "active", None, last_asked_at, False, cooldown_days, declined_at)


async def draw_with_not_now(
    candidates: Sequence[Candidate],
    cooldown: int = COOLDOWN,
    *,
    now: int = NOW,
    notnow: int | None = NOTNOW,
) -> Sample:
    return await draw_stored(
        candidates, SampleSize(count=20), now=now, cooldown=cooldown, notnow=notnow
    )


async def assert_cool_down_is(
    expected: int,
    last_asked_at: int,
    *,
    cooldown_days: int | None = None,
    declined_at: int | None = None,
    cooldown: int = COOLDOWN,
    notnow: int | None = NOTNOW,
) -> None:
    """The customer may be asked exactly `expected` seconds after they were last asked, and
    not a second sooner."""
    customer = own(1, last_asked_at=last_asked_at, cooldown_days=cooldown_days)
    customer = customer._replace(declined_at=declined_at)
    over = last_asked_at + expected
    for now, due in ((over, True), (over - 1, False)):
        sample = await draw_with_not_now([customer], cooldown, now=now, notnow=notnow)
        assert sample.user_ids == ((1,) if due else ()), f"{now - last_asked_at} s after"
        assert sample.skipped[SkipReason.COOLDOWN] == (0 if due else 1)


@pytest.mark.parametrize(
    ("cooldown_days", "global_seconds", "expected"),
    [
        (None, COOLDOWN, COOLDOWN),  # nothing of their own: the global one
        (60, COOLDOWN, 60 * DAY),  # asked to be asked less often
        (10, COOLDOWN, COOLDOWN),  # never shorter than the global one
        (60, 90 * DAY, 90 * DAY),  # a global one raised later wins
    ],
)
async def test_a_customers_own_cool_down_is_the_longer_of_theirs_and_the_global_one(
    cooldown_days: int | None, global_seconds: int, expected: int
) -> None:
    await assert_cool_down_is(
        expected, NOW - DAY, cooldown_days=cooldown_days, cooldown=global_seconds
    )


@pytest.mark.parametrize(
    ("declined_at", "notnow", "expected"),
    [
        (NOW - 39 * DAY, NOTNOW, NOTNOW),  # "Not now" to the last check-in
        (NOW - 40 * DAY, NOTNOW, NOTNOW),  # pressed the moment it was asked
        (NOW - 41 * DAY, NOTNOW, COOLDOWN),  # to an earlier check-in: this one counts fully
        (NOW - 39 * DAY, None, COOLDOWN),  # no Not-now cool-down given
        (NOW - 39 * DAY, 60 * DAY, COOLDOWN),  # never longer than the cool-down
    ],
    ids=["last", "at-once", "earlier", "unset", "longer"],
)
async def test_not_now_to_the_last_check_in_starts_a_shorter_cool_down_of_its_own(
    declined_at: int, notnow: int | None, expected: int
) -> None:
    await assert_cool_down_is(expected, NOW - 40 * DAY, declined_at=declined_at, notnow=notnow)


async def test_a_customers_own_frequency_is_not_shortened_by_not_now() -> None:
    await assert_cool_down_is(
        60 * DAY, NOW - 20 * DAY, cooldown_days=60, declined_at=NOW - 20 * DAY
    )


async def test_a_round_asks_after_not_now_sooner_and_after_a_chosen_frequency_later() -> None:
    fifteen_days_ago = NOW - 15 * DAY
    sample = await draw_with_not_now(
        [
            own(1, last_asked_at=fifteen_days_ago, declined_at=fifteen_days_ago + 60),
            own(2, last_asked_at=fifteen_days_ago),
            own(3, last_asked_at=NOW - 40 * DAY),
            own(4, last_asked_at=NOW - 40 * DAY, cooldown_days=60),
            own(5, last_asked_at=NOW - 61 * DAY, cooldown_days=60),
            own(6, last_asked_at=NOW - 13 * DAY, declined_at=NOW - 13 * DAY),
        ]
    )
    assert sorted(sample.user_ids) == [1, 3, 5]
    assert sample.skipped[SkipReason.COOLDOWN] == 3


async def test_a_round_without_a_not_now_cool_down_keeps_the_global_one_for_everyone() -> None:
    declined = own(1, last_asked_at=NOW - 15 * DAY, declined_at=NOW - 15 * DAY)
    assert (await draw([declined])).user_ids == ()
