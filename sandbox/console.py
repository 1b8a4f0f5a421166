"""A terminal prompt on the sandbox: be a simulated customer or admin, send what they would
send, press their buttons, and read what the bot answered (`python -m sandbox`)."""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
from collections.abc import AsyncIterator, Awaitable, Callable

from sandbox.sandbox import Sandbox
from sandbox.transcript import BUTTONS_REMOVED, TranscriptEvent
from sandbox.users import SimulationError

# Who you are at first: the admin the README's command line configures (PULSE_ADMIN_IDS).
FIRST_USER = (500, "Anne", "en")
# How long to wait for the bot's answer to one action, and the lull that ends it.
ANSWER_SECONDS = 5.0
QUIET_SECONDS = 0.3
# How long :wait waits for the bot to write to you unprompted.
WAIT_SECONDS = 60.0

HELP = """\
Anything you type is sent to the bot by the user you are (a /command too). And:
  :as <id> [first name] [language]   be this user (made the first time; nl or en for Dutch
                                     or English, as Telegram reports it)
  :press <number or label>           press a button under your newest message that has it
                                     (numbers as shown: [1: ...] [2: ...])
  :block, :unblock                   block the bot, or unblock it
  :wait [seconds]                    wait until the bot writes to you (a check-in, an alert;
                                     at most 60 s), and show what it sent meanwhile; an
                                     empty line shows what came at once
  :users                             the users made so far
  :help, :quit"""


def introduction(sandbox: Sandbox) -> list[str]:
    """Where the sandbox listens, and the command line that runs Pulse against it."""
    server = sandbox.base_url.removesuffix("/bot")
    return [
        f"Sandbox Bot API at {server} (token {sandbox.token})",
        "Run Pulse against it in another terminal:",
        f"  PULSE_TELEGRAM_BASE_URL={server} PULSE_BOT_TOKEN={sandbox.token}"
        f" PULSE_ADMIN_IDS={FIRST_USER[0]} .venv/bin/pulsebot run",
    ]


