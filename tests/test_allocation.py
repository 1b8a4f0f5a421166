"""The split of a round by expected answers (issue 18): pure on plain counts, then through
the real draw and the real round on a migrated SQLite database, where the cool-down rules
and the response history are read."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.checkins.allocation import (
    MIN_EXPECTED_ANSWERS,
    ResponseRates,
    allocate_by_answers,
    estimate_rates,
    split_in_proportion,
)
from bot.checkins.rounds import start_round
from bot.clock import epoch
from bot.common.sample_size import parse_sample_size
from storage import segment_stats
from storage.db import Database
from storage.segment_stats import ResponseCounts
from tests.test_sampling import DAY, NOW, asked_at, draw_stored, never_asked


def rates(**by_segment: float) -> ResponseRates:
    return ResponseRates(MappingProxyType({int(k[1:]): v for k, v in by_segment.items()}))


def test_a_segment_that_answers_less_is_asked_more_so_its_answers_follow_its_share() -> None:
    # Equal shares; one answers at 60 %, the other at 20 %: 5 and 15 invitations expect
    # 3 answers each, where a split by customers (10 and 10) would expect 6 and 2.
    split = allocate_by_answers({1: 50, 2: 50}, {1: 50, 2: 50}, rates(s1=0.6, s2=0.2), 20)
    assert split == {1: 5, 2: 15}


def test_the_extra_asking_never_goes_past_the_customers_who_are_due() -> None:
    # Segment 2 would want 15 but only 4 are out of their cool-down: the rest go to segment 1.
    split = allocate_by_answers({1: 50, 2: 50}, {1: 50, 2: 4}, rates(s1=0.6, s2=0.2), 20)
    assert split == {1: 16, 2: 4}


def test_every_segment_is_asked_enough_to_expect_its_minimum_of_answers() -> None:
    # 3 % of the base would get 0.6 of 20 seats; at a 50 % rate it needs 4 for 2 answers.
    split = allocate_by_answers({1: 970, 2: 30}, {1: 970, 2: 30}, rates(s1=0.5, s2=0.5), 20)
    assert split == {1: 16, 2: 4}
    assert split[2] * 0.5 >= MIN_EXPECTED_ANSWERS


def test_the_minimum_asks_no_more_than_the_segment_has_due() -> None:
    split = allocate_by_answers({1: 970, 2: 30}, {1: 970, 2: 2}, rates(s1=0.5, s2=0.5), 20)
    assert split == {1: 18, 2: 2}


def test_when_the_minimums_do_not_fit_each_segment_still_gets_one_where_the_size_allows() -> None:
    # 2 answers at 10 % need 20 invitations per segment: 40 do not fit in 20.
    split = allocate_by_answers({1: 990, 2: 10}, {1: 990, 2: 10}, rates(s1=0.1, s2=0.1), 20)
    assert split == {1: 19, 2: 1}
    assert allocate_by_answers({1: 5, 2: 5, 3: 5}, {1: 5, 2: 5, 3: 5}, rates(), 2) in (
        {1: 1, 2: 1, 3: 0},
        {1: 1, 2: 0, 3: 1},
        {1: 0, 2: 1, 3: 1},
    )


@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60), st.floats(0.02, 1)), max_size=5),
    st.integers(0, 150),
)
def test_any_split_asks_the_size_or_everyone_due_and_nobody_beyond_their_segment(
    segments: list[tuple[int, int, float]], size: int
) -> None:
    population = {k: max(p, e) for k, (p, e, _) in enumerate(segments)}
    eligible = {k: e for k, (_, e, _) in enumerate(segments)}
    expected = ResponseRates(MappingProxyType({k: r for k, (_, _, r) in enumerate(segments)}))
    split = allocate_by_answers(population, eligible, expected, size)
    assert sum(split.values()) == min(size, sum(eligible.values()))
    assert all(0 <= split[k] <= eligible[k] for k in eligible)


def test_strata_share_seats_in_proportion_by_largest_remainder_without_a_minimum() -> None:
    assert split_in_proportion([300, 100], [40, 40], 20) == [15, 5]
    assert split_in_proportion([300, 100], [10, 40], 20) == [10, 10]
    # 1 % of 10 seats is 0.1: no seat, as the issue wants the split proportional.
    assert split_in_proportion([990, 10], [50, 50], 10) == [10, 0]


@given(
    st.lists(st.tuples(st.integers(0, 500), st.integers(0, 60)), max_size=6),
    st.integers(0, 150),
)
def test_any_stratum_split_asks_the_size_or_everyone_due_and_nobody_beyond_a_stratum(
    strata: list[tuple[int, int]], size: int
) -> None:
    caps = [n for _, n in strata]
    split = split_in_proportion([w for w, _ in strata], caps, size)
    assert sum(split) == min(size, sum(caps))
    assert all(0 <= k <= n for k, n in zip(split, caps, strict=True))


def test_rates_start_at_the_overall_rate_and_move_to_a_segments_own() -> None:
    found = estimate_rates(
        [ResponseCounts(1, invited=90, scored=54), ResponseCounts(2, invited=10, scored=1)]
    )
    # Overall (55 + 10 × .5) / (100 + 10) = .5455; each segment shrunk towards it by 10.
    assert found.default == pytest.approx(60 / 110)
    assert found.of(1) == pytest.approx((54 + 10 * 60 / 110) / 100)
    assert found.of(2) == pytest.approx((1 + 10 * 60 / 110) / 20)
    assert found.of(3) == found.default  # a new segment
    assert estimate_rates([]).default == pytest.approx(0.5)


async def test_the_draw_gives_a_low_response_segment_more_invitations_within_its_cool_down() -> (
    None
):
    people = [
        *never_asked(range(1, 41), 1),
        *never_asked(range(41, 47), 2),  # 6 due in segment 2
        *asked_at(NOW - DAY, range(47, 81), 2),  # 34 still cooling
    ]
    sample = await draw_stored(people, parse_sample_size("12"), rates=rates(s1=0.6, s2=0.2))
    by_segment = {s.segment_id: s for s in sample.strata}
    # Equal shares (40 and 40): 12 split 3 : 9 by answers, but only 6 of segment 2 are due.
    assert (by_segment[1].invited, by_segment[2].invited) == (6, 6)
    assert by_segment[2].rate == pytest.approx(0.2)
    assert by_segment[1].expected_answers == pytest.approx(3.6)
    # Split by due customers instead (before issue 18): 40 : 6.
    before = await draw_stored(people, parse_sample_size("12"))
    assert [s.invited for s in before.strata] == [10, 2]
    assert {s.rate for s in before.strata} == {None}


async def test_a_round_reads_the_response_of_the_last_90_days_and_splits_by_it(
    db: Database,
) -> None:
    """Earlier check-ins in the database: segment 1 scored 8 of 10, segment 2 one of 10; an
    invitation of yesterday (perhaps still open) and one older than 90 days do not count."""
    now = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
    stamp = epoch(now)

    def record_history(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO segments (id, name, created_at) VALUES (2, 'b', 0)")
        conn.executemany(
            "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id, status,"
            " consented_at, enrolled_at, updated_at, last_asked_at)"
            " VALUES (?, ?, 'C', 'en', ?, 'active', 0, 0, 0, ?)",
            [(u, u, 1 if u <= 50 else 2, stamp - 40 * DAY) for u in range(1, 101)],
        )
        conn.execute(
            "INSERT INTO rounds (id, schedule, scheduled_for, started_at, sample_size, target,"
            " seed) VALUES (1, 'earlier', 0, 0, '20', 20, 0)"
        )
        earlier = stamp - 40 * DAY
        rows = [
            (u, 1 if u <= 50 else 2, earlier, earlier + 3 * DAY, score)
            for u, score in [(u, 4 if u <= 8 else None) for u in range(1, 11)]
            + [(u, 2 if u == 51 else None) for u in range(51, 61)]
        ]
        rows.append((61, 2, stamp - DAY, stamp + 2 * DAY, None))  # still open
        rows.append((62, 2, stamp - 100 * DAY, stamp - 97 * DAY, None))  # too long ago
        conn.executemany(
            "INSERT INTO invitations (round_id, user_id, chat_id, segment_id, language, state,"
            " delivery, created_at, send_after, expires_at, score, answered_at)"
            " VALUES (1, ?1, ?1, ?2, 'en', 'expired', 'sent', ?3, ?3, ?4, ?5,"
            " CASE WHEN ?5 IS NULL THEN NULL ELSE ?3 + 60 END)",
            rows,
        )
        conn.execute("UPDATE invitations SET state = 'asked_score' WHERE user_id = 61")

    await db.write(record_history)
    history = await db.read(
        lambda conn: segment_stats.response_history(conn, stamp, 90, settled_hours=96)
    )
    assert history == [ResponseCounts(1, 10, 8), ResponseCounts(2, 10, 1)]
    started = await start_round(
        db, schedule="checkin", scheduled_for=stamp, now=now, zone_name="UTC"
    )
    assert started is not None
    by_segment = {s.segment_id: s for s in started.sample.strata}
    # Overall 9 + 5 of 30 = .4667; segment 1 (8 + 4.667) / 20 = .633, segment 2 .283.
    assert by_segment[1].rate == pytest.approx(0.6333, abs=1e-3)
    assert by_segment[2].rate == pytest.approx(0.2833, abs=1e-3)
    # Equal shares, so invitations go 0.283 : 0.633 (one customer of segment 2 has one open).
    assert (by_segment[1].invited, by_segment[2].invited) == (6, 14)
