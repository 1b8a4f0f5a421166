"""`python -m sandbox`, tried by hand: its prompt acts as an admin and a customer against
the real `pulsebot run`, pointed at it as the prompt says, and shows what the bot answered."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sandbox import Sandbox
from sandbox.console import Console

WAIT = 30.0


class Terminal:
    """A process on pipes, read as a person reads a terminal: until the expected text shows."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen = ""
        self._read = 0

    async def expect(self, text: str | re.Pattern[str]) -> str:
        """Everything printed from where the last `expect` stopped up to and including a
        line with `text`, waiting at most WAIT seconds for it."""
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(WAIT):
                while not _found(text, self.seen[self._read :]):
                    line = await self.process.stdout.readline()
                    assert line, f"the prompt ended before {text!r}:\n{self.seen}"
                    self.seen += line.decode()
        except TimeoutError:
            said = f"no {text!r} within {WAIT} s; it printed:\n{self.seen}"
            raise AssertionError(said) from None
        found = _found(text, self.seen[self._read :])
        assert found is not None
        start, self._read = self._read, self._read + found
        return self.seen[start : self._read]

    async def type(self, line: str) -> None:
        """Types a line, as at the prompt."""
        assert self.process.stdin is not None
        self.process.stdin.write(f"{line}\n".encode())
        await self.process.stdin.drain()


def _found(text: str | re.Pattern[str], output: str) -> int | None:
    """Where the line holding `text` ends in `output`, or None."""
    if isinstance(text, str):
        at = output.find(text)
        end = at + len(text) if at >= 0 else -1
    else:
        match = text.search(output)
        end = match.end() if match else -1
    if end < 0:
        return None
    newline = output.find("\n", end)
    return None if newline < 0 else newline + 1


def environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    # Any free port for /healthz: tests run side by side.
    env.update(PULSE_HEALTH_PORT="0")
    env.update(values)
    return env


@asynccontextmanager
async def started(*args: str, cwd: Path, env: dict[str, str], log: Path | None = None) -> (
    AsyncIterator[asyncio.subprocess.Process]
):
    sink = log.open("wb") if log is not None else None
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=sink or asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            await asyncio.wait_for(process.wait(), WAIT)
        if sink is not None:
            sink.close()


async def test_the_sandbox_prompt_plays_an_admin_and_a_customer_against_pulsebot_run(
    tmp_path: Path,
) -> None:
    async with started(
        "-m", "sandbox", "--port", "0", "--prompt", cwd=tmp_path, env=environment()
    ) as sandbox_process:
        terminal = Terminal(sandbox_process)
        intro = await terminal.expect("Type /start to begin")
        # The command line it prints is the one to run, as README says.
        command = re.search(r"^  (PULSE_TELEGRAM_BASE_URL=.*) \S*pulsebot run$", intro, re.M)
        assert command is not None, intro
        settings = dict(pair.split("=", 1) for pair in command[1].split())
        assert settings["PULSE_ADMIN_IDS"] == "500"
        assert "You are Anne (user 500, en)" in intro
        async with started(
            "-m", "bot", "run", cwd=tmp_path, env=environment(**settings), log=tmp_path / "bot.log"
        ) as bot:
            await terminal.type("/start")
            greeting = await terminal.expect("bot -> Anne: Hi Anne! You are an admin of Pulse")
            assert "Anne -> bot" not in greeting  # what you typed is not echoed back
            await terminal.type("/invite retail")
            link = await terminal.expect(re.compile(r"\?start=[\w-]+"))
            code = re.findall(r"\?start=([\w-]+)", link)[-1]

            await terminal.type(":as 1001 Bram nl")
            await terminal.expect("You are Bram (user 1001, nl).")
            await terminal.type(f"/start {code}")
            await terminal.expect("Mag ik je af en toe deze vragen stellen?")
            await terminal.expect("[1: Ja, prima] [2: Nee, liever niet]")
            await terminal.type(":press 1")
            await terminal.expect("bot -> Bram: Dank je, je doet mee!")

            await terminal.type(":as 500")
            await terminal.expect("You are Anne (user 500, en).")
            await terminal.type("/quiet off")  # the clock is the real one: it may be night
            await terminal.expect("bot -> Anne: Quiet hours:")
            await terminal.type("/checkin_now")
            await terminal.expect("bot -> Anne: Check-in round started: 1 invited.")

            await terminal.type(":as 1001")
            await terminal.type(":wait 20")  # the round's question comes when it is sent
            await terminal.expect("bot -> Bram: Hoi Bram! Een korte check-in")
            await terminal.type(":press 🙁 2")  # by its label
            await terminal.expect("bot -> Bram: Wat is op dit moment je grootste uitdaging?")
            # Another chat's message, shown as it comes: the low score's alert to the admin.
            await terminal.expect("bot -> Anne: 🔔 Follow-up #1: Bram · retail")
            await terminal.type("Onze planning loopt steeds vast")
            await terminal.expect("bot -> Bram: Wat kunnen we beter doen voor jou?")
            await terminal.type(":press 9")
            await terminal.expect("(your newest buttons are numbered 1 to 1)")
            await terminal.type(":frobnicate")
            await terminal.expect(":as <id> [first name] [language]")
            await terminal.type(":quit")
            assert await asyncio.wait_for(sandbox_process.wait(), WAIT) == 0
            assert bot.returncode is None


async def test_the_prompt_answers_bad_input_with_a_reason_and_says_when_no_bot_answers() -> None:
    written: list[str] = []
    async with Sandbox() as sandbox:
        console = Console(sandbox, written.append, answer_seconds=0.2)
        for line in (":as", ":as Bram", ":as 0 Nobody", ":press 1", ":wait soon", "hello"):
            assert await console.handle(line)
        assert not await console.handle(":quit")
        assert [user.id for user in sandbox.users] == [500]
    assert written == [
        "(:as needs a user id, for example :as 1001 Bram nl)",
        "(:as needs a user id, for example :as 1001 Bram nl)",
        "(user id 0 must be positive and not yet in use)",
        "(Anne sees no button '1' in Anne; latest messages:\n  (none))",
        "(:wait takes a number of seconds, for example :wait 10)",
        "(no answer within 0.2 s: is pulsebot run pointed at this sandbox? :wait shows what"
        " comes later)",
    ]
