"""One-time team invite links: a code that makes whoever opens it first a team member."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import aiosqlite

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


async def create(
    conn: aiosqlite.Connection, role: Role, *, created_by: int, now: int, expires_at: int
) -> TeamInvite:
    """Records a new unused invite."""
    invite = TeamInvite(new_code(), role, created_by, now, expires_at, None, None)
    await conn.execute(
        "INSERT INTO team_invites (code, role, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (invite.code, role.value, created_by, now, expires_at),
    )
    return invite


async def find(conn: aiosqlite.Connection, code: str) -> TeamInvite | None:
    """The invite with this code, used or not, or None."""
    row = await fetch_one(
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


async def mark_used(conn: aiosqlite.Connection, code: str, *, user_id: int, now: int) -> bool:
    """Uses the invite up; False when it was already used."""
    cursor = await conn.execute(
        "UPDATE team_invites SET used_by = ?, used_at = ? WHERE code = ? AND used_by IS NULL",
        (user_id, now, code),
    )
    return cursor.rowcount == 1


async def count_open(conn: aiosqlite.Connection, now: int) -> int:
    """Invites neither used nor expired."""
    row = await fetch_one(
        conn, "SELECT COUNT(*) FROM team_invites WHERE used_by IS NULL AND expires_at > ?", (now,)
    )
    return int(row[0]) if row else 0
