"""`Sandbox`: a loopback fake Telegram that a real bot talks to over HTTP, driven from tests."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from sandbox.commands import CommandScope
from sandbox.faults import Fault, Injection, SandboxStats
from sandbox.methods import BotApi
from sandbox.server import ApiServer, RecordedRequest
from sandbox.transcript import TranscriptEvent, format_transcript
from sandbox.users import SimChat, SimUser
from sandbox.webhook import WebhookDelivery
from sandbox.world import Chat, Person, World

DEFAULT_TOKEN = "123456:SANDBOX-TOKEN"  # noqa: S105 - made up; the sandbox checks only this
# Long polls end as soon as the sandbox stops, so only injected delays can hold shutdown up.
_SHUTDOWN_SECONDS = 1.0


class SandboxNotRunning(RuntimeError):
    """The sandbox's address was asked for before `start()` or after `stop()`."""


class Sandbox:
    """A fake Bot API server on 127.0.0.1 with simulated users, faults and flood limits."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "pulse_sandbox_bot",
        *,
        bot_name: str = "Pulse",
        host: str = "127.0.0.1",
        port: int = 0,
        enforce_rate_limits: bool = False,
        round_trip_delay: float = 0.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("a bot token looks like '<bot id>:<secret>'")
        self.token = token
        self.host = host
        self._requested_port = port
        bot = Person(int(bot_id), bot_name, username=bot_username, is_bot=True)
        self._world = World(bot, clock)
        self._server = ApiServer(token, BotApi(self._world), self._world.signal, clock)
        self._server.enforce_rate_limits = enforce_rate_limits
        self._server.round_trip_delay = round_trip_delay
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._users: dict[int, SimUser] = {}
        self._groups: dict[int, SimChat] = {}

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        """Starts serving on `host`, on a free port unless one was given."""
        if self._runner is not None:
            return
        runner = web.AppRunner(
            self._server.build_app(),
            access_log=None,  # request paths carry the bot token
            shutdown_timeout=_SHUTDOWN_SECONDS,
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            # Binding ourselves is how port 0 tells us which free port it picked.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._world.updates.reopen()
        self._runner = runner
        self._port = sock.getsockname()[1]
        await self._world.webhook.start()

    async def stop(self) -> None:
        """Ends pending long polls and stops serving."""
        if self._runner is None:
            return
        self._world.updates.close()
        await self._world.webhook.stop()
        runner, self._runner, self._port = self._runner, None, None
        await runner.cleanup()

    @property
    def port(self) -> int:
        """The port the sandbox listens on."""
        if self._port is None:
            raise SandboxNotRunning("the sandbox is not running; call start() first")
        return self._port

    @property
    def base_url(self) -> str:
        """What to give PTB as `base_url`: it appends the token and the method name."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def bot(self) -> Person:
        """The bot's own account (id from the token, username as given)."""
        return self._world.bot

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
        started: bool = False,
    ) -> SimUser:
        """A simulated user with a private chat (same id); the same id gives the same user.

        `started` makes one who talked to the bot before the sandbox began (an existing
        customer), so the bot may write to them without a /start first.
        """
        if user_id in self._users:
            return self._users[user_id]
        if user_id <= 0 or user_id in self._world.chats:
            raise ValueError(f"user id {user_id} must be positive and not yet in use")
        person = Person(user_id, first_name, last_name, username, language_code)
        chat = Chat(user_id, "private", person=person, started=started)
        self._world.chats[user_id] = chat
        self._users[user_id] = SimUser(self._world, person, chat)
        return self._users[user_id]

    @property
    def users(self) -> list[SimUser]:
        """The simulated users made so far, in the order they were made."""
        return list(self._users.values())

    def group(self, chat_id: int, title: str) -> SimChat:
        """A group chat the bot is a member of; ids from -100… make it a supergroup."""
        if chat_id in self._groups:
            return self._groups[chat_id]
        if chat_id >= 0 or chat_id in self._world.chats:
            raise ValueError(f"group id {chat_id} must be negative and not yet in use")
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        chat = Chat(chat_id, kind, title=title)
        self._world.chats[chat_id] = chat
        self._groups[chat_id] = SimChat(self._world, chat)
        return self._groups[chat_id]

    def inject(
        self, method: str, fault: Fault, *, times: int | None = 1, chat_id: int | None = None
    ) -> Injection:
        """Makes the next `times` calls of `method` ("*": any) fail or stall (None: all)."""
        return self._server.faults.add(method, fault, times, chat_id)

    def clear_faults(self) -> None:
        """Removes every injected fault."""
        self._server.faults.clear()

    @property
    def round_trip_delay(self) -> float:
        """Seconds added to every call, like the distance to Telegram's servers."""
        return self._server.round_trip_delay

    @round_trip_delay.setter
    def round_trip_delay(self, seconds: float) -> None:
        self._server.round_trip_delay = seconds

    @property
    def enforce_rate_limits(self) -> bool:
        """Whether 30 messages/s overall and 1/s per chat are enforced with 429s."""
        return self._server.enforce_rate_limits

    @enforce_rate_limits.setter
    def enforce_rate_limits(self, enforce: bool) -> None:
        self._server.enforce_rate_limits = enforce

    @property
    def stats(self) -> SandboxStats:
        """Counts of requests, flood-limit refusals and injected faults."""
        return self._server.stats

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every call the bot made, in order."""
        return self._server.requests

    def count(self, method: str) -> int:
        """How many times the bot called `method` (case-insensitive)."""
        return sum(1 for r in self._server.requests if r.method.lower() == method.lower())

    @property
    def transcript(self) -> list[TranscriptEvent]:
        """What was said and done in every chat, in order."""
        return list(self._world.transcript)

    def format_transcript(self) -> str:
        """The transcript as readable text."""
        return format_transcript(self._world.transcript)

    def commands(
        self,
        scope_type: str = "default",
        chat_id: int | None = None,
        *,
        user_id: int | None = None,
        language_code: str = "",
    ) -> list[tuple[str, str]]:
        """The (command, description) pairs the bot set for exactly this scope and language."""
        scope = CommandScope(scope_type, chat_id, user_id)
        return self._world.menus.get(scope, language_code)

    @property
    def webhook(self) -> WebhookDelivery:
        """The webhook the bot set (`webhook.webhook`), how delivery went, and its knobs."""
        return self._world.webhook

    @property
    def pending_updates(self) -> int:
        """Updates the bot has not yet confirmed."""
        return self._world.updates.pending

    # Every wait takes its deadline as `timeout` so that a stuck bot fails a test quickly.
    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Waits until the bot has confirmed every update (not until it has handled them)."""
        await self.wait_until(lambda: self._world.updates.pending == 0, timeout)

    async def wait_quiet(self, quiet: float = 0.5, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Waits until every update is confirmed and nothing has changed for `quiet` seconds.

        Confirmed is not handled; a quiet spell after it is the nearest outside sign that
        the bot has worked through a backlog (tests use it after a restart).
        """
        async with asyncio.timeout(timeout):
            while True:
                await self.wait_idle(timeout)
                seen = self._world.version
                await asyncio.sleep(quiet)
                if self._world.version == seen and self._world.updates.pending == 0:
                    return

    async def wait_until(
        self,
        check: Callable[[], object],
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> None:
        """Waits until `check()` is true, re-checking at every change; else `TimeoutError`."""
        await self._world.signal.wait_until(check, timeout)
