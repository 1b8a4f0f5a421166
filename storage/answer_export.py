"""Every answer with its customer, segment and round, for the CSV export."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import fetch_all

BATCH = 1000


@dataclass(frozen=True)
class AnswerRow:
    id: int
    answered_at: int
    round_id: int
    round_started_at: int
    segment: str | None
    user_id: int
    first_name: str | None
    last_name: str | None
    username: str | None
    language: str
    question: str
    value: str | None
    skipped: bool
    hypothesis_id: int | None
    external_id: str | None = None  # of the customer-base record the account is joined to


def page(conn: sqlite3.Connection, after_id: int, limit: int = BATCH) -> list[AnswerRow]:
    """Up to `limit` answers after `after_id`, oldest first: the export reads page by page,
    so customers' answers are not held up behind one long read."""
    return [
        AnswerRow(
            int(r[0]),
            int(r[1]),
            int(r[2]),
            int(r[3]),
            r[4],
            int(r[5]),
            r[6],
            r[7],
            r[8],
            str(r[9]),
            str(r[10]),
            r[11],
            bool(r[12]),
            None if r[13] is None else int(r[13]),
            r[14],
        )
        for r in fetch_all(
            conn,
            "SELECT a.id, a.answered_at, i.round_id, r.started_at, s.name, i.user_id,"
            " c.first_name,"
            " c.last_name, c.username, i.language, a.question, a.value, a.skipped,"
            # Which hypothesis a probe's answers (and their why) are about.
            " CASE WHEN a.question IN ('hypothesis', 'why') THEN i.hypothesis_id END,"
            " b.external_id"
            " FROM answers a JOIN invitations i ON i.id = a.invitation_id"
            " JOIN rounds r ON r.id = i.round_id"
            " LEFT JOIN segments s ON s.id = i.segment_id"
            " LEFT JOIN customers c ON c.user_id = i.user_id"
            " LEFT JOIN base_customers b ON b.user_id = i.user_id"
            " WHERE a.id > ? ORDER BY a.id LIMIT ?",
            (after_id, limit),
        )
    ]
