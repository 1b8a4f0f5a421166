"""The durable inbox: updates recorded before they are confirmed, handled exactly once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

import aiosqlite

from storage.db import fetch_all, fetch_one


@dataclass(frozen=True)
class Received:
    """One update as Telegram sent it (`payload` is its JSON)."""

    update_id: int
    chat_id: int | None
    payload: str


def record(raw: sqlite3.Connection, updates: Sequence[Received], now: int) -> int:
    """Stores a batch of updates; one already stored (Telegram sent it again) is kept as is.
    Returns how many were new.

    Plain sqlite3 (`Database.run`), as is `mark_done`: the pipeline's own writes come
    between every batch of answers and should hold the writer as briefly."""
    cursor = raw.executemany(
        "INSERT OR IGNORE INTO inbox (update_id, chat_id, payload, received_at)"
        " VALUES (?, ?, ?, ?)",
        [(u.update_id, u.chat_id, u.payload, now) for u in updates],
    )
    return cursor.rowcount


async def open_updates(conn: aiosqlite.Connection, after: int, limit: int) -> list[Received]:
    """Updates not yet handled, oldest first, with an id above `after`."""
    return [
        Received(int(r[0]), r[1], str(r[2]))
        for r in await fetch_all(
            conn,
            "SELECT update_id, chat_id, payload FROM inbox"
            " WHERE done_at IS NULL AND payload IS NOT NULL AND update_id > ?"
            " ORDER BY update_id LIMIT ?",
            (after, limit),
        )
    ]


async def last_update_id(conn: aiosqlite.Connection) -> int | None:
    """The highest update id ever recorded (the next poll asks for the ones after it)."""
    row = await fetch_one(conn, "SELECT MAX(update_id) FROM inbox")
    return None if row is None or row[0] is None else int(row[0])


@dataclass
class Handling:
    """The update being handled in this task (and its chat, for the log), and whether its
    effect is claimed yet."""

    update_id: int
    chat_id: int | None = None
    claimed: bool = False


# Set by the update pipeline around each update it hands to the application; services see
# it without every handler passing the update id along.
handling: ContextVar[Handling | None] = ContextVar("pulse_handling", default=None)


async def claim_effect(conn: aiosqlite.Connection, now: int) -> bool:
    """Claims the current update's effect; False when an earlier handling already committed it.

    Call it inside the transaction that commits the effect, so the two stand or fall
    together. Outside the pipeline (no update being handled, or one not in the inbox)
    there is no earlier handling to clash with; later transactions of the same handling
    pass too.
    """
    current = handling.get()
    if current is None or current.claimed:
        return True
    cursor = await conn.execute(_CLAIM, (now, current.update_id))
    if cursor.rowcount == 1:
        current.claimed = True
        return True
    return await fetch_one(conn, _RECORDED, (current.update_id,)) is None


def claim_effect_sync(raw: sqlite3.Connection, now: int) -> bool:
    """`claim_effect` on the plain connection, for a transaction run in one hop
    (`Database.run`, which carries the handling's context variable over)."""
    current = handling.get()
    if current is None or current.claimed:
        return True
    if raw.execute(_CLAIM, (now, current.update_id)).rowcount == 1:
        current.claimed = True
        return True
    return raw.execute(_RECORDED, (current.update_id,)).fetchone() is None


_CLAIM = "UPDATE inbox SET effect_at = ? WHERE update_id = ? AND effect_at IS NULL"
_RECORDED = "SELECT 1 FROM inbox WHERE update_id = ?"


def mark_done(raw: sqlite3.Connection, update_ids: Iterable[int], now: int) -> None:
    """Marks updates handled and drops their content (only the id is needed from now on)."""
    raw.executemany(
        "UPDATE inbox SET done_at = ?, chat_id = NULL, payload = NULL WHERE update_id = ?",
        [(now, u) for u in update_ids],
    )


async def prune(conn: aiosqlite.Connection, before: int) -> int:
    """Forgets handled updates received before `before` (they hold customers' messages)."""
    cursor = await conn.execute(
        "DELETE FROM inbox WHERE done_at IS NOT NULL AND received_at < ?"
        " AND update_id < (SELECT MAX(update_id) FROM inbox)",
        (before,),
    )
    return cursor.rowcount
