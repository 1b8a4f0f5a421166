"""The audit log: who changed what, when, from which value to which."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import fetch_all


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: int
    actor_id: int | None
    action: str
    subject: str
    old_value: str | None
    new_value: str | None


def record(
    conn: sqlite3.Connection,
    *,
    at: int,
    actor_id: int | None,
    action: str,
    subject: str,
    old_value: str | None = None,
    new_value: str | None = None,
) -> None:
    """Appends one entry; call it inside the transaction that makes the change."""
    conn.execute(
        "INSERT INTO audit_log (at, actor_id, action, subject, old_value, new_value)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (at, actor_id, action, subject, old_value, new_value),
    )


def recent(conn: sqlite3.Connection, limit: int) -> list[AuditEntry]:
    """The newest `limit` entries, newest first."""
    return [
        AuditEntry(**dict(row))
        for row in fetch_all(
            conn,
            "SELECT id, at, actor_id, action, subject, old_value, new_value FROM audit_log"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
    ]
