"""Who someone is to Pulse: a configured admin, a team member from the database, or a
customer. What each may use is the command table's (`bot.common.commands`)."""

from __future__ import annotations

from storage import team
from storage.db import Database
from storage.team import Role


async def role_of(db: Database, configured_admins: tuple[int, ...], user_id: int) -> Role | None:
    """The user's role, or None for customers and strangers."""
    if user_id in configured_admins:
        return Role.ADMIN
    member = await db.read(lambda conn: team.find(conn, user_id))
    return member.role if member else None
