"""Alert deliveries of follow-up threads: one per team member an alert goes to, claimed
before it is sent so two processes never both send it, and the message it became, so the
alert can be edited as the rest of the check-in comes in."""

from __future__ import annotations

import sqlite3

from storage.db import fetch_all
from storage.followups import SendStatus

# Far longer than an alert's sends take (three tries with their waits).
STALE_CLAIM_SECONDS = 120


def claim_alerts(
    raw: sqlite3.Connection, followup_id: int, user_ids: list[int], now: int
) -> list[int]:
    """Claims the alert's delivery to each of `user_ids`; returns those not claimed before."""
    claimed: list[int] = []
    for user_id in user_ids:
        # A claim still "sending" long after it was made belongs to a process that died
        # mid-send: claimed again, since a lost alert about an unhappy customer does more
        # harm than one that arrives twice.
        cursor = raw.execute(
            "INSERT INTO followup_alerts (followup_id, user_id, status, claimed_at)"
            " VALUES (?, ?, 'sending', ?) ON CONFLICT (followup_id, user_id) DO UPDATE"
            " SET claimed_at = excluded.claimed_at"
            " WHERE followup_alerts.status = 'sending'"
            " AND followup_alerts.claimed_at < excluded.claimed_at - ?",
            (followup_id, user_id, now, STALE_CLAIM_SECONDS),
        )
        if cursor.rowcount == 1:
            claimed.append(user_id)
    return claimed


def finish_alerts(
    raw: sqlite3.Connection,
    followup_id: int,
    results: list[tuple[int, int | None, str | None]],
    now: int,
) -> None:
    """Records how each claimed delivery ended: (user id, message id, error), and that the
    alert went out (only now: a crash before this leaves it to the upkeep to send)."""
    raw.execute(
        "UPDATE followups SET alerted_at = COALESCE(alerted_at, ?) WHERE id = ?",
        (now, followup_id),
    )
    raw.executemany(
        "UPDATE followup_alerts SET status = ?, message_id = ?, sent_at = ?, error = ?"
        " WHERE followup_id = ? AND user_id = ?",
        [
            (
                SendStatus.SENT.value if error is None else SendStatus.FAILED.value,
                message_id,
                now if error is None else None,
                error,
                followup_id,
                user_id,
            )
            for user_id, message_id, error in results
        ],
    )


def sent_alerts(conn: sqlite3.Connection, followup_id: int) -> list[tuple[int, int]]:
    """(user id, message id) of every alert of the thread that arrived."""
    return [
        (int(r[0]), int(r[1]))
        for r in fetch_all(
            conn,
            "SELECT user_id, message_id FROM followup_alerts"
            " WHERE followup_id = ? AND status = 'sent' AND message_id IS NOT NULL"
            " ORDER BY user_id",
            (followup_id,),
        )
    ]
