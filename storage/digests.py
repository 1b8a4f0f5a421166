"""Stored digests (period, figures, text) and their deliveries, one per person per period."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from storage.db import fetch_all, fetch_one

# Parts of a digest's text are stored joined by this (it never occurs in Telegram HTML).
PART_SEPARATOR = "\f"


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True)
class StoredDigest:
    id: int
    period_start: int
    period_end: int
    language: str
    figures: str  # JSON
    text: str
    created_at: int

    @property
    def parts(self) -> list[str]:
        """The message parts as they were sent, in order."""
        return self.text.split(PART_SEPARATOR)


@dataclass(frozen=True)
class Recipient:
    """Someone the scheduled digest goes to: a configured admin or a team member."""

    user_id: int
    language: str


_COLUMNS = "id, period_start, period_end, language, figures, text, created_at"


def find(
    conn: sqlite3.Connection, period_start: int, period_end: int, language: str
) -> StoredDigest | None:
    """The digest of a period in a language, or None."""
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM digests"
        " WHERE period_start = ? AND period_end = ? AND language = ?",
        (period_start, period_end, language),
    )
    return None if row is None else StoredDigest(**dict(row))


def put(
    conn: sqlite3.Connection,
    *,
    period_start: int,
    period_end: int,
    language: str,
    figures: str,
    parts: list[str],
    now: int,
) -> StoredDigest:
    """Stores a digest; one already stored for the period and language is kept as it was."""
    conn.execute(
        "INSERT INTO digests (period_start, period_end, language, figures, text, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (period_start, period_end, language) DO NOTHING",
        (period_start, period_end, language, figures, PART_SEPARATOR.join(parts), now),
    )
    stored = find(conn, period_start, period_end, language)
    assert stored is not None
    return stored


def list_recent(conn: sqlite3.Connection, limit: int = 20) -> list[StoredDigest]:
    """The newest stored digests first."""
    return [
        StoredDigest(**dict(row))
        for row in fetch_all(
            conn,
            f"SELECT {_COLUMNS} FROM digests ORDER BY period_end DESC, language LIMIT ?",
            (limit,),
        )
    ]


def claim(
    conn: sqlite3.Connection, period_start: int, user_id: int, digest_id: int, now: int
) -> bool:
    """Claims the period's digest for one person; False if it was claimed before."""
    cursor = conn.execute(
        "INSERT INTO digest_deliveries (period_start, user_id, digest_id, status, claimed_at)"
        " VALUES (?, ?, ?, 'sending', ?) ON CONFLICT (period_start, user_id) DO NOTHING",
        (period_start, user_id, digest_id, now),
    )
    return cursor.rowcount == 1


def finish(
    conn: sqlite3.Connection,
    period_start: int,
    user_id: int,
    status: DeliveryStatus,
    *,
    now: int,
    error: str | None = None,
) -> None:
    """Records how a claimed delivery ended."""
    conn.execute(
        "UPDATE digest_deliveries SET status = ?, sent_at = ?, error = ?"
        " WHERE period_start = ? AND user_id = ?",
        (
            status.value,
            now if status is DeliveryStatus.SENT else None,
            error,
            period_start,
            user_id,
        ),
    )


def deliveries(conn: sqlite3.Connection, period_start: int) -> dict[int, DeliveryStatus]:
    """Who the period's digest was claimed for, and how each delivery ended."""
    return {
        int(row[0]): DeliveryStatus(row[1])
        for row in fetch_all(
            conn,
            "SELECT user_id, status FROM digest_deliveries WHERE period_start = ?",
            (period_start,),
        )
    }


def recipients(conn: sqlite3.Connection, configured_admins: tuple[int, ...]) -> list[Recipient]:
    """The configured admins and every team member, each once, with the language Pulse
    knows for them (team record, else customer record, else English)."""
    ids = list(
        dict.fromkeys(
            [
                *configured_admins,
                *[
                    int(r[0])
                    for r in fetch_all(conn, "SELECT user_id FROM team_members ORDER BY user_id")
                ],
            ]
        )
    )
    found: list[Recipient] = []
    for user_id in ids:
        row = fetch_one(
            conn,
            "SELECT COALESCE((SELECT language FROM team_members WHERE user_id = ?),"
            " (SELECT language FROM customers WHERE user_id = ?), 'en')",
            (user_id, user_id),
        )
        found.append(Recipient(user_id, str(row[0]) if row else "en"))
    return found
