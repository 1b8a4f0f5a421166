"""End to end: `pulsebot run` as a real process, enrolling customers through the sandbox."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import ChatMessage, Sandbox, SimUser
from tests.process import bot_process

ADMIN_ID = 700
WAIT = 20.0


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def act(user: SimUser, action: object) -> ChatMessage:
    """Waits for the bot's next new message to `user` after `action` (an awaitable)."""
    seen = max((m.message_id for m in user.messages), default=0)
    await action  # type: ignore[misc]
    return await user.wait_for(lambda m: m.message_id > seen, WAIT)


def code_from(message: ChatMessage) -> str:
    return message.text.split("?start=", 1)[1].split()[0]


def rows(database: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as conn:
        return list(conn.execute(sql))


async def test_customers_enroll_refuse_stop_and_block_through_the_real_process(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    admin = sandbox.user(ADMIN_ID, "Anne", language_code="en")
    bram = sandbox.user(11, "Bram", username="bram", language_code="nl")
    claire = sandbox.user(12, "Claire", username="claire", language_code="en")
    dirk = sandbox.user(13, "Dirk", username="dirk", language_code="nl")
    emma = sandbox.user(14, "Emma", language_code="en")
    finn = sandbox.user(15, "Finn", language_code="en")
    gina = sandbox.user(16, "Gina", username="gina", language_code="en")

    async with bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
        retail = code_from(await act(admin, admin.send("/invite retail")))
        wholesale = code_from(await act(admin, admin.send("/invite wholesale")))
        assert retail != wholesale
        # Dutch and English menus were set for customers.
        assert [name for name, _ in sandbox.commands()] == [
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
        ]
        assert sandbox.commands(language_code="nl")[0][1] == "Meedoen met Pulse"

        welcome = await act(bram, bram.send(f"/start {retail}"))
        assert "Hoi" in welcome.text
        await act(bram, bram.press("Ja, prima"))

        await act(claire, claire.send(f"/start {wholesale}"))
        await act(claire, claire.press("Yes, that's fine"))

        await act(dirk, dirk.send(f"/start {retail}"))
        refused = await act(dirk, dirk.press("Nee, liever niet"))
        assert "niets over je bewaard" in refused.text

        await act(emma, emma.send(f"/start {wholesale}"))
        await act(emma, emma.press("Yes, that's fine"))
        await act(emma, emma.send("/stop"))
        done = await act(emma, emma.press("Yes, stop"))
        assert "won't hear from me" in done.text

        await act(finn, finn.send(f"/start {retail}"))
        await act(finn, finn.press("Yes, that's fine"))
        await finn.block()

        # An invalid link stores nothing and the process keeps going.
        invalid = await act(gina, gina.send("/start nope"))
        assert "not valid" in invalid.text
        # Updates are handled in order, so once Gina has her answer Finn's block is stored.

    assert bot.process.returncode == 0, bot.output()
    assert sandbox.token not in bot.output()
    assert sandbox.token.split(":")[1] not in bot.output()
    customers = rows(
        bot.database,
        "SELECT c.first_name, c.username, s.name, c.language, c.status FROM customers c"
        " JOIN segments s ON s.id = c.segment_id ORDER BY c.user_id",
    )
    assert customers == [
        ("Bram", "bram", "retail", "nl", "active"),
        ("Claire", "claire", "wholesale", "en", "active"),
        ("Emma", None, "wholesale", "en", "stopped"),
        ("Finn", None, "retail", "en", "blocked"),
    ]
    assert rows(bot.database, "SELECT user_id FROM consent_refusals") == [(13,)]
    assert rows(bot.database, "SELECT COUNT(*) FROM pending_enrollments") == [(0,)]
    # Nothing about Dirk or Gina besides Dirk's bare refusal.
    dump = "\n".join(sqlite3.connect(bot.database).iterdump())
    assert "Dirk" not in dump
    assert "dirk" not in dump
    assert "Gina" not in dump
    assert rows(bot.database, "SELECT action FROM audit_log ORDER BY id") == [
        ("segment.create",),
        ("invite.create",),
        ("segment.create",),
        ("invite.create",),
    ]


async def test_the_process_picks_up_where_it_was_after_a_restart(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    bram = sandbox.user(11, "Bram", language_code="nl")
    async with bot_process(sandbox, tmp_path, str(ADMIN_ID), name="first"):
        await act(bram, bram.send("/start"))
    # The consent question was answered after a restart: its state lives in the database.
    async with bot_process(sandbox, tmp_path, str(ADMIN_ID), name="second") as bot:
        enrolled = await act(bram, bram.press("Ja, prima"))
        assert "je doet mee" in enrolled.text
    assert rows(bot.database, "SELECT status FROM customers") == [("active",)]
