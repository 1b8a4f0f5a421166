"""Typed access to Pulse's shared objects from every handler and job."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.catalog import Catalog
from bot.clock import Clock, epoch
from bot.delivery import Sender
from bot.settings import Settings
from conversations.checkin_service import CheckinService
from conversations.enrollment_service import EnrollmentService
from storage.db import Database


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

    def now(self) -> int:
        """The clock's time as stored in the database."""
        return epoch(self.clock.now())


class BotData:
    """`context.bot_data`: holds the services once the application has started."""

    def __init__(self) -> None:
        self.services: Services | None = None


# The bot with Pulse's outbound limiter, whose per-call arguments are a dict.
PulseBot = ExtBot[dict[str, Any]]


class PulseContext(CallbackContext[PulseBot, dict[Any, Any], dict[Any, Any], BotData]):
    """The context every Pulse handler receives."""

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
