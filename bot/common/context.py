"""Typed access to Pulse's shared objects from every handler and job."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.catalog import Catalog
from bot.clock import Clock, epoch
from bot.common.commands import CommandTable
from bot.settings import Settings
from conversations.checkin_service import CheckinService
from conversations.enrollment_service import EnrollmentService
from storage import runtime_settings
from storage.db import Database
from storage.runtime_settings import RuntimeSettings

if TYPE_CHECKING:
    # Types only: the features build these in `bot.app`; every feature stands on this
    # module, so it imports none of them at run time.
    from bot.digest.answer_vectors import AnswerVectors
    from bot.sending.delivery import Sender
    from bot.tell.updates import TellSender

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What handlers need, opened in `post_init` and closed in `post_shutdown`."""

    settings: Settings
    db: Database
    catalog: Catalog
    clock: Clock
    enrollment: EnrollmentService
    checkin: CheckinService
    sender: Sender
    # "You said, we did" updates, sent once confirmed.
    tells: TellSender
    # Free-text answers' sentence vectors, computed after they are committed.
    vectors: AnswerVectors
    # Every command, who may use it and its handler (`bot.commands`).
    commands: CommandTable
    # Rebuilds the scheduler's jobs from the stored settings (`bot.running.scheduling`),
    # for a settings change to take effect at once (invariant 3).
    reschedule: Callable[[], Awaitable[None]]
    # The one registry of work beside the updates (alerts to staff, answer vectors, the
    # edits that close a pressed message's buttons): started by `spawn`, stopped by `abandon`.
    background: set[asyncio.Task[None]] = field(default_factory=set)
    # Of those, the ones shutdown lets finish (one quick call each) rather than cancel.
    finishing: set[asyncio.Task[None]] = field(default_factory=set)

    def now(self) -> int:
        """The clock's time as stored in the database."""
        return epoch(self.clock.now())

    async def runtime(self) -> RuntimeSettings:
        """The runtime settings as stored now. A job reads them once per run; an update's
        handlers share one read of them (`PulseContext.config`)."""
        return await self.db.read(runtime_settings.load)

    async def zone(self) -> ZoneInfo:
        """The time zone of schedules, quiet hours and dates: an admin's /timezone, else
        PULSE_TIMEZONE."""
        return (await self.runtime()).zone(self.settings.timezone)

    def spawn(self, work: Coroutine[Any, Any, None], *, finish: bool = False) -> None:
        """Runs `work` beside the update being handled: what it sends waits for its own
        turn in the outbound pacing, not the customer's conversation. `finish`: shutdown
        waits for it instead of cancelling it."""
        task = asyncio.create_task(work)
        self.background.add(task)
        if finish:
            self.finishing.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.background.discard(task)
        self.finishing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background work failed", exc_info=task.exception())

    async def settle(self) -> None:
        """Returns once the background work started so far has finished."""
        while self.background:
            await asyncio.gather(*list(self.background), return_exceptions=True)

    async def abandon(self) -> None:
        """At shutdown: stops the background work (paced alerts could take minutes; what
        they had not sent is still recorded as due, and goes out after the restart), and
        lets the quick work marked `finish` end."""
        for task in self.background - self.finishing:
            task.cancel()
        await asyncio.gather(*list(self.background), return_exceptions=True)


class BotData:
    """`context.bot_data`: holds the services once the application has started."""

    def __init__(self) -> None:
        self.services: Services | None = None


# The bot with Pulse's outbound limiter, whose per-call arguments are a dict.
PulseBot = ExtBot[dict[str, Any]]


class PulseContext(CallbackContext[PulseBot, dict[Any, Any], dict[Any, Any], BotData]):
    """The context every Pulse handler receives: PTB builds one per update, shared by the
    handlers of every group the update reaches."""

    _config: RuntimeSettings | None = None

    async def config(self) -> RuntimeSettings:
        """The runtime settings as this update found them: read on first use, then the same
        snapshot for every handler and service the update reaches, so one update never acts
        on two versions of them. (A change the update makes itself is `SettingsChange.new`.)"""
        if self._config is None:
            self._config = await self.services.runtime()
        return self._config

    async def zone(self) -> ZoneInfo:
        """The time zone of this update's snapshot of the settings."""
        return (await self.config()).zone(self.services.settings.timezone)

    @property
    def services(self) -> Services:
        """The running application's services."""
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services are not open: post_init has not run")
        return services


PulseApplication = Application[
    PulseBot, PulseContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]
]
