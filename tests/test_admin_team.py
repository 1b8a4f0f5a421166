"""Staff and admins: added and removed by command or a one-time link, with command menus
per chat that follow every role change, and /help that lists what the role may do."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from bot.clock import ManualClock
from bot.commands import COMMANDS
from bot.common.context import PulseApplication
from bot.common.roles import role_of
from storage import audit, team_invites
from storage.team import Role
from tests.builders import Person
from tests.conftest import ADMIN, services_of
from tests.team_chat import CUSTOMER, STAFF, STRANGER, enroll, make_member, reply, snapshot
from tests.transport import Call, FakeTelegram

ANOTHER = Person(701, "Claire", "en", "claire")


def decoded(value: Any) -> Any:
    """A request parameter as sent: PTB passes objects as dicts, JSON text elsewhere."""
    return json.loads(value) if isinstance(value, str) else value


def menu_calls(telegram: FakeTelegram, user_id: int) -> list[Call]:
    """setMyCommands and deleteMyCommands calls scoped to one person's chat."""
    return [
        call
        for call in telegram.calls
        if call.method in ("setMyCommands", "deleteMyCommands")
        and decoded(call.params["scope"]) == {"type": "chat", "chat_id": user_id}
    ]


def commands_of(call: Call) -> list[str]:
    commands: list[dict[str, Any]] = decoded(call.params["commands"])
    return [command["command"] for command in commands]


async def role(app: PulseApplication, user_id: int) -> Role | None:
    services = services_of(app)
    return await role_of(services.db, services.settings.admin_ids, user_id)


async def test_an_admin_adds_staff_by_id_and_their_menu_follows(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CUSTOMER)
    text = await reply(app, telegram, ADMIN, f"/staff add {CUSTOMER.id}")
    assert text == ("Bram @bram_nl (700): not on the team → staff. Their command menu is updated.")
    assert await role(app, CUSTOMER.id) is Role.STAFF
    english, dutch = menu_calls(telegram, CUSTOMER.id)
    assert english.method == dutch.method == "setMyCommands"
    assert "language_code" not in english.params
    assert dutch.params["language_code"] == "nl"
    assert commands_of(english) == [
        "start",
        "frequency",
        "mydata",
        "privacy",
        "forget",
        "language",
        "stop",
        "help",
        "digest",
        "export",
        "tell",
        "followups",
        "cancel",
        "settings",
        "segments",
    ]
    described = decoded(dutch.params["commands"])
    assert {"command": "settings", "description": "Alle instellingen en de volgende rondes"} in (
        described
    )
    listed = await reply(app, telegram, ADMIN, "/staff")
    assert "<b>Staff</b> (1)" in listed
    assert "• Bram @bram_nl, id <code>700</code>" in listed


async def test_an_admin_adds_by_handle_and_removes_again(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CUSTOMER)
    assert "→ staff" in await reply(app, telegram, ADMIN, "/staff add @BRAM_NL")
    text = await reply(app, telegram, ADMIN, "/staff remove @bram_nl")
    assert text == "Bram @bram_nl (700): staff → not on the team. Their command menu is updated."
    assert await role(app, CUSTOMER.id) is None
    removal = menu_calls(telegram, CUSTOMER.id)[-2:]
    assert [call.method for call in removal] == ["deleteMyCommands", "deleteMyCommands"]
    entries = await services_of(app).db.read(lambda conn: audit.recent(conn, 5))
    assert [(e.action, e.subject, e.old_value, e.new_value) for e in entries] == [
        ("team.remove", "Bram @bram_nl (700)", "staff", None),
        ("team.add", "Bram @bram_nl (700)", None, "staff"),
    ]


async def test_staff_is_promoted_to_admin_and_admins_are_removed(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CUSTOMER)
    await reply(app, telegram, ADMIN, "/staff add 700")
    assert "staff → admin" in await reply(app, telegram, ADMIN, "/admin add 700")
    menu = commands_of(menu_calls(telegram, CUSTOMER.id)[-2])
    assert set(menu) >= set(COMMANDS.team_commands(Role.ADMIN))
    listed = await reply(app, telegram, ADMIN, "/admin")
    assert "<b>Admins</b> (2)" in listed
    assert "id <code>500</code> (configured in PULSE_ADMIN_IDS)" in listed
    assert "is an admin, not staff" in await reply(app, telegram, ADMIN, "/staff remove 700")
    assert "is already an admin" in await reply(app, telegram, ADMIN, "/staff add 700")
    assert "admin → not on the team" in await reply(app, telegram, ADMIN, "/admin remove 700")


