"""End to end: a Bot API answer Pulse cannot use ends start-up in one line, and the token
never shows, however a server repeats it.

Some proxies and emulators answer with an HTML error page or a description that repeats
the request's path, `/bot<token>/<method>`; PTB puts those words in its errors, and writes
a "Bad Request: ..." description in lower case. The sandbox's faults send exactly that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox import Fault, Sandbox
from tests.process import BotProcess, bot_process, start_bot, stop_bot
from tests.test_e2e_faults import ADMIN_ID, WAIT, asks_help, calls, exits

# What some emulators answer to getMe: a user without the `is_bot` PTB requires.
NOT_A_USER = {"id": 123456, "first_name": "Pulse", "username": "pulse_sandbox_bot"}


def assert_no_token(sandbox: Sandbox, output: str) -> None:
    """Neither the token nor its secret half, in any case or quoting."""
    secret = sandbox.token.partition(":")[2]
    assert secret.lower() not in output.lower()
    assert "[REDACTED]" in output  # the server did repeat it, and it was masked


async def ends(sandbox: Sandbox, tmp_path: Path) -> tuple[int, str]:
    running = await start_bot(sandbox, tmp_path, str(ADMIN_ID))
    try:
        status = await exits(running)
    finally:
        await stop_bot(running)
    return status, running.output()


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


async def test_a_get_me_answer_without_is_bot_ends_start_up_in_one_line(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox:
        sandbox.inject("getMe", Fault.answer(NOT_A_USER), times=None)
        server = sandbox.base_url.removesuffix("/bot")
        status, output = await ends(sandbox, tmp_path)
    assert status == 1
    assert "Traceback" not in output
    assert last_line(output) == (
        f"pulsebot: the Bot API at {server} answered getMe"
        " with something Pulse cannot read (TypeError: User.__init__() missing 1 required"
        " positional argument: 'is_bot'); check that PULSE_TELEGRAM_BASE_URL is a Telegram"
        " Bot API server."
    )


async def test_an_unreadable_get_me_after_the_preflight_also_ends_in_one_line(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox:
        # The preflight's getMe goes through (an injected delay of nothing); the start-up's
        # own getMe, a moment later, gets the answer PTB cannot read.
        sandbox.inject("getMe", Fault.delay(0), times=1)
        sandbox.inject("getMe", Fault.answer(NOT_A_USER), times=None)
        status, output = await ends(sandbox, tmp_path)
    assert status == 1
    assert len(calls(sandbox, "getMe")) == 2
    assert "Traceback" not in output
    assert "answered getMe with something Pulse cannot read" in last_line(output)


@pytest.mark.parametrize(
    "fault",
    [
        Fault.error_page(400),
        # PTB writes this one as "No route to /bot123456:sandbox-token/getme".
        Fault.error(400, "Bad Request: no route to {path}"),
    ],
    ids=["html page", "json description"],
)
async def test_an_error_that_repeats_the_path_stops_start_up_without_the_token(
    tmp_path: Path, fault: Fault
) -> None:
    async with Sandbox() as sandbox:
        sandbox.inject("getMe", fault, times=None)
        status, output = await ends(sandbox, tmp_path)
    assert status == 1
    assert "Traceback" not in output
    line = last_line(output)
    assert line.startswith("pulsebot: cannot reach the Bot API at ")
    assert "/bot[REDACTED]/get" in line
    assert "(tried once)" in line
    assert not [n for n in output.splitlines() if " ERROR " in n or " CRITICAL " in n]
    assert_no_token(sandbox, output)


async def test_errors_that_repeat_the_path_while_running_are_logged_without_the_token(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox, bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
        customer = sandbox.user(9001, "Zoë", language_code="en", started=True)
        sandbox.inject("getUpdates", Fault.error_page(502), times=1)
        sandbox.inject(
            "sendMessage", Fault.error(400, "Bad Request: no route to {path}"), times=1
        )
        await customer.send("/help")  # its reply meets the 400, and the error handler logs it
        await sandbox.wait_until(lambda: len(calls(sandbox, "sendMessage")) >= 2, WAIT)
        await asks_help(customer)  # still serving
        output = await settled(bot)
    assert "getUpdates failed (Bad Gateway (502)" in output
    assert "No route to /bot[REDACTED]/sendmessage" in output
    assert_no_token(sandbox, output)


async def settled(bot: BotProcess) -> str:
    assert bot.process.returncode is None
    return bot.output()
