"""Weekly schedules in a time zone: the next times they run, and daylight-saving clashes.

Pure functions of plain data. A schedule whose time falls in the hour a daylight-saving
change skips or repeats is refused rather than guessed at: the cron trigger would run it
at a time nobody chose (skipped) or twice (repeated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.common.parsing import WEEKDAYS

# Far enough ahead to meet both of a year's daylight-saving changes on any weekday.
HORIZON_DAYS = 400


@dataclass(frozen=True)
class DstClash:
    """A scheduled local time that does not exist (skipped) or exists twice (repeated)."""

    day: date
    kind: Literal["skipped", "repeated"]
    at: time
    zone: str


def hhmm(text: str) -> time:
    """The time of a canonical `HH:MM` string."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def clash_on(day: date, at: time, zone: ZoneInfo) -> Literal["skipped", "repeated"] | None:
    """Whether `at` on `day` is skipped or repeated by a daylight-saving change in `zone`."""
    moment = _local(day, at, zone)
    back = moment.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != moment.replace(tzinfo=None):
        return "skipped"
    if moment.replace(fold=0).utcoffset() != moment.replace(fold=1).utcoffset():
        return "repeated"
    return None


def first_clash(days: tuple[str, ...], at: str, zone_name: str, now: datetime) -> DstClash | None:
    """The first scheduled day within the horizon on which the time is skipped or repeated."""
    zone = ZoneInfo(zone_name)
    local_time = hhmm(at)
    today = now.astimezone(zone).date()
    for offset in range(HORIZON_DAYS):
        day = today + timedelta(days=offset)
        if WEEKDAYS[day.weekday()] not in days:
            continue
        kind = clash_on(day, local_time, zone)
        if kind is not None:
            return DstClash(day, kind, local_time, zone_name)
    return None


def next_runs(
    days: tuple[str, ...], at: str, zone_name: str, now: datetime, count: int
) -> list[datetime]:
    """The next `count` times after `now` the schedule runs, in the schedule's zone."""
    if not days:
        return []
    zone = ZoneInfo(zone_name)
    local_time = hhmm(at)
    runs: list[datetime] = []
    day = now.astimezone(zone).date()
    while len(runs) < count:
        if WEEKDAYS[day.weekday()] in days:
            # Through UTC and back: a skipped time comes out as the wall clock shows it.
            moment = _local(day, local_time, zone).astimezone(UTC).astimezone(zone)
            if moment > now:
                runs.append(moment)
        day += timedelta(days=1)
    return runs


def compact_days(days: tuple[str, ...]) -> list[tuple[str, str]]:
    """Weekdays as runs of consecutive days: (mon, fri) for mon-fri, (tue, tue) for tue."""
    runs: list[tuple[str, str]] = []
    indexes = sorted(WEEKDAYS.index(day) for day in days)
    for index in indexes:
        if runs and WEEKDAYS.index(runs[-1][1]) == index - 1:
            runs[-1] = (runs[-1][0], WEEKDAYS[index])
        else:
            runs.append((WEEKDAYS[index], WEEKDAYS[index]))
    return runs
