"""Staff and admins added at runtime (the configured admins live in the settings, not here)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import aiosqlite


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


async def find(conn: aiosqlite.Connection, user_id: int) -> TeamMember | None:
    """The team member with this user id, or None."""
    async with conn.execute(
        "SELECT user_id, role, name, username, language, added_by, added_at"
        " FROM team_members WHERE user_id = ?",
        (user_id,),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    values = dict(row)
    values["role"] = Role(values["role"])
    return TeamMember(**values)
