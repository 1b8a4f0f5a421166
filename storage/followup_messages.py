"""Messages of follow-up threads, both ways (a team member's reply to the customer, the
customer's answer back), each stored before it is sent, and the replies team members are
still writing."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from storage.db import fetch_all, fetch_one
from storage.followups import SendStatus, touch


class Direction(StrEnum):
    TO_CUSTOMER = "to_customer"
    FROM_CUSTOMER = "from_customer"


@dataclass(frozen=True)
class ThreadMessage:
    id: int
    followup_id: int
    direction: Direction
    staff_id: int
    staff_name: str | None
    text: str
    created_at: int
    status: SendStatus
    error: str | None


@dataclass(frozen=True)
class Draft:
    """A reply a team member is writing."""

    staff_id: int
    staff_name: str | None
    followup_id: int
    confirmed: bool
    text: str | None
    created_at: int


_MESSAGE_COLUMNS = (
    "id, followup_id, direction, staff_id, staff_name, text, created_at, status, error"
)


def _message(row: sqlite3.Row) -> ThreadMessage:
    values = dict(row)
    values["direction"] = Direction(values["direction"])
    values["status"] = SendStatus(values["status"])
    return ThreadMessage(**values)


# --- messages ---------------------------------------------------------------------------


def add_message(
    conn: sqlite3.Connection,
    followup_id: int,
    direction: Direction,
    *,
    staff_id: int,
    staff_name: str | None,
    text: str,
    now: int,
    status: SendStatus = SendStatus.SENDING,
    error: str | None = None,
) -> int:
    """Stores a message of the thread (before it is sent) and the thread's activity."""
    cursor = conn.execute(
        "INSERT INTO followup_messages (followup_id, direction, staff_id, staff_name, text,"
        " created_at, status, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (followup_id, direction.value, staff_id, staff_name, text, now, status.value, error),
    )
    touch(conn, followup_id, now)
    if direction is Direction.TO_CUSTOMER and status is not SendStatus.FAILED:
        conn.execute("UPDATE followups SET replier_id = ? WHERE id = ?", (staff_id, followup_id))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish_message(
    conn: sqlite3.Connection, message_id: int, status: SendStatus, error: str | None = None
) -> None:
    """Records how a message's send ended."""
    conn.execute(
        "UPDATE followup_messages SET status = ?, error = ? WHERE id = ?",
        (status.value, error, message_id),
    )


def messages(conn: sqlite3.Connection, followup_id: int) -> list[ThreadMessage]:
    """A thread's messages, oldest first."""
    return [
        _message(row)
        for row in fetch_all(
            conn,
            f"SELECT {_MESSAGE_COLUMNS} FROM followup_messages WHERE followup_id = ? ORDER BY id",
            (followup_id,),
        )
    ]


def last_reply_by_other(
    conn: sqlite3.Connection, followup_id: int, staff_id: int, since: int | None = None
) -> ThreadMessage | None:
    """The latest reply another team member sent the customer in this thread (after
    `since`, when given), or None."""
    row = fetch_one(
        conn,
        f"SELECT {_MESSAGE_COLUMNS} FROM followup_messages"
        " WHERE followup_id = ? AND direction = 'to_customer' AND staff_id != ?"
        " AND status != 'failed' AND created_at >= ? ORDER BY id DESC LIMIT 1",
        (followup_id, staff_id, since if since is not None else 0),
    )
    return None if row is None else _message(row)


# --- drafts -----------------------------------------------------------------------------


def _draft(row: sqlite3.Row) -> Draft:
    values = dict(row)
    values["confirmed"] = bool(values["confirmed"])
    return Draft(**values)


def find_draft(conn: sqlite3.Connection, staff_id: int) -> Draft | None:
    """The reply this team member is writing, or None."""
    row = fetch_one(
        conn,
        "SELECT staff_id, staff_name, followup_id, confirmed, text, created_at"
        " FROM followup_drafts"
        " WHERE staff_id = ?",
        (staff_id,),
    )
    return None if row is None else _draft(row)


def drafts_for(conn: sqlite3.Connection, followup_id: int) -> list[Draft]:
    """The replies being written in a thread, oldest first."""
    return [
        _draft(row)
        for row in fetch_all(
            conn,
            "SELECT staff_id, staff_name, followup_id, confirmed, text, created_at"
            " FROM followup_drafts"
            " WHERE followup_id = ? ORDER BY created_at, staff_id",
            (followup_id,),
        )
    ]


def put_draft(
    conn: sqlite3.Connection,
    staff_id: int,
    staff_name: str | None,
    followup_id: int,
    *,
    confirmed: bool,
    now: int,
) -> None:
    """Starts a reply (replacing one the team member was writing elsewhere)."""
    conn.execute(
        "INSERT INTO followup_drafts"
        " (staff_id, staff_name, followup_id, confirmed, text, created_at)"
        " VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT (staff_id) DO UPDATE SET"
        " staff_name = excluded.staff_name, followup_id = excluded.followup_id,"
        " confirmed = excluded.confirmed, text = NULL, created_at = excluded.created_at",
        (staff_id, staff_name, followup_id, int(confirmed), now),
    )


def hold_draft_text(conn: sqlite3.Connection, staff_id: int, text: str) -> None:
    """Keeps typed text in the draft until the team member confirms it."""
    conn.execute("UPDATE followup_drafts SET text = ? WHERE staff_id = ?", (text, staff_id))


def drop_draft(conn: sqlite3.Connection, staff_id: int) -> Draft | None:
    """Ends the reply this team member was writing; returns it, or None."""
    draft = find_draft(conn, staff_id)
    if draft is not None:
        conn.execute("DELETE FROM followup_drafts WHERE staff_id = ?", (staff_id,))
    return draft