class Console:
    """Reads lines, acts as the chosen simulated user, and writes what the bot answered."""

    def __init__(
        self,
        sandbox: Sandbox,
        write: Callable[[str], None],
        *,
        answer_seconds: float = ANSWER_SECONDS,
    ) -> None:
        self.sandbox = sandbox
        self._write = write
        self._answer_seconds = answer_seconds
        user_id, name, language = FIRST_USER
        self.user = sandbox.user(user_id, name, language_code=language)
        self._shown = len(sandbox.transcript)

    def introduce(self) -> None:
        """Where the sandbox is, how to point Pulse at it, and who you are."""
        for line in introduction(self.sandbox):
            self._write(line)
        self._write(f"{self._who()}. Type /start to begin, :help for what else you can do.")

    def prompt(self) -> str:
        """What the prompt shows: who you are."""
        return f"{self.user.name}> "

    async def run(self, lines: AsyncIterator[str]) -> None:
        """Handles lines until :quit or the end of the input."""
        async for line in lines:
            if not await self.handle(line):
                return

    async def handle(self, line: str) -> bool:
        """Carries out one line; False when it asks to quit."""
        line = line.strip()
        if not line:
            self._show_new()
        elif not line.startswith(":"):
            await self._act(lambda: self.user.send(line))
        else:
            command, _, rest = line[1:].partition(" ")
            return await self._command(command.lower(), rest.strip())
        return True

    async def _command(self, command: str, rest: str) -> bool:
        if command in ("quit", "exit", "q"):
            return False
        if command == "as":
            self._become(rest)
        elif command == "press" and rest:
            await self._act(lambda: self._press(rest))
        elif command == "block":
            await self._act(self.user.block, answered=False)  # the bot says nothing to that
        elif command == "unblock":
            await self._act(self.user.unblock, answered=False)
        elif command == "wait":
            await self._wait(rest)
        elif command == "users":
            for user in self.sandbox.users:
                self._write(f"  {user.id} {user.name} ({user.person.language_code or '-'})")
        else:
            self._write(HELP)
        return True

    def _become(self, rest: str) -> None:
        try:
            words = shlex.split(rest)
            user_id = int(words[0])
        except (IndexError, ValueError):
            self._write("(:as needs a user id, for example :as 1001 Bram nl)")
            return
        name = words[1] if len(words) > 1 else f"User {user_id}"
        language = words[2] if len(words) > 2 else None
        try:
            self.user = self.sandbox.user(user_id, name, language_code=language)
        except ValueError as exc:
            self._write(f"({exc})")
            return
        self._write(f"{self._who()}.")

    async def _press(self, label: str) -> None:
        with_buttons = [m for m in self.user.messages if m.buttons]
        if label.isdigit() and with_buttons:
            newest = with_buttons[-1]
            labels = [button for row in newest.buttons for button in row]
            if not 1 <= int(label) <= len(labels):
                raise SimulationError(f"your newest buttons are numbered 1 to {len(labels)}")
            await self.user.press(labels[int(label) - 1], message=newest)
            return
        await self.user.press(label)

    async def _act(
        self, action: Callable[[], Awaitable[object]], *, answered: bool = True
    ) -> None:
        """Does `action`, waits for the bot's answer to it (`answered`) and for the lull
        after, then shows what the bot sent."""
        start = len(self.sandbox.transcript)
        try:
            await action()
        except SimulationError as exc:
            self._write(f"({exc})")
            return
        if answered:
            try:
                await self.sandbox.wait_until(lambda: self._answered(start), self._answer_seconds)
            except TimeoutError:
                self._write(
                    f"(no answer within {self._answer_seconds:g} s: is pulsebot run pointed at"
                    " this sandbox? :wait shows what comes later)"
                )
        # What follows from it (the old buttons coming off, an alert to the team) comes
        # soon after the answer; a moment without changes ends it.
        with contextlib.suppress(TimeoutError):
            await self.sandbox.wait_quiet(QUIET_SECONDS, self._answer_seconds)
        self._show_new()

    def _answered(self, start: int) -> bool:
        """Whether the bot said anything to you since transcript event `start` (buttons
        taken off an earlier message follow from an earlier press: not an answer)."""
        return any(
            event.direction == "bot->user"
            and event.who == self.user.name
            and event.kind != BUTTONS_REMOVED
            for event in self.sandbox.transcript[start:]
        )

    async def _wait(self, rest: str) -> None:
        try:
            seconds = float(rest) if rest else WAIT_SECONDS
        except ValueError:
            self._write("(:wait takes a number of seconds, for example :wait 10)")
            return
        # Until the bot writes to you of its own accord: a check-in round, an alert, a reply.
        try:
            await self.sandbox.wait_until(lambda: self._answered(self._shown), seconds)
        except TimeoutError:
            self._write(f"(nothing for {self.user.name} within {seconds:g} s)")
        with contextlib.suppress(TimeoutError):
            await self.sandbox.wait_quiet(QUIET_SECONDS, self._answer_seconds)
        self._show_new()

    def _show_new(self) -> None:
        events = self.sandbox.transcript[self._shown :]
        self._shown += len(events)
        for event in events:
            if event.direction == "bot->user":
                self._write(self._numbered(event).format())

    def _numbered(self, event: TranscriptEvent) -> TranscriptEvent:
        """Your own buttons numbered, as :press takes them."""
        if not event.buttons or event.who != self.user.name:
            return event
        count = 0
        rows = []
        for row in event.buttons:
            rows.append([f"{count + k + 1}: {label}" for k, label in enumerate(row)])
            count += len(row)
        return dataclasses.replace(event, buttons=rows)

    def _who(self) -> str:
        language = self.user.person.language_code or "no language"
        return f"You are {self.user.name} (user {self.user.id}, {language})"
