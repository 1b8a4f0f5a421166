"""Which days a digest covers: the week before a scheduled digest time, the rolling last
seven days, and the weekly bounds of the trend window. Pure functions of plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.common.parsing import WEEKDAYS
from bot.common.schedule import hhmm

# The chart and the coverage warnings look back this many weeks (the period included).
TREND_WEEKS = 12


@dataclass(frozen=True)
class Period:
    """[start, end): the days a digest covers, timezone-aware."""

    start: datetime
    end: datetime


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    # Through UTC and back: a time a daylight-saving change skips comes out as the wall
    # clock shows it, so each week's bound is a real instant.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).astimezone(zone)


def weeks_before(end: datetime, weeks: int, zone: ZoneInfo) -> datetime:
    """The same local weekday and time `weeks` weeks before `end` (7 days on the wall
    clock, so 167 or 169 hours across a daylight-saving change)."""
    local = end.astimezone(zone)
    return _local(local.date() - timedelta(weeks=weeks), local.time(), zone)


def latest_occurrence(day: str, at: str, zone: ZoneInfo, now: datetime) -> datetime:
    """The latest scheduled digest time at or before `now` (within the past week)."""
    local_time = hhmm(at)
    today = now.astimezone(zone).date()
    for days_back in range(8):
        candidate = today - timedelta(days=days_back)
        if WEEKDAYS[candidate.weekday()] != day:
            continue
        moment = _local(candidate, local_time, zone)
        if moment <= now:
            return moment
    raise ValueError(f"no {day} in the week before {now}")  # unreachable for a weekday


def scheduled_period(
    day: str, at: str, zone: ZoneInfo, now: datetime, weeks_ago: int = 0
) -> Period:
    """The week a scheduled digest covers: the 7 days before its time; `weeks_ago` 0 is the
    latest digest due by `now`, 1 the one before it."""
    end = weeks_before(latest_occurrence(day, at, zone, now), weeks_ago, zone)
    return Period(weeks_before(end, 1, zone), end)


def rolling_period(now: datetime, zone: ZoneInfo) -> Period:
    """The last seven days up to `now`, for a digest asked for on demand."""
    return Period(weeks_before(now, 1, zone), now.astimezone(zone))


def week_bounds(period: Period, zone: ZoneInfo, weeks: int = TREND_WEEKS) -> list[datetime]:
    """`weeks + 1` instants, oldest first: the bounds of the trend window's weeks, the last
    week being the period itself."""
    return [weeks_before(period.end, back, zone) for back in range(weeks, 0, -1)] + [
        period.end.astimezone(zone)
    ]
