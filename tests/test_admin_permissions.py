"""Who may do what: every admin and staff command sent by a customer, a stranger, a staff
member and an admin. Gatekeeping stops the refused ones before any handler runs."""

from __future__ import annotations

import pytest
from telegram.ext import CommandHandler

from bot.common.context import PulseApplication
from bot.common.roles import ADMIN_COMMANDS, CUSTOMER_COMMANDS, SHARED_COMMANDS, STAFF_COMMANDS
from storage import customers
from storage.customers import CustomerStatus
from storage.team import Role
from tests.builders import Person
from tests.conftest import ADMIN, services_of
from tests.team_chat import CUSTOMER, STAFF, STRANGER, enroll, make_member, reply, snapshot
from tests.transport import FakeTelegram

# One invocation per team command that would change something if it were let through.
INVOCATIONS = {
    "settings": "/settings",
    "segments": "/segments",
    "schedule": "/schedule checkin mon-fri 09:30",
    "sample": "/sample 10%",
    "cooldown": "/cooldown 14",
    "notnow": "/notnow 7",
    "retention": "/retention off",
    "reminder": "/reminder off",
    "expiry": "/expiry 48",
    "quiet": "/quiet off",
    "timezone": "/timezone Europe/London",
    "pause": "/pause",
    "resume": "/resume",
    "checkin_now": "/checkin_now",
    "invite": "/invite retail",
    "segment": "/segment rename general -> everyone",
    "questions": "/questions set score en How are we doing?",
    "staff": "/staff add 700",
    "admin": "/admin add 700",
    "audit": "/audit",
    "digest": "/digest",
    "digest_now": "/digest_now",
    "export": "/export",
    "hypothesis": "/hypothesis add Deliveries worry our customers most",
    "followups": "/followups",
    "cancel": "/cancel",
    "alerts": "/alerts 3",
    "tell": "/tell",
}
REFUSAL = "only for our team"
REFUSAL_NL = "alleen voor ons team"
ROLES = {"customer": CUSTOMER, "stranger": STRANGER, "staff": STAFF, "admin": ADMIN}


def allowed(role: str, command: str) -> bool:
    if role == "admin":
        return True
    if command in SHARED_COMMANDS:
        # A customer's (or stranger's) /pause and /resume are about themselves, never the
        # programme: they are answered, and the settings stay as they were.
        return role in ("customer", "stranger")
    return role == "staff" and command in STAFF_COMMANDS


def test_the_table_covers_every_team_command() -> None:
    assert set(INVOCATIONS) == ADMIN_COMMANDS | STAFF_COMMANDS


def test_every_registered_command_is_a_customer_command_or_gatekept(
    app: PulseApplication,
) -> None:
    registered = {
        name
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    team = ADMIN_COMMANDS | STAFF_COMMANDS
    assert registered - team == set(CUSTOMER_COMMANDS) - SHARED_COMMANDS
    assert set(CUSTOMER_COMMANDS) & ADMIN_COMMANDS >= SHARED_COMMANDS
    assert team <= registered
    assert not STAFF_COMMANDS & ADMIN_COMMANDS


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("command", sorted(INVOCATIONS))
async def test_who_may_use_each_team_command(
    app: PulseApplication, telegram: FakeTelegram, role: str, command: str
) -> None:
    person: Person = ROLES[role]
    await enroll(app, CUSTOMER)
    await make_member(app, STAFF, Role.STAFF)
    before = await snapshot(app)
    answer = await reply(app, telegram, person, INVOCATIONS[command])
    if allowed(role, command):
        assert answer
        assert REFUSAL not in answer
        if role != "admin":
            assert await snapshot(app) == before  # nothing of the programme changed
    else:
        assert answer in (
            "Sorry, that command is only for our team.",
            "Sorry, dat commando is alleen voor ons team.",
        )
        assert len(telegram.sent(person.id)) == 1  # one polite line, nothing else
        assert await snapshot(app) == before


async def test_the_refusal_is_in_the_senders_language(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CUSTOMER)
    assert REFUSAL_NL in await reply(app, telegram, CUSTOMER, "/sample 5")
    assert REFUSAL in await reply(app, telegram, STRANGER, "/sample@pulse_test_bot 5")


async def test_a_customers_pause_pauses_only_them_and_a_staff_members_is_refused(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CUSTOMER)
    await make_member(app, STAFF, Role.STAFF)
    before = await snapshot(app)
    assert "geen vragen tot" in await reply(app, telegram, CUSTOMER, "/pause 2")
    assert REFUSAL in await reply(app, telegram, STAFF, "/pause")
    assert await snapshot(app) == before  # the programme's rounds still run
    async with services_of(app).db.read() as conn:
        paused = await customers.get(conn, CUSTOMER.id)
    assert paused.status is CustomerStatus.PAUSED
