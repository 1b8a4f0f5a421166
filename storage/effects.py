"""At most once: the effect of an update claimed in the same transaction that commits it.

The inbox keeps every update until it is handled; after a crash an update is handled again.
Its first committed write that must happen once (an answer, a sent notice, a setting)
claims the update's effect, and a later handling finds it claimed and does nothing
(`Database.write_once`)."""

from __future__ import annotations

import sqlite3
import time
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Handling:
    """The update being handled in this task (and its chat, for the log), and whether its
    effect is claimed yet."""

    update_id: int
    chat_id: int | None = None
    claimed: bool = False
    started_at: int = field(default_factory=lambda: int(time.time()))


# Set by the update pipeline around each update it hands to the application; the write
# path sees it without every handler passing the update id along.
handling: ContextVar[Handling | None] = ContextVar("pulse_handling", default=None)


def claim(conn: sqlite3.Connection) -> bool:
    """Claims the current update's effect; False when an earlier handling already committed it.

    Runs inside the transaction that commits the effect, so the two stand or fall together.
    Outside the pipeline (no update being handled, or one not in the inbox) there is no
    earlier handling to clash with; later transactions of the same handling pass too.
    """
    current = handling.get()
    if current is None or current.claimed:
        return True
    if conn.execute(_CLAIM, (current.started_at, current.update_id)).rowcount == 1:
        current.claimed = True
        return True
    return conn.execute(_RECORDED, (current.update_id,)).fetchone() is None


_CLAIM = "UPDATE inbox SET effect_at = ? WHERE update_id = ? AND effect_at IS NULL"
_RECORDED = "SELECT 1 FROM inbox WHERE update_id = ?"
