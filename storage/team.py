"""Staff and admins added at runtime (the configured admins live in the settings, not here)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from storage.db import fetch_all, fetch_one


class Role(StrEnum):
    STAFF = "staff"
    ADMIN = "admin"


@dataclass(frozen=True)
class TeamMember:
    user_id: int
    role: Role
    name: str | None
    username: str | None
    language: str
    added_by: int | None
    added_at: int


def find(conn: sqlite3.Connection, user_id: int) -> TeamMember | None:
    """The team member with this user id, or None."""
    row = fetch_one(
        conn,
        "SELECT user_id, role, name, username, language, added_by, added_at"
        " FROM team_members WHERE user_id = ?",
        (user_id,),
    )
    if row is None:
        return None
    values = dict(row)
    values["role"] = Role(values["role"])
    return TeamMember(**values)


_COLUMNS = "user_id, role, name, username, language, added_by, added_at"


def _member(row: sqlite3.Row) -> TeamMember:
    values = dict(row)
    values["role"] = Role(values["role"])
    return TeamMember(**values)


def list_all(conn: sqlite3.Connection) -> list[TeamMember]:
    """Every team member added at runtime, admins first, then by when they were added."""
    return [
        _member(row)
        for row in fetch_all(
            conn,
            f"SELECT {_COLUMNS} FROM team_members"
            " ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, added_at, user_id",
        )
    ]


def put(conn: sqlite3.Connection, member: TeamMember) -> None:
    """Adds a team member, or changes the role and details of one already there."""
    conn.execute(
        f"INSERT INTO team_members ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET role = excluded.role, name = excluded.name,"
        " username = excluded.username, language = excluded.language,"
        " added_by = excluded.added_by, added_at = excluded.added_at",
        (
            member.user_id,
            member.role.value,
            member.name,
            member.username,
            member.language,
            member.added_by,
            member.added_at,
        ),
    )


def remove(conn: sqlite3.Connection, user_id: int) -> bool:
    """Takes someone off the team; False when they were not on it."""
    cursor = conn.execute("DELETE FROM team_members WHERE user_id = ?", (user_id,))
    return cursor.rowcount == 1
