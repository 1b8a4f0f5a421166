"""Customer base files sent to the bot: each waits, previewed, for its admin's confirmation,
and is decided (applied or cancelled) once."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import fetch_all, fetch_one


@dataclass(frozen=True)
class PendingImport:
    id: int
    actor_id: int
    file_name: str
    path: str
    sha256: str
    status: str
    created_at: int


def open_import(
    conn: sqlite3.Connection, *, actor_id: int, file_name: str, path: str, sha256: str, now: int
) -> PendingImport:
    """Records a previewed file that waits for its confirmation."""
    cursor = conn.execute(
        "INSERT INTO base_imports (actor_id, file_name, path, sha256, status, created_at)"
        " VALUES (?, ?, ?, ?, 'pending', ?)",
        (actor_id, file_name, path, sha256, now),
    )
    assert cursor.lastrowid is not None
    found = find_import(conn, cursor.lastrowid)
    assert found is not None
    return found


def find_import(conn: sqlite3.Connection, import_id: int) -> PendingImport | None:
    row = fetch_one(
        conn,
        "SELECT id, actor_id, file_name, path, sha256, status, created_at FROM base_imports"
        " WHERE id = ?",
        (import_id,),
    )
    return None if row is None else PendingImport(**dict(row))


def cancel_pending_imports(conn: sqlite3.Connection, actor_id: int, now: int) -> list[str]:
    """Cancels this admin's imports still waiting (a newer file replaces them); returns
    their files' paths, to delete."""
    rows = fetch_all(
        conn,
        "SELECT path FROM base_imports WHERE actor_id = ? AND status = 'pending'",
        (actor_id,),
    )
    conn.execute(
        "UPDATE base_imports SET status = 'cancelled', decided_at = ?"
        " WHERE actor_id = ? AND status = 'pending'",
        (now, actor_id),
    )
    return [str(r[0]) for r in rows]


def decide_import(conn: sqlite3.Connection, import_id: int, status: str, now: int) -> bool:
    """Marks a pending import applied or cancelled; False if it was no longer pending."""
    cursor = conn.execute(
        "UPDATE base_imports SET status = ?, decided_at = ? WHERE id = ? AND status = 'pending'",
        (status, now, import_id),
    )
    return cursor.rowcount == 1
