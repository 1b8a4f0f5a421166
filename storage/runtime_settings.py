"""Runtime settings: what admins change by command, stored as JSON, with Pulse's defaults."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal
from zoneinfo import ZoneInfo

from storage import audit
from storage.db import fetch_all


@dataclass(frozen=True)
class Count:
    """A setting that is a whole number of days or hours, from `low` to `high` (or off, stored
    as None, when `can_be_off`), with an admin command of its own named for it: the field
    without its unit (`cooldown_days` is set by /cooldown and shown as "cooldown"). Such a
    setting is declared by its field alone; its command, parsing, /settings line and
    permission test are derived from it (`bot.commands`, `bot.common.display`)."""

    unit: Literal["days", "hours"]
    low: int
    high: int
    can_be_off: bool = False

    def name(self, field_name: str) -> str:
        """The command (and /settings line) of the field: its name without the unit."""
        return field_name.removesuffix(f"_{self.unit}")


def _count(
    default: int | None, unit: Literal["days", "hours"], low: int, high: int, *, off: bool = False
) -> Any:
    return field(default=default, metadata={"count": Count(unit, low, high, off)})


@dataclass(frozen=True)
class RuntimeSettings:
    """Every runtime setting; a value not stored in the database is the default here. In the
    order /settings shows them."""

    checkin_days: tuple[str, ...] = ("tue",)
    checkin_time: str = "10:00"
    checkins_paused: bool = False
    sample_size: str = "20"
    # An attribute of the imported base each segment's invitations are split by, in
    # proportion to its values there (None: not split within segments).
    sample_by: str | None = None
    cooldown_days: int = _count(30, "days", 0, 365)
    # After "Not now" a customer may be asked again this many days after that check-in
    # (never later than the cool-down).
    notnow_days: int = _count(14, "days", 1, 365)
    # Free-text answers older than this many days are deleted by the upkeep; None: kept. At
    # least a month: the digests that quote them must have been sent.
    retention_days: int | None = _count(365, "days", 30, 3650, off=True)
    reminder_hours: int | None = _count(24, "hours", 1, 24 * 30, off=True)
    expiry_hours: int = _count(72, "hours", 1, 24 * 30)
    quiet_start: str | None = "20:00"
    quiet_end: str | None = "09:00"
    # The IANA time zone of schedules and quiet hours; None: the configured PULSE_TIMEZONE.
    timezone: str | None = None
    # The weekly staff digest: one weekday name and a local time; it covers the 7 days before.
    digest_day: str = "mon"
    digest_time: str = "09:00"
    # How long after a missed scheduled round (the bot was down) it is still run.
    catch_up_hours: int = 12
    # Messages per second overall, conversation and bulk together; Telegram allows about 30.
    send_rate: float = 30.0
    # Seconds between two messages to one chat; Telegram allows about one a second.
    chat_interval: float = 1.0
    # The team is alerted when a customer scores this or lower (None: only when a customer
    # asks to be contacted, which always alerts).
    alert_score: int | None = 2
    # Staff quiet hours, "HH:MM-HH:MM" local: alerts wait until they end; None: any hour.
    alert_quiet: str | None = None

    def zone_name(self, configured: str) -> str:
        """The time zone schedules and quiet hours follow: this setting, else `configured`."""
        return self.timezone or configured

    def zone(self, configured: str) -> ZoneInfo:
        """That time zone itself."""
        return ZoneInfo(self.zone_name(configured))


KEYS = frozenset(f.name for f in fields(RuntimeSettings))
# The settings declared as counts, by field, in /settings' order.
COUNTS: dict[str, Count] = {
    f.name: f.metadata["count"] for f in fields(RuntimeSettings) if "count" in f.metadata
}


class UnknownSetting(KeyError):
    """No runtime setting has that name."""


def _decode(name: str, raw: str) -> Any:
    value = json.loads(raw)
    return tuple(value) if name == "checkin_days" else value


def load(conn: sqlite3.Connection) -> RuntimeSettings:
    """The current runtime settings: stored values over the defaults."""
    stored = {
        key: _decode(key, raw)
        for key, raw in fetch_all(conn, "SELECT key, value FROM settings")
        if key in KEYS
    }
    return replace(RuntimeSettings(), **stored)


def change(
    conn: sqlite3.Connection, name: str, value: Any, *, actor_id: int | None, now: int
) -> tuple[Any, Any]:
    """Stores a new value and audits the change; returns (old, new). Validation is the caller's."""
    if name not in KEYS:
        raise UnknownSetting(name)
    old = getattr(load(conn), name)
    encoded = json.dumps(list(value) if isinstance(value, tuple) else value)
    conn.execute(
        "INSERT INTO settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
        " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
        (name, encoded, actor_id, now),
    )
    audit.record(
        conn,
        at=now,
        actor_id=actor_id,
        action="setting.change",
        subject=name,
        old_value=json.dumps(list(old) if isinstance(old, tuple) else old),
        new_value=encoded,
    )
    return old, value
