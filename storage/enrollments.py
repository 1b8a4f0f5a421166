"""The enrollment conversation's state: consent questions that are out, and refusals."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import fetch_one


@dataclass(frozen=True)
class PendingEnrollment:
    id: int
    user_id: int
    chat_id: int
    segment_id: int
    language: str
    created_at: int
    # Opened by a personal invite link: consent joins the account to that link's record.
    personal_invite_id: int | None = None


_COLUMNS = "id, user_id, chat_id, segment_id, language, created_at, personal_invite_id"


def find_for_user(conn: sqlite3.Connection, user_id: int) -> PendingEnrollment | None:
    """The consent question out to this user, or None."""
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM pending_enrollments WHERE user_id = ?",
        (user_id,),
    )
    return None if row is None else PendingEnrollment(**dict(row))


def open_pending(
    conn: sqlite3.Connection,
    *,
    user_id: int,
    chat_id: int,
    segment_id: int,
    language: str,
    now: int,
    personal_invite_id: int | None = None,
) -> PendingEnrollment:
    """Records a consent question, replacing any earlier one so only the newest counts."""
    conn.execute("DELETE FROM pending_enrollments WHERE user_id = ?", (user_id,))
    conn.execute(
        "INSERT INTO pending_enrollments (user_id, chat_id, segment_id, language, created_at,"
        " personal_invite_id) VALUES (?, ?, ?, ?, ?, ?)",
        (user_id, chat_id, segment_id, language, now, personal_invite_id),
    )
    pending = find_for_user(conn, user_id)
    assert pending is not None
    return pending


def set_language(conn: sqlite3.Connection, pending_id: int, language: str) -> None:
    """Changes the language of a consent question still out."""
    conn.execute(
        "UPDATE pending_enrollments SET language = ? WHERE id = ?", (language, pending_id)
    )


def close(conn: sqlite3.Connection, pending_id: int) -> None:
    """Removes an answered consent question."""
    conn.execute("DELETE FROM pending_enrollments WHERE id = ?", (pending_id,))


def record_refusal(conn: sqlite3.Connection, *, user_id: int, segment_id: int, now: int) -> None:
    """Keeps only the fact that this user said no."""
    conn.execute(
        "INSERT INTO consent_refusals (user_id, segment_id, refused_at) VALUES (?, ?, ?)",
        (user_id, segment_id, now),
    )


def count_refusals(conn: sqlite3.Connection) -> int:
    """How many consent questions were answered no."""
    row = fetch_one(conn, "SELECT COUNT(*) FROM consent_refusals")
    assert row is not None
    return int(row[0])
