"""End to end: an admin steers `pulsebot run` (a real process) through the sandbox, and
what they changed is still in place after the process restarts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import ChatMessage, Sandbox, SimUser
from tests.process import BotProcess, bot_process

ADMIN_ID = 700
WAIT = 20.0
MOVED = "check-in rounds: mon,tue,wed,thu,fri at 09:30 in Europe/Amsterdam"


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def act(user: SimUser, action: object) -> ChatMessage:
    """Waits for the bot's next new message to `user` after `action` (an awaitable)."""
    seen = max((m.message_id for m in user.messages), default=0)
    await action  # type: ignore[misc]
    return await user.wait_for(lambda m: m.message_id > seen, WAIT)


def next_checkins(text: str) -> list[str]:
    line = next(x for x in text.splitlines() if x.startswith("Next check-ins: "))
    return line.removeprefix("Next check-ins: ").split(", ")


async def logged(sandbox: Sandbox, bot: BotProcess, text: str) -> None:
    await sandbox.wait_until(lambda: text in bot.output(), timeout=WAIT)


async def test_a_schedule_set_by_command_moves_the_job_and_survives_a_restart(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    admin = sandbox.user(ADMIN_ID, "Anne", language_code="en")
    sam = sandbox.user(21, "Sam", username="sam", language_code="nl")

    async with bot_process(sandbox, tmp_path, str(ADMIN_ID), name="first") as first:
        await logged(sandbox, first, "check-in rounds: tue at 10:00 in Europe/Amsterdam")
        assert "schedule" in [name for name, _ in admin.commands()]
        reply = await act(admin, admin.send("/schedule checkin mon-fri 09:30"))
        assert "Check-ins: tue at 10:00 → mon-fri at 09:30" in reply.text
        runs = next_checkins(reply.text)
        assert len(runs) == 3
        assert all(re.fullmatch(r"(Mon|Tue|Wed|Thu|Fri) \d+ \w+ 09:30", run) for run in runs)
        # The round job was rebuilt at once, in the running process.
        await logged(sandbox, first, MOVED)
        # Someone who started the bot becomes staff, and their menu follows.
        await act(sam, sam.send("/start"))
        added = await act(admin, admin.send("/staff add 21"))
        assert "not on the team → staff" in added.text
        assert [name for name, _ in sam.commands()][-2:] == ["settings", "segments"]
        assert sam.commands()[-2][1] == "Alle instellingen en de volgende rondes"

    assert first.process.returncode == 0, first.output()
    async with bot_process(sandbox, tmp_path, str(ADMIN_ID), name="second") as second:
        # Rebuilt from the database at start-up, not from the process that set it.
        await logged(sandbox, second, MOVED)
        shown = await act(admin, admin.send("/settings"))
        assert "Check-ins: mon-fri at 09:30" in shown.text
        assert next_checkins(shown.text)[-1].endswith("09:30")
        staff_view = await act(sam, sam.send("/settings"))
        assert "Check-ins: ma-vr om 09:30" in staff_view.text
        refused = await act(sam, sam.send("/pause"))
        assert refused.text == "Sorry, dat commando is alleen voor ons team."
        audit = await act(admin, admin.send("/audit 3"))
        # Sam only pressed Start: no name is stored before consent, so the id stands in.
        assert ", 700: added to the team 21: – → staff" in audit.text
        assert "checkin_time: 10:00 → 09:30" in audit.text
