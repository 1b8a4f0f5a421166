"""Drafted and sent "you said, we did" updates, their audience and each delivery."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage import audit
from storage.db import fetch_all, fetch_one


class TellStatus(StrEnum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Tell:
    id: int
    target_kind: str
    target: str
    message: str
    status: TellStatus
    created_by: int
    created_at: int
    decided_by: int | None
    decided_at: int | None


@dataclass(frozen=True)
class RecentText:
    """A free-text answer of an active customer, for finding a theme's audience."""

    user_id: int
    text: str
    language: str
    vector: bytes | None = None  # its sentence vector of the model asked for, if computed
    question: str = "challenge"  # or improvement


@dataclass(frozen=True)
class Pending:
    """A delivery waiting to be sent, with what it needs."""

    tell_id: int
    user_id: int
    chat_id: int
    language: str
    message: str


_COLUMNS = (
    "id, target_kind, target, message, status, created_by, created_at, decided_by, decided_at"
)


def recent_texts(conn: sqlite3.Connection, since: int, model: str = "") -> list[RecentText]:
    """Challenges and improvement requests given since `since` by active customers, with
    their vectors of `model` where stored."""
    return [
        RecentText(
            int(r[0]), str(r[1]), str(r[2]), bytes(r[3]) if r[3] is not None else None, str(r[4])
        )
        for r in fetch_all(
            conn,
            "SELECT i.user_id, a.value, i.language, v.vector, a.question FROM answers a"
            " JOIN invitations i ON i.id = a.invitation_id"
            " JOIN customers c ON c.user_id = i.user_id AND c.status = 'active'"
            " LEFT JOIN answer_vectors v ON v.answer_id = a.id AND v.model = ?"
            " WHERE a.question IN ('challenge', 'improvement') AND a.skipped = 0"
            " AND a.value IS NOT NULL AND a.answered_at >= ? ORDER BY a.id",
            (model, since),
        )
    ]


def hypothesis_audience(conn: sqlite3.Connection, hypothesis_id: int) -> list[int]:
    """Active customers who answered the hypothesis (not skipped)."""
    return [
        int(r[0])
        for r in fetch_all(
            conn,
            "SELECT DISTINCT i.user_id FROM answers a JOIN invitations i ON i.id = a.invitation_id"
            " JOIN customers c ON c.user_id = i.user_id AND c.status = 'active'"
            " WHERE a.question = 'hypothesis' AND a.skipped = 0 AND i.hypothesis_id = ?"
            " ORDER BY i.user_id",
            (hypothesis_id,),
        )
    ]


def draft(
    conn: sqlite3.Connection,
    *,
    target_kind: str,
    target: str,
    message: str,
    audience: Sequence[int],
    actor_id: int,
    now: int,
) -> Tell:
    """Records a draft and its audience (fixed now, so the preview's count is what goes)."""
    cursor = conn.execute(
        "INSERT INTO tells (target_kind, target, message, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (target_kind, target, message, actor_id, now),
    )
    tell_id = cursor.lastrowid
    assert tell_id is not None
    conn.executemany(
        "INSERT INTO tell_deliveries (tell_id, user_id) VALUES (?, ?)",
        [(tell_id, user_id) for user_id in audience],
    )
    return get(conn, tell_id)


def get(conn: sqlite3.Connection, tell_id: int) -> Tell:
    """The update with this id; raises LookupError."""
    found = find(conn, tell_id)
    if found is None:
        raise LookupError(tell_id)
    return found


def find(conn: sqlite3.Connection, tell_id: int) -> Tell | None:
    """The update with this id, or None."""
    row = fetch_one(conn, f"SELECT {_COLUMNS} FROM tells WHERE id = ?", (tell_id,))
    if row is None:
        return None
    values = dict(row)
    values["status"] = TellStatus(values["status"])
    return Tell(**values)


def decide(
    conn: sqlite3.Connection, tell_id: int, status: TellStatus, *, actor_id: int, now: int
) -> bool:
    """Confirms or cancels a draft; False when it was decided already (by anyone)."""
    cursor = conn.execute(
        "UPDATE tells SET status = ?, decided_by = ?, decided_at = ?"
        " WHERE id = ? AND status = 'draft'",
        (status.value, actor_id, now, tell_id),
    )
    if cursor.rowcount != 1:
        return False
    if status is TellStatus.CANCELLED:
        conn.execute("UPDATE tell_deliveries SET status = 'skipped' WHERE tell_id = ?", (tell_id,))
    tell = get(conn, tell_id)
    audit.record(
        conn,
        at=now,
        actor_id=actor_id,
        action=f"tell.{status.value}",
        subject=f"{tell.target_kind} {tell.target}",
        new_value=tell.message,
    )
    return True


def audience_size(conn: sqlite3.Connection, tell_id: int) -> int:
    """How many customers the update is for."""
    row = fetch_one(conn, "SELECT COUNT(*) FROM tell_deliveries WHERE tell_id = ?", (tell_id,))
    return int(row[0]) if row else 0


def claim_pending(conn: sqlite3.Connection, limit: int) -> list[Pending]:
    """Claims up to `limit` deliveries of confirmed updates for sending; a customer who has
    stopped, paused or blocked since is skipped instead."""
    conn.execute(
        "UPDATE tell_deliveries SET status = 'skipped' WHERE status = 'pending'"
        " AND tell_id IN (SELECT id FROM tells WHERE status = 'confirmed')"
        " AND user_id NOT IN (SELECT user_id FROM customers WHERE status = 'active')"
    )
    rows = [
        Pending(int(r[0]), int(r[1]), int(r[2]), str(r[3]), str(r[4]))
        for r in fetch_all(
            conn,
            "SELECT d.tell_id, d.user_id, c.chat_id, c.language, t.message FROM tell_deliveries d"
            " JOIN tells t ON t.id = d.tell_id AND t.status = 'confirmed'"
            " JOIN customers c ON c.user_id = d.user_id"
            " WHERE d.status = 'pending' ORDER BY d.tell_id, d.user_id LIMIT ?",
            (limit,),
        )
    ]
    conn.executemany(
        "UPDATE tell_deliveries SET status = 'sending' WHERE tell_id = ? AND user_id = ?",
        [(p.tell_id, p.user_id) for p in rows],
    )
    return rows


def release(conn: sqlite3.Connection, claimed: Sequence[Pending]) -> None:
    """Puts claimed deliveries that were never attempted back in the queue."""
    conn.executemany(
        "UPDATE tell_deliveries SET status = 'pending'"
        " WHERE tell_id = ? AND user_id = ? AND status = 'sending'",
        [(p.tell_id, p.user_id) for p in claimed],
    )


def finish(
    conn: sqlite3.Connection,
    tell_id: int,
    user_id: int,
    *,
    sent: bool,
    now: int,
    error: str | None = None,
) -> None:
    """Records how a claimed delivery ended."""
    conn.execute(
        "UPDATE tell_deliveries SET status = ?, sent_at = ?, error = ?"
        " WHERE tell_id = ? AND user_id = ?",
        ("sent" if sent else "failed", now if sent else None, error, tell_id, user_id),
    )


def counts(conn: sqlite3.Connection, tell_id: int) -> dict[str, int]:
    """Deliveries by status."""
    return {
        str(r[0]): int(r[1])
        for r in fetch_all(
            conn,
            "SELECT status, COUNT(*) FROM tell_deliveries WHERE tell_id = ? GROUP BY status",
            (tell_id,),
        )
    }
