"""Quiet hours: when Pulse sends nothing unprompted, and when that ends."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


class InvalidTime(ValueError):
    """Not a time of day written as HH:MM (00:00 to 23:59)."""


def parse_hhmm(text: str) -> time:
    """The time of day in `HH:MM`; raises InvalidTime."""
    try:
        hours, minutes = text.strip().split(":")
        if len(hours) not in (1, 2) or len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError:
        raise InvalidTime(text) from None


def quiet_until(
    moment: datetime, zone: ZoneInfo, start: str | None, end: str | None
) -> datetime | None:
    """When the quiet hours around `moment` end, or None when `moment` is not in them.

    The window may cross midnight (20:00–09:00). Times are local to `zone`; the result is
    in the same zone, on the day the window ends.
    """
    if start is None or end is None:
        return None
    begin, finish = parse_hhmm(start), parse_hhmm(end)
    if begin == finish:
        return None
    local = moment.astimezone(zone)
    now = local.time()
    if begin < finish:
        inside = begin <= now < finish
        end_day = local.date()
    else:
        inside = now >= begin or now < finish
        end_day = local.date() + timedelta(days=1) if now >= begin else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, finish, tzinfo=zone)
