"""People Pulse has met (customers, team members, anyone who answered the consent
question), found by user id or @handle, for adding them to the team."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import fetch_all, fetch_one


@dataclass(frozen=True)
class KnownPerson:
    user_id: int
    name: str | None
    username: str | None
    language: str


def find_by_id(conn: sqlite3.Connection, user_id: int) -> KnownPerson | None:
    """The person with this id if they ever started the bot, or None."""
    row = fetch_one(
        conn,
        "SELECT user_id, name, username, language FROM ("
        "  SELECT user_id, first_name AS name, username, language, 0 AS rank FROM customers"
        "  UNION ALL SELECT user_id, name, username, language, 1 FROM team_members"
        "  UNION ALL SELECT user_id, NULL, NULL, language, 2 FROM pending_enrollments"
        "  UNION ALL SELECT user_id, NULL, NULL, 'en', 3 FROM consent_refusals"
        ") WHERE user_id = ? ORDER BY rank LIMIT 1",
        (user_id,),
    )
    return None if row is None else KnownPerson(**dict(row))


def find_by_username(conn: sqlite3.Connection, username: str) -> list[KnownPerson]:
    """Everyone whose Telegram handle is `username` (any case): usually one or none, several
    only when a handle changed hands."""
    ids = [
        int(row[0])
        for row in fetch_all(
            conn,
            "SELECT user_id FROM customers WHERE username = ? COLLATE NOCASE"
            " UNION SELECT user_id FROM team_members WHERE username = ? COLLATE NOCASE"
            " ORDER BY user_id",
            (username, username),
        )
    ]
    found = [find_by_id(conn, user_id) for user_id in ids]
    return [person for person in found if person is not None]
