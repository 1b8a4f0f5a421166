"""Sending an invitation's first question: the queue of those due, the claim that keeps a
second sender off them, the outcome of each send (sent, retried later, failed), the claims a
crash left behind, and the one reminder to a customer who has not answered."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from storage.invitations import Delivery, Invitation, select


def due_for_delivery(conn: sqlite3.Connection, now: int, limit: int) -> list[Invitation]:
    """Queued invitations whose first question may go out now, oldest first."""
    return select(
        conn,
        "delivery = 'pending' AND state = 'queued' AND send_after <= ? AND expires_at > ?"
        " ORDER BY send_after, id LIMIT ?",
        (now, now, limit),
    )


def mark_sending(conn: sqlite3.Connection, ids: Sequence[int]) -> None:
    """Claims invitations for sending, so a second sender never takes the same ones."""
    conn.executemany(
        "UPDATE invitations SET delivery = 'sending', attempts = attempts + 1 WHERE id = ?",
        [(i,) for i in ids],
    )


def mark_sent(
    conn: sqlite3.Connection,
    invitation_id: int,
    *,
    message_id: int | None,
    now: int,
    delivery: Delivery = Delivery.SENT,
) -> None:
    """The first question went out (or may have): the conversation now waits for a score."""
    conn.execute(
        "UPDATE invitations SET delivery = ?, state = CASE WHEN state = 'queued'"
        " THEN 'asked_score' ELSE state END, prompted_state = COALESCE(prompted_state,"
        " 'asked_score'), sent_at = ?, message_id = ?, last_error = NULL WHERE id = ?",
        (delivery.value, now, message_id, invitation_id),
    )


def retry_later(
    conn: sqlite3.Connection, invitation_id: int, *, send_after: int, error: str
) -> None:
    """Puts an invitation back in the queue after a passing failure."""
    conn.execute(
        "UPDATE invitations SET delivery = 'pending', send_after = ?, last_error = ? WHERE id = ?",
        (send_after, error, invitation_id),
    )


def mark_failed(conn: sqlite3.Connection, invitation_id: int, *, error: str, now: int) -> None:
    """The first question cannot be delivered; the invitation ends."""
    conn.execute(
        "UPDATE invitations SET delivery = 'failed', state = 'failed', last_error = ?,"
        " finished_at = ? WHERE id = ?",
        (error, now, invitation_id),
    )


def requeue_interrupted(conn: sqlite3.Connection) -> int:
    """After a crash: sends that were claimed but never recorded go back in the queue."""
    cursor = conn.execute("UPDATE invitations SET delivery = 'pending' WHERE delivery = 'sending'")
    return cursor.rowcount


def due_reminders(
    conn: sqlite3.Connection, now: int, after_seconds: int, limit: int
) -> list[Invitation]:
    """Invitations whose first question went out long enough ago and got no answer at all."""
    return select(
        conn,
        "state = 'asked_score' AND delivery IN ('sent', 'uncertain') AND reminded_at IS NULL"
        " AND answered_at IS NULL AND sent_at <= ? AND expires_at > ? ORDER BY sent_at, id"
        " LIMIT ?",
        (now - after_seconds, now, limit),
    )


def mark_reminded(conn: sqlite3.Connection, invitation_id: int, now: int) -> bool:
    """Claims the one reminder; False if it was already taken."""
    cursor = conn.execute(
        "UPDATE invitations SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
        (now, invitation_id),
    )
    return cursor.rowcount == 1
