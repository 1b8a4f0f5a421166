"""End to end: one transient Telegram error never stops `pulsebot run`.

The real process runs against the sandbox, which answers chosen Bot API calls with a 429
(with `retry_after`) or a 5xx. What must hold: the bot keeps running, loses nothing, sends
nothing twice, waits a 429 out exactly, and says in its log what happened; only a refused
token stops it at once, and a Bot API that stays down at start-up ends it after a bounded
number of logged tries, in one line.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.sending.retries import STARTUP
from sandbox import Fault, Sandbox, SimUser
from sandbox.server import RecordedRequest
from tests.process import BotProcess, bot_process, start_bot, stop_bot

ADMIN_ID = 700
WAIT = 30.0
HELP = ("/help", "/stop")  # words every /help reply has, to a stranger or a customer


def calls(sandbox: Sandbox, method: str) -> list[RecordedRequest]:
    return [r for r in sandbox.requests if r.method.lower() == method.lower()]


def replies_to(sandbox: Sandbox, person: SimUser) -> list[RecordedRequest]:
    """The sendMessage calls to this person that Telegram accepted."""
    return [
        r
        for r in calls(sandbox, "sendMessage")
        if r.ok and str(r.params.get("chat_id")) == str(person.id)
    ]


async def asks_help(person: SimUser) -> None:
    seen = len(person.messages)
    await person.send("/help")
    await person.wait_for(lambda m: len(person.messages) > seen, WAIT)


async def exits(running: BotProcess) -> int:
    return await asyncio.wait_for(running.process.wait(), timeout=60)


async def refused_poll(sandbox: Sandbox, fault: Fault, times: int) -> int:
    """Injects `fault` on getUpdates and waits until the poller has met it `times` times;
    returns where the polls from the injection on start in `calls(sandbox, "getUpdates")`."""
    before = len(calls(sandbox, "getUpdates"))
    sandbox.inject("getUpdates", fault, times=times)
    await sandbox.wait_until(
        lambda: sum(1 for r in calls(sandbox, "getUpdates")[before:] if not r.ok) == times, WAIT
    )
    return before


async def test_a_429_on_get_updates_waits_its_retry_after_and_loses_nothing(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox, bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
        customer = sandbox.user(9001, "Zoë", language_code="en", started=True)
        before = await refused_poll(sandbox, Fault.too_many_requests(retry_after=2), 1)
        # Sent while the poller waits: Telegram holds it until the next poll.
        await asks_help(customer)
        await sandbox.wait_quiet(quiet=0.5, timeout=WAIT)

        polls = calls(sandbox, "getUpdates")[before:]
        refused = next(k for k, r in enumerate(polls) if r.status == 429)
        # As long as Telegram asked, no shorter.
        assert polls[refused + 1].at - polls[refused].at >= 2.0
        assert len(replies_to(sandbox, customer)) == 1
        assert bot.process.returncode is None
        assert (
            "getUpdates failed (Flood control exceeded. Retry in 0:00:02); trying again in 2.0 s"
            in (bot.output())
        )


async def test_server_errors_on_get_updates_back_off_and_polling_goes_on(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox, bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
        customer = sandbox.user(9001, "Zoë", language_code="en", started=True)
        await refused_poll(sandbox, Fault.server_error(502), 3)
        await asks_help(customer)
        await sandbox.wait_quiet(quiet=0.5, timeout=WAIT)

        assert len(replies_to(sandbox, customer)) == 1
        assert bot.process.returncode is None
        assert bot.output().count("getUpdates failed (Bad Gateway); trying again in") == 3


async def test_a_500_on_set_my_commands_at_start_up_is_logged_and_the_menus_come_later(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox:
        sandbox.inject("setMyCommands", Fault.server_error(500), times=1)
        async with bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
            # Running and serving while the menus wait for their second try.
            customer = sandbox.user(9001, "Zoë", language_code="en", started=True)
            await asks_help(customer)
            await sandbox.wait_until(lambda: bool(sandbox.commands(language_code="nl")), WAIT)
            assert sandbox.commands()  # the English (default language) menu too
            assert bot.process.returncode is None
            assert "could not set the default command menus: Internal Server Error" in (
                bot.output()
            )


async def test_a_502_from_get_me_at_start_up_is_waited_out(tmp_path: Path) -> None:
    async with Sandbox() as sandbox:
        sandbox.inject("getMe", Fault.server_error(502), times=2)
        async with bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
            customer = sandbox.user(9001, "Zoë", language_code="en", started=True)
            await asks_help(customer)
            assert bot.output().count("getMe failed (Bad Gateway); trying again in") == 2


async def test_a_bot_api_down_at_start_up_ends_after_bounded_tries_in_one_line(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox:
        sandbox.inject("getMe", Fault.server_error(503), times=None)
        running = await start_bot(sandbox, tmp_path, str(ADMIN_ID))
        try:
            assert await exits(running) == 1
        finally:
            await stop_bot(running)
        assert len(calls(sandbox, "getMe")) == STARTUP.attempts
        output = running.output()
        assert "Traceback" not in output
        last = output.strip().splitlines()[-1]
        assert last.startswith("pulsebot: cannot reach the Bot API at ")
        assert "Service Unavailable" in last
        assert sandbox.token not in output


async def test_a_refused_token_stops_start_up_at_once(tmp_path: Path) -> None:
    async with Sandbox() as sandbox:
        sandbox.inject("getMe", Fault.error(401, "Unauthorized"), times=None)
        running = await start_bot(sandbox, tmp_path, str(ADMIN_ID))
        try:
            assert await exits(running) == 2
        finally:
            await stop_bot(running)
        assert len(calls(sandbox, "getMe")) == 1
        assert (
            running.output()
            .strip()
            .splitlines()[-1]
            .startswith("pulsebot: PULSE_BOT_TOKEN was refused by the Bot API")
        )


async def test_a_429_and_a_500_on_send_message_deliver_the_reply_once(tmp_path: Path) -> None:
    async with Sandbox() as sandbox, bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
        customer = sandbox.user(9001, "Zoë", language_code="en", started=True)
        sandbox.inject(
            "sendMessage", Fault.too_many_requests(retry_after=1), times=1, chat_id=customer.id
        )
        sandbox.inject("sendMessage", Fault.server_error(500), times=1, chat_id=customer.id)
        await asks_help(customer)
        await sandbox.wait_quiet(quiet=0.5, timeout=WAIT)

        to_customer = [
            r for r in calls(sandbox, "sendMessage") if str(r.params.get("chat_id")) == "9001"
        ]
        assert [r.status for r in to_customer] == [429, 500, 200]
        assert sum(1 for m in customer.messages if any(w in m.text for w in HELP)) == 1
        output = bot.output()
        assert "Telegram asked to wait 1.0 s (sendMessage)" in output
        assert "sendMessage failed (Internal Server Error); trying again in" in output
        assert bot.process.returncode is None


async def test_debug_logs_hold_no_names_handles_or_answer_text(tmp_path: Path) -> None:
    # The bot runs at DEBUG (tests.process sets it), where libraries log the most.
    async with Sandbox() as sandbox, bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
        customer = sandbox.user(
            9001, "Zoëtje", last_name="Geheimnaam", username="zoe_secret", started=True
        )
        await asks_help(customer)
        seen = len(customer.messages)
        await customer.send("Onze leverancier levert altijd te laat")
        await customer.wait_for(lambda m: len(customer.messages) > seen, WAIT)
        await sandbox.wait_quiet(quiet=0.5, timeout=WAIT)
        output = bot.output()
    for private in ("Zoëtje", "Geheimnaam", "zoe_secret", "leverancier levert"):
        assert private not in output
    assert " DEBUG " in output  # it did log at DEBUG
