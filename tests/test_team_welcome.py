"""A team member's /start: greeted as what they are, never asked the customers' consent."""

from __future__ import annotations

import sqlite3

from bot.common.context import PulseApplication
from storage import customers, enrollments
from storage.customers import Customer
from storage.enrollments import PendingEnrollment
from storage.team import Role
from tests.builders import Person
from tests.conftest import ADMIN, services_of
from tests.team_chat import STAFF, make_member, say
from tests.test_enrollment import invite_code
from tests.transport import FakeTelegram

DUTCH_STAFF = Person(601, "Sanne", "nl", "sanne")


async def nothing_stored_about(app: PulseApplication, person: Person) -> None:

    def stored(conn: sqlite3.Connection) -> tuple[Customer | None, PendingEnrollment | None]:
        return customers.find(conn, person.id), enrollments.find_for_user(conn, person.id)

    customer, pending = await services_of(app).db.read(stored)
    assert customer is None
    assert pending is None


async def test_an_admins_first_start_says_what_pulse_does_what_to_do_first_and_the_commands(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    [text] = await say(app, telegram, ADMIN, "/start")
    assert text.startswith("Hi Anne! You are an <b>admin</b> of <b>Pulse</b>")
    assert "weekly digest" in text
    assert "<b>What to do first</b>: send <code>/invite retail</code>" in text
    assert "<b>For the team</b>" in text
    for command in ("/invite", "/checkin_now", "/digest", "/staff", "/settings"):
        assert f"\n{command}" in text, command
    assert telegram.last_buttons(ADMIN.id) == []  # no consent question
    await nothing_stored_about(app, ADMIN)


async def test_a_staff_members_start_is_in_their_language_with_their_commands_only(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await make_member(app, STAFF, Role.STAFF)
    await make_member(app, DUTCH_STAFF, Role.STAFF)
    [english] = await say(app, telegram, STAFF, "/start")
    [dutch] = await say(app, telegram, DUTCH_STAFF, "/start")
    assert english.startswith("Hi Sam! You are <b>staff</b> on <b>Pulse</b>")
    assert "/followups" in english
    assert "/invite" not in english  # an admin's command
    assert dutch.startswith("Hoi Sanne! Je bent <b>medewerker</b> bij <b>Pulse</b>")
    assert "<b>Voor het team</b>" in dutch
    assert telegram.last_buttons(STAFF.id) == []
    await nothing_stored_about(app, STAFF)


async def test_an_admin_who_opens_a_customer_invite_link_is_told_whose_link_it_is(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    code = await invite_code(app, telegram, "retail")
    [text] = await say(app, telegram, ADMIN, f"/start {code}")
    assert "You are an <b>admin</b>" in text
    assert "invite link of segment <b>retail</b>" in text
    assert telegram.last_buttons(ADMIN.id) == []
    await nothing_stored_about(app, ADMIN)
