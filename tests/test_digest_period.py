"""Which days a digest covers, across weekdays and daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.digest.period import rolling_period, scheduled_period, week_bounds

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_the_scheduled_digest_covers_the_seven_days_before_its_time() -> None:
    # Wednesday 25 November 2026: the latest Monday 09:00 in Amsterdam is the 23rd, 08:00 UTC.
    period = scheduled_period("mon", "09:00", AMSTERDAM, datetime(2026, 11, 25, 12, tzinfo=UTC))
    assert period.end == datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert period.start == datetime(2026, 11, 16, 8, tzinfo=UTC)


def test_at_the_digest_time_itself_that_digest_is_due() -> None:
    now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert scheduled_period("mon", "09:00", AMSTERDAM, now).end == now
    earlier = scheduled_period("mon", "09:00", AMSTERDAM, now - timedelta(seconds=1))
    assert earlier.end == datetime(2026, 11, 16, 8, tzinfo=UTC)


def test_weeks_ago_steps_back_one_digest_at_a_time() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    two_back = scheduled_period("mon", "09:00", AMSTERDAM, now, weeks_ago=2)
    assert two_back.end == datetime(2026, 11, 9, 8, tzinfo=UTC)
    assert two_back.start == datetime(2026, 11, 2, 8, tzinfo=UTC)


def test_a_week_across_the_spring_change_is_seven_days_on_the_wall_clock() -> None:
    # Clocks go forward on Sunday 29 March 2026: Monday 09:00 is 08:00 UTC before, 07:00 after.
    period = scheduled_period("mon", "09:00", AMSTERDAM, datetime(2026, 3, 30, 10, tzinfo=UTC))
    assert period.start == datetime(2026, 3, 23, 8, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 30, 7, tzinfo=UTC)
    # (Subtracting two datetimes of one zone gives the wall-clock difference: use epochs.)
    assert period.end.timestamp() - period.start.timestamp() == 167 * 3600


def test_the_rolling_period_is_the_last_seven_days() -> None:
    now = datetime(2026, 11, 25, 12, 34, tzinfo=UTC)
    period = rolling_period(now, AMSTERDAM)
    assert period.end == now
    assert period.start == now - timedelta(days=7)


def test_the_trend_window_ends_with_the_period_itself() -> None:
    period = scheduled_period("mon", "09:00", AMSTERDAM, datetime(2026, 11, 25, 12, tzinfo=UTC))
    bounds = week_bounds(period, AMSTERDAM)
    assert len(bounds) == 13
    assert bounds[-2:] == [period.start, period.end]
    assert all(b.astimezone(AMSTERDAM).hour == 9 for b in bounds)
    assert bounds == sorted(bounds)
