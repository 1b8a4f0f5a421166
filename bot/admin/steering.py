"""Runtime settings changed by admin command: checked as a whole, stored with an audit
entry in one transaction, and the scheduled jobs rebuilt at once (invariant 3)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.admin.validation import check
from bot.clock import epoch
from bot.common.context import PulseContext
from bot.common.display import SCHEDULE_FIELDS
from storage import inbox, runtime_settings
from storage.db import Database
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
    async with db.transaction() as conn:
        if not await inbox.claim_effect(conn, stamp):
            return None  # a refusal raises and rolls the claim back with it
        old = await runtime_settings.load(conn)
        new = replace(old, **values)
        check(new, values.keys(), configured_zone, now)
        for name, value in values.items():
            if getattr(old, name) != value:
                await runtime_settings.change(conn, name, value, actor_id=actor_id, now=stamp)
    return SettingsChange(old, new)


async def apply_change(context: PulseContext, change: SettingsChange) -> None:
    """Puts a change into effect without a restart: the jobs follow the new schedule."""
    if change.changed & SCHEDULE_FIELDS:
        await context.services.reschedule()
