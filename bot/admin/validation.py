"""Checks on the settings as a whole, after one of them changed: what a single argument
cannot show (a reminder after expiry, a schedule in an hour a clock change skips)."""

from __future__ import annotations

from collections.abc import Set
from datetime import datetime

from bot.common.parsing import InvalidArgument
from bot.common.schedule import first_clash
from storage.runtime_settings import RuntimeSettings


def check(config: RuntimeSettings, touched: Set[str], configured_zone: str, now: datetime) -> None:
    """Raises InvalidArgument naming the first thing that makes `config` unusable.

    Only what the `touched` fields take part in is checked, so a problem that was there
    before (a PULSE_TIMEZONE changed under a schedule) never blocks an unrelated change.
    """
    reminder = config.reminder_hours
    timing = touched & {"reminder_hours", "expiry_hours"}
    if timing and reminder is not None and reminder >= config.expiry_hours:
        raise InvalidArgument(
            "reminder_after_expiry", reminder=reminder, expiry=config.expiry_hours
        )
    zone = config.zone_name(configured_zone)
    schedules = (
        ("checkin", config.checkin_days, config.checkin_time, {"checkin_days", "checkin_time"}),
        ("digest", (config.digest_day,), config.digest_time, {"digest_day", "digest_time"}),
    )
    for kind, days, at, fields in schedules:
        if not touched & (fields | {"timezone"}):
            continue
        clash = first_clash(days, at, zone, now)
        if clash is not None:
            raise InvalidArgument(
                f"dst_{clash.kind}", schedule=kind, time=at, day=clash.day, zone=zone
            )
