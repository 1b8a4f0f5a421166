"""Who may do what: the configured admins, team members from the database, and customers."""

from __future__ import annotations

from storage import team
from storage.db import Database
from storage.team import Role

# Commands everyone may use, in the order of the customers' command menu.
CUSTOMER_COMMANDS = (
    "start",
    "pause",
    "resume",
    "frequency",
    "mydata",
    "privacy",
    "forget",
    "language",
    "stop",
    "help",
)
# Commands whose meaning follows the role: an admin's /pause pauses every round, a
# customer's only their own check-ins. Gatekeeping lets customers through with them.
SHARED_COMMANDS = frozenset({"pause", "resume"})
# Commands only admins may use; gatekeeping checks these before any handler runs.
ADMIN_COMMANDS = frozenset(
    {
        "invite",
        "checkin_now",
        "schedule",
        "sample",
        "cooldown",
        "reminder",
        "expiry",
        "quiet",
        "timezone",
        "pause",
        "resume",
        "notnow",
        "retention",
        "segment",
        "questions",
        "staff",
        "admin",
        "audit",
        "digest_now",
        "hypothesis",
        "alerts",
    }
)
# Commands staff and admins may use (they show customer data).
STAFF_COMMANDS: frozenset[str] = frozenset(
    {"settings", "segments", "digest", "export", "followups", "cancel", "tell"}
)


async def role_of(db: Database, configured_admins: tuple[int, ...], user_id: int) -> Role | None:
    """The user's role, or None for customers and strangers."""
    if user_id in configured_admins:
        return Role.ADMIN
    async with db.read() as conn:
        member = await team.find(conn, user_id)
    return member.role if member else None
