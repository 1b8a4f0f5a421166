"""Helpers for the admin command tests: people in each role, and a command and its replies."""

from __future__ import annotations

import sqlite3

from bot.common.context import PulseApplication
from storage import customers, team
from storage.customers import Profile
from storage.db import fetch_all
from storage.team import Role, TeamMember
from tests import builders
from tests.builders import Person
from tests.conftest import handle, services_of
from tests.transport import FakeTelegram

STAFF = Person(600, "Sam", "en", "sam_staff")
CUSTOMER = Person(700, "Bram", "nl", "bram_nl")
STRANGER = Person(800, "Hana", "de")
# Tables a refused command must leave exactly as they were.
STATE_TABLES = (
    "settings",
    "audit_log",
    "team_members",
    "segments",
    "invite_codes",
    "rounds",
    "hypotheses",
    "tells",
    "followups",
    "followup_drafts",
)


async def say(
    app: PulseApplication, telegram: FakeTelegram, person: Person, text: str
) -> list[str]:
    """Sends `text` as `person` and returns the texts the bot sent to them in reply."""
    before = len(telegram.sent(person.id))
    await handle(app, builders.message(app.bot, person, text))
    return [str(call.params["text"]) for call in telegram.sent(person.id)[before:]]


async def reply(app: PulseApplication, telegram: FakeTelegram, person: Person, text: str) -> str:
    """Sends `text` as `person` and returns the one reply (several parts joined)."""
    return "\n".join(await say(app, telegram, person, text))


async def enroll(app: PulseApplication, person: Person, segment_id: int = 1) -> None:
    """Makes `person` an active customer, as consenting to an invite link would."""
    await services_of(app).db.write(
        lambda conn: customers.enroll(
            conn,
            Profile(person.id, person.id, person.first_name, None, person.username),
            language="nl" if (person.language_code or "").startswith("nl") else "en",
            segment_id=segment_id,
            now=0,
        )
    )


async def make_member(app: PulseApplication, person: Person, role: Role) -> None:
    """Puts `person` on the team, as /staff add or /admin add would."""
    await services_of(app).db.write(
        lambda conn: team.put(
            conn,
            TeamMember(person.id, role, person.first_name, person.username, "en", None, 0),
        )
    )


async def snapshot(app: PulseApplication) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the tables admin commands change."""

    def rows(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
        return {
            # Table names from the constant above, never input.
            table: [tuple(r) for r in fetch_all(conn, f"SELECT * FROM {table} ORDER BY 1")]  # noqa: S608
            for table in STATE_TABLES
        }

    return await services_of(app).db.read(rows)