async def test_configured_admins_cannot_be_removed_from_chat(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await make_member(app, STAFF, Role.ADMIN)
    before = await snapshot(app)
    text = await reply(app, telegram, STAFF, f"/admin remove {ADMIN.id}")
    assert "is a configured admin (PULSE_ADMIN_IDS)" in text
    assert "is a configured admin" in await reply(app, telegram, STAFF, "/staff add 500")
    assert await snapshot(app) == before
    assert await role(app, ADMIN.id) is Role.ADMIN


async def test_only_people_who_started_the_bot_can_be_added(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    before = await snapshot(app)
    text = await reply(app, telegram, ADMIN, "/staff add 424242")
    assert "I don't know <b>424242</b>: they must start a chat with me first." in text
    assert "I don't know <b>@nobody_here</b>" in await reply(
        app, telegram, ADMIN, "/staff add @nobody_here"
    )
    assert "I don't know" in await reply(app, telegram, ADMIN, f"/staff remove {ADMIN.id}0")
    assert await snapshot(app) == before


async def test_team_commands_with_bad_arguments_get_the_usage_line(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    assert (await reply(app, telegram, ADMIN, "/staff add")).startswith("Usage: <code>/staff")
    assert (await reply(app, telegram, ADMIN, "/staff fire 700")).startswith("Usage:")
    assert (await reply(app, telegram, ADMIN, "/admin invite")).startswith("Usage: <code>/admin")
    text = await reply(app, telegram, ADMIN, "/staff add anne smith")
    assert text.startswith("Usage: <code>/staff")
    assert "<b>@x</b> is neither a user id" in await reply(app, telegram, ADMIN, "/staff add @x")


async def test_a_one_time_staff_link_makes_its_first_opener_staff(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    text = await reply(app, telegram, ADMIN, "/staff invite")
    assert "One-time staff invite link, valid for 7 days:" in text
    link = next(line for line in text.splitlines() if line.startswith("https://t.me/"))
    code = link.split("?start=", 1)[1]
    assert code.startswith(team_invites.PREFIX)
    joined = await reply(app, telegram, STRANGER, f"/start {code}")
    assert joined == "Welcome to the team! You are now staff. /help lists your commands."
    assert await role(app, STRANGER.id) is Role.STAFF
    assert commands_of(menu_calls(telegram, STRANGER.id)[0])[-2:] == ["settings", "segments"]
    # The link is spent: the next person to open it is told so, and stays a stranger.
    used = await reply(app, telegram, ANOTHER, f"/start {code}")
    assert "already been used" in used
    assert await role(app, ANOTHER.id) is None
    listed = await reply(app, telegram, ADMIN, "/staff")
    assert "Hana, id <code>800</code>" in listed
    # An expired link does nothing either.
    second = await reply(app, telegram, ADMIN, "/staff invite")
    late_code = second.split("?start=", 1)[1].split()[0]
    clock.advance(timedelta(days=8))
    assert "has expired" in await reply(app, telegram, ANOTHER, f"/start {late_code}")
    assert await role(app, ANOTHER.id) is None
    bogus = team_invites.PREFIX + "x" * 32
    assert "not valid" in await reply(app, telegram, ANOTHER, f"/start {bogus}")


async def test_help_for_an_admin_lists_every_admin_command_in_their_language(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    text = await reply(app, telegram, ADMIN, "/help")
    assert "<b>For the team</b>" in text
    for name in COMMANDS.team_commands(Role.ADMIN):
        assert f"\n/{name}" in text, name
    assert "/schedule checkin &lt;days&gt; &lt;HH:MM&gt; | digest" in text
    await make_member(app, STAFF, Role.STAFF)
    staff_help = await reply(app, telegram, STAFF, "/help")
    assert "\n/settings: Every setting and the next runs" in staff_help
    assert "/pause" not in staff_help
    customer_help = await reply(app, telegram, CUSTOMER, "/help")
    assert "/settings" not in customer_help


async def test_team_menus_are_set_again_at_start_up(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    # The fixture's start-up set the configured admin's menu in both languages.
    english, dutch = menu_calls(telegram, ADMIN.id)
    assert set(commands_of(english)) >= set(COMMANDS.team_commands(Role.ADMIN))
    assert dutch.params["language_code"] == "nl"
