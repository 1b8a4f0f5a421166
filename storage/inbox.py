"""The durable inbox: updates recorded before they are confirmed, handled exactly once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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

    One short write, as is `mark_done`: the pipeline's own writes come between every batch
    of answers and should hold the writer as briefly."""
    cursor = raw.executemany(
        "INSERT OR IGNORE INTO inbox (update_id, chat_id, payload, received_at)"
        " VALUES (?, ?, ?, ?)",
        [(u.update_id, u.chat_id, u.payload, now) for u in updates],
    )
    return cursor.rowcount


def open_updates(conn: sqlite3.Connection, after: int, limit: int) -> list[Received]:
    """Updates not yet handled, oldest first, with an id above `after`."""
    return [
        Received(int(r[0]), r[1], str(r[2]))
        for r in fetch_all(
            conn,
            "SELECT update_id, chat_id, payload FROM inbox"
            " WHERE done_at IS NULL AND payload IS NOT NULL AND update_id > ?"
            " ORDER BY update_id LIMIT ?",
            (after, limit),
        )
    ]


def last_update_id(conn: sqlite3.Connection) -> int | None:
    """The highest update id ever recorded (the next poll asks for the ones after it)."""
    row = fetch_one(conn, "SELECT MAX(update_id) FROM inbox")
    return None if row is None or row[0] is None else int(row[0])


def mark_done(raw: sqlite3.Connection, update_ids: Iterable[int], now: int) -> None:
    """Marks updates handled and drops their content (only the id is needed from now on)."""
    raw.executemany(
        "UPDATE inbox SET done_at = ?, chat_id = NULL, payload = NULL WHERE update_id = ?",
        [(now, u) for u in update_ids],
    )


def prune(conn: sqlite3.Connection, before: int) -> int:
    """Forgets handled updates received before `before` (they hold customers' messages)."""
    cursor = conn.execute(
        "DELETE FROM inbox WHERE done_at IS NOT NULL AND received_at < ?"
        " AND update_id < (SELECT MAX(update_id) FROM inbox)",
        (before,),
    )
    return cursor.rowcount
