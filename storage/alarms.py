"""When each kind of alarm to the admins last went out: the at-most-once-an-hour limit."""

from __future__ import annotations

import sqlite3


def claim(raw: sqlite3.Connection, kind: str, now: int, interval: int) -> bool:
    """Claims an alarm of `kind` at `now`; False when one was claimed less than `interval`
    seconds ago.

    Claimed before it is sent, as alerts and digest deliveries are: an alarm whose send
    fails, or is cut off by a crash, still counts, since a crash loop is exactly when a
    second one must not follow.
    """
    cursor = raw.execute(
        "INSERT INTO alarms (kind, sent_at) VALUES (?, ?)"
        " ON CONFLICT (kind) DO UPDATE SET sent_at = excluded.sent_at"
        " WHERE alarms.sent_at <= excluded.sent_at - ?",
        (kind, now, interval),
    )
    return cursor.rowcount == 1
