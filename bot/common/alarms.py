"""Alarms to the admins when Pulse itself fails: an error no handler caught, a check-in
round that could not run, a weekly digest that could not be sent. At most one of each kind
an hour, counted in the database so that a crash loop does not repeat them at every start."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import Any

from telegram.error import TelegramError

from bot.catalog import Html
from bot.common.context import Services
from bot.common.display import run_text
from storage import alarms, digests, team
from storage.digests import Recipient
from storage.team import Role

log = logging.getLogger(__name__)

# One alarm of a kind an hour: enough to know something is wrong, not a flood while it stays so.
INTERVAL_SECONDS = 3600


class Alarm(StrEnum):
    """What failed; each kind has its own hourly limit."""

    ERROR = "error"
    ROUND = "round"
    DIGEST = "digest"


async def raise_alarm(
    services: Services, kind: Alarm, key: str, *, when: datetime | None = None, **params: Any
) -> int:
    """Tells every admin, in their language, the catalog text `key` (filled with `params`
    and `when` it failed, by default now), unless an alarm of this `kind` went out in the
    last hour. Returns how many admins it reached.

    Never raises: it runs where something has already failed (the error handler, a failed
    round), and a broken database or an unreachable Telegram must not add a second failure
    there; what it could not do is logged.
    """
    try:
        return await _raise(services, kind, key, when or services.clock.now(), params)
    except Exception:
        log.warning("the %s alarm could not be sent", kind.value, exc_info=True)
        return 0


async def _raise(
    services: Services, kind: Alarm, key: str, when: datetime, params: dict[str, Any]
) -> int:
    claimed = await services.db.write(
        partial(alarms.claim, kind=kind.value, now=services.now(), interval=INTERVAL_SECONDS)
    )
    if not claimed:
        log.info("the %s alarm went out less than an hour ago: not sent again", kind.value)
        return 0
    recipients = await _admins(services)
    moment = when.astimezone(await services.zone())
    catalog = services.catalog
    reached = 0
    for recipient in recipients:
        language = recipient.language
        said = catalog.text(language, key, when=run_text(catalog, language, moment), **params)
        text = Html(f"{said}\n{catalog.text(language, 'alarms.footer')}")
        try:
            await services.sender.bot.send_message(recipient.user_id, text)
        except TelegramError as exc:
            # Forbidden: an admin who never started the bot, or blocked it.
            log.warning(
                "the %s alarm to %s failed: %s", kind.value, recipient.user_id, exc.message
            )
        else:
            reached += 1
    log.info("the %s alarm reached %d of %d admins", kind.value, reached, len(recipients))
    return reached


async def _admins(services: Services) -> list[Recipient]:
    """The configured admins and the admins added at runtime, with their languages."""

    def recipients_and_added_admins(conn: sqlite3.Connection) -> tuple[list[Recipient], set[int]]:
        everyone = digests.recipients(conn, services.settings.admin_ids)
        added = {m.user_id for m in team.list_all(conn) if m.role is Role.ADMIN}
        return everyone, added

    everyone, added = await services.db.read(recipients_and_added_admins)
    admins = added | set(services.settings.admin_ids)
    return [r for r in everyone if r.user_id in admins]
