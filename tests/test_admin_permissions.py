"""Who may do what: every admin and staff command sent by a customer, a stranger, a staff
member and an admin. Gatekeeping stops the refused ones before any handler runs."""

from __future__ import annotations

import pytest
from telegram.ext import CommandHandler

from bot.commands import COMMANDS
from bot.common.context import PulseApplication
from storage import customers
from storage.customers import CustomerStatus
from storage.team import Role
from tests.builders import Person
from tests.conftest import ADMIN, services_of
from tests.team_chat import CUSTOMER, STAFF, STRANGER, enroll, make_member, reply, snapshot
from tests.transport import FakeTelegram

# One invocation per team command that would change something if it were let through:
# the command table's examples.
INVOCATIONS = {c.name: c.example for c in COMMANDS.commands if c.team}
TEAM = frozenset(INVOCATIONS)
REFUSAL = "only for our team"
REFUSAL_NL = "alleen voor ons team"
ROLES = {"customer": CUSTOMER, "stranger": STRANGER, "staff": STAFF, "admin": ADMIN}


def allowed(role: str, command: str) -> bool:
    return COMMANDS.allows(command, None if role in ("customer", "stranger") else Role(role))


def test_every_team_command_has_an_example_to_try() -> None:
    assert all(example.startswith(f"/{name}") for name, example in INVOCATIONS.items())


def test_a_customers_own_commands_are_theirs_and_the_rest_is_the_teams() -> None:
    # /pause and /resume are a customer's own and an admin's; nothing else has two meanings,
    # and no customer reaches a staff or admin command.
    twice = {
        name for name in COMMANDS.names() if [c.name for c in COMMANDS.commands].count(name) > 1
    }
    assert twice == {"pause", "resume"}
    customers = set(COMMANDS.customer_menu())
    assert customers & TEAM == twice
    assert not any(COMMANDS.allows(name, None) for name in TEAM - twice)
    assert not any(COMMANDS.allows(name, Role.STAFF) for name in twice)


def test_every_registered_command_is_in_the_table_and_team_commands_are_gatekept(
    app: PulseApplication,
) -> None:
    registered = {
        name
        for handlers in app.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
    assert registered == set(COMMANDS.names())
    assert all(COMMANDS.gatekept(name) for name in TEAM)
    assert not any(COMMANDS.gatekept(name) for name in registered - TEAM)


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
    paused = await services_of(app).db.read(lambda conn: customers.get(conn, CUSTOMER.id))
    assert paused.status is CustomerStatus.PAUSED
