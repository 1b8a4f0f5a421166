"""Runtime settings changed by admin command: checked as a whole, stored with an audit
entry in one transaction, and the scheduled jobs rebuilt at once (invariant 3)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.admin.validation import check
from bot.clock import epoch
from bot.common.context import PulseContext
from bot.common.display import SCHEDULE_FIELDS
from storage import runtime_settings
from storage.db import REPEATED, Database
from storage.runtime_settings import RuntimeSettings


@dataclass(frozen=True)
class SettingsChange:
    """The settings before and after a command."""

    old: RuntimeSettings
    new: RuntimeSettings

    @property
    def changed(self) -> frozenset[str]:
        """The fields whose value is different now."""
        return frozenset(
            name
            for name in runtime_settings.KEYS
            if getattr(self.old, name) != getattr(self.new, name)
        )


async def change_settings(
    db: Database,
    values: dict[str, Any],
    *,
    configured_zone: str,
    actor_id: int,
    now: datetime,
) -> SettingsChange | None:
    """Stores new values (each audited as old → new) if the settings stay usable.

    Raises InvalidArgument, changing nothing, when they would not; returns None when an
    earlier handling of the same update already made the change.
    """
    stamp = epoch(now)

    def change(conn: sqlite3.Connection) -> SettingsChange:
        old = runtime_settings.load(conn)
        new = replace(old, **values)
        check(new, values.keys(), configured_zone, now)  # a refusal rolls the claim back
        for name, value in values.items():
            if getattr(old, name) != value:
                runtime_settings.change(conn, name, value, actor_id=actor_id, now=stamp)
        return SettingsChange(old, new)

    done = await db.write_once(change)
    return None if done is REPEATED else done


async def apply_change(context: PulseContext, change: SettingsChange) -> None:
    """Puts a change into effect without a restart: the jobs follow the new schedule."""
    if change.changed & SCHEDULE_FIELDS:
        await context.services.reschedule()
