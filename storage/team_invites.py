"""One-time team invite links: a code that makes whoever opens it first a team member."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass

from storage.db import fetch_one
from storage.team import Role

# "team-" and 32 URL-safe characters: never the shape of a segment's invite code (16).
PREFIX = "team-"


@dataclass(frozen=True)
class TeamInvite:
    code: str
    role: Role
    created_by: int
    created_at: int
    expires_at: int
    used_by: int | None
    used_at: int | None


def new_code() -> str:
    """An unguessable deep-link payload that cannot be mistaken for a segment's code."""
    return PREFIX + secrets.token_urlsafe(24)


def create(
    conn: sqlite3.Connection, role: Role, *, created_by: int, now: int, expires_at: int
) -> TeamInvite:
    """Records a new unused invite."""
    invite = TeamInvite(new_code(), role, created_by, now, expires_at, None, None)
    conn.execute(
        "INSERT INTO team_invites (code, role, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (invite.code, role.value, created_by, now, expires_at),
    )
    return invite


def find(conn: sqlite3.Connection, code: str) -> TeamInvite | None:
    """The invite with this code, used or not, or None."""
    row = fetch_one(
        conn,
        "SELECT code, role, created_by, created_at, expires_at, used_by, used_at"
        " FROM team_invites WHERE code = ?",
        (code,),
    )
    if row is None:
        return None
    values = dict(row)
    values["role"] = Role(values["role"])
    return TeamInvite(**values)


def mark_used(conn: sqlite3.Connection, code: str, *, user_id: int, now: int) -> bool:
    """Uses the invite up; False when it was already used."""
    cursor = conn.execute(
        "UPDATE team_invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
        (user_id, now, code),
    )
    return cursor.rowcount == 1


def count_open(conn: sqlite3.Connection, now: int) -> int:
    """Invites neither used nor expired."""
    row = fetch_one(
        conn, "SELECT COUNT(*) FROM team_invites WHERE used_by IS NULL AND expires_at > ?", (now,)
    )
    return int(row[0]) if row else 0
