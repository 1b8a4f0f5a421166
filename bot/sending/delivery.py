"""Bulk sending: invitations and reminders, evenly paced, with Telegram's errors classified.

Invitations are claimed in the database before they are sent and recorded after, never
inside a transaction that awaits Telegram (invariant 4).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from bot.catalog import Catalog
from bot.clock import Clock, epoch
from bot.common.quiet_hours import quiet_until
from bot.common.replying import render_markup, render_text
from bot.sending.outbound import BULK, OutboundLimiter
from conversations import checkin
from conversations.replies import Reply
from storage import customers, invitation_delivery, invitations, runtime_settings
from storage.customers import CustomerStatus
from storage.db import Database
from storage.invitations import CheckinState, Delivery, Invitation
from storage.runtime_settings import RuntimeSettings

log = logging.getLogger(__name__)

BATCH = 100
CONCURRENCY = 8
# An invitation whose send still fails after the bulk policy's tries waits this long in the
# queue for a later drain.
REQUEUE_AFTER = 300


@dataclass
class DrainReport:
    sent: int = 0
    uncertain: int = 0
    failed: int = 0
    blocked: int = 0
    requeued: int = 0


class Sender:
    """Drains due invitations and reminders; one drain at a time."""

    def __init__(
        self, db: Database, bot: ExtBot[Any], catalog: Catalog, clock: Clock, zone: ZoneInfo
    ) -> None:
        self._db = db
        self.bot = bot
        self._catalog = catalog
        self._clock = clock
        self._zone = zone
        self._lock = asyncio.Lock()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def wake(self) -> None:
        """Drains in the background (a round's sends must not hold up the updates)."""
        if self._stopping:
            return
        if self._task is not None and not self._task.done():
            self._again = True  # new invitations may have been committed after its last claim
            return
        self._task = asyncio.create_task(self._background(), name="checkin:drain")

    async def _background(self) -> None:
        while True:
            self._again = False
            try:
                await self.drain()
            except Exception:
                log.exception("sending stopped by an error; the upkeep job will resume it")
                return
            if not self._again or self._stopping:
                return

    def stop(self) -> None:
        """Makes a running drain finish after the sends in flight."""
        self._stopping = True

    async def close(self) -> None:
        """Stops sending and waits for the background drain to finish."""
        self.stop()
        if self._task is not None:
            await self._task

    async def drain(self) -> DrainReport:
        """Sends every invitation that is due, then every reminder that is due."""
        report = DrainReport()
        async with self._lock:
            config = await self._db.read(runtime_settings.load)
            apply_send_limits(self.bot, config)
            now = self._clock.now()
            zone = config.zone(self._zone.key)
            if quiet_until(now, zone, config.quiet_start, config.quiet_end) is not None:
                return report
            await self._send_due(report)
            if config.reminder_hours is not None and not self._stopping:
                await self._remind(config.reminder_hours, report)
        return report

    async def expire(self) -> int:
        """Ends every invitation past its expiry."""
        # Long: a whole round's invitations may end at once.
        expire = partial(invitations.expire_overdue, now=epoch(self._clock.now()))
        return await self._db.write(expire, long=True)

    async def _claim(self) -> list[tuple[Invitation, str]]:
        now = epoch(self._clock.now())

        def claim_batch(conn: sqlite3.Connection) -> list[tuple[Invitation, str]]:
            due = invitation_delivery.due_for_delivery(conn, now, BATCH)
            invitation_delivery.mark_sending(conn, [i.id for i in due])
            names = {}
            for invitation in due:
                customer = customers.find(conn, invitation.user_id)
                names[invitation.id] = customer.first_name if customer else ""
            return [(i, names[i.id]) for i in due]

        return await self._db.write(claim_batch)

    async def _send_due(self, report: DrainReport) -> None:
        """Sends every due invitation, `CONCURRENCY` at a time, claimed `BATCH` at a time.

        The next batch is claimed while the last sends of the one before are still out, so
        a round goes out at the full pace with no pause between batches.
        """
        queue: asyncio.Queue[tuple[Invitation, str]] = asyncio.Queue()
        claiming = asyncio.Lock()
        exhausted = False

        async def top_up() -> None:
            nonlocal exhausted
            async with claiming:
                if exhausted or self._stopping or queue.qsize() >= CONCURRENCY:
                    return
                batch = await self._claim()
                exhausted = not batch
                for item in batch:
                    queue.put_nowait(item)

        async def worker() -> None:
            while True:
                if queue.qsize() < CONCURRENCY:
                    await top_up()
                if queue.empty():
                    return  # nothing due, or stopping: what was claimed has been sent
                invitation, name = queue.get_nowait()
                await self._send_invitation(invitation, name, report)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

    async def _send_invitation(
        self, invitation: Invitation, name: str, report: DrainReport
    ) -> None:
        reply = checkin.first_question(invitation, name)
        try:
            message = await self._send(invitation.chat_id, reply)
        except TimedOut:
            # Telegram may have delivered it: answering stays possible, resending is not done.
            await self._record(invitation, None, Delivery.UNCERTAIN)
            report.uncertain += 1
        except Forbidden as exc:
            await self._blocked(invitation, str(exc))
            report.blocked += 1
        except BadRequest as exc:
            if "chat not found" not in exc.message.lower():
                log.error("invitation %s refused: %s", invitation.id, exc.message)
            await self._fail(invitation, exc.message)
            report.failed += 1
        except (NetworkError, RetryAfter) as exc:
            # Still failing after the retries (or flood control that will not lift): the
            # invitation waits for a later drain rather than being dropped.
            requeue = partial(
                invitation_delivery.retry_later,
                invitation_id=invitation.id,
                send_after=epoch(self._clock.now()) + REQUEUE_AFTER,
                error=exc.message,
            )
            await self._db.write(requeue)
            report.requeued += 1
        else:
            await self._record(invitation, message.message_id, Delivery.SENT)
            report.sent += 1

    async def _send(self, chat_id: int, reply: Reply) -> Message:
        """One bulk send through the outbound path, which paces it and tries it again after
        a 429 or a passing failure."""
        return await self.bot.send_message(
            chat_id,
            render_text(self._catalog, reply),
            reply_markup=render_markup(self._catalog, reply),
            rate_limit_args=BULK,
        )

    async def _record(
        self, invitation: Invitation, message_id: int | None, delivery: Delivery
    ) -> None:
        mark = partial(
            invitation_delivery.mark_sent,
            invitation_id=invitation.id,
            message_id=message_id,
            now=epoch(self._clock.now()),
            delivery=delivery,
        )
        await self._db.write(mark)

    async def _fail(self, invitation: Invitation, error: str) -> None:
        mark = partial(
            invitation_delivery.mark_failed,
            invitation_id=invitation.id,
            error=error,
            now=epoch(self._clock.now()),
        )
        await self._db.write(mark)

    async def _blocked(self, invitation: Invitation, error: str) -> None:
        """403: the customer blocked the bot or deleted their account; never retried."""
        now = epoch(self._clock.now())

        def record_blocked(conn: sqlite3.Connection) -> None:
            invitation_delivery.mark_failed(conn, invitation.id, error=error, now=now)
            if customers.find(conn, invitation.user_id) is not None:
                customers.set_status(conn, invitation.user_id, CustomerStatus.BLOCKED, now=now)
            invitations.close_open_for_user(conn, invitation.user_id, CheckinState.STOPPED, now)

        await self._db.write(record_blocked)

    async def _remind(self, hours: int, report: DrainReport) -> None:
        now = epoch(self._clock.now())
        after = int(timedelta(hours=hours).total_seconds())
        while not self._stopping:
            due = await self._db.read(
                lambda conn: invitation_delivery.due_reminders(conn, now, after, BATCH)
            )
            if not due:
                return
            for invitation in due:
                # Claimed before sending: a crash after this loses the reminder rather
                # than sending a second one.
                claim = partial(
                    invitation_delivery.mark_reminded, invitation_id=invitation.id, now=now
                )
                claimed = await self._db.write(claim)
                if claimed:
                    await self._send_reminder(invitation, report)

    async def _send_reminder(self, invitation: Invitation, report: DrainReport) -> None:
        try:
            await self._send(invitation.chat_id, checkin.reminder(invitation))
        except Forbidden as exc:
            await self._blocked(invitation, str(exc))
            report.blocked += 1
        except (BadRequest, NetworkError, RetryAfter) as exc:
            log.warning("reminder for invitation %s not sent: %s", invitation.id, exc)


def apply_send_limits(bot: ExtBot[Any], config: RuntimeSettings) -> None:
    """Sets the outbound path's overall rate and per-chat spacing (runtime settings)."""
    limiter = getattr(bot, "rate_limiter", None)
    if isinstance(limiter, OutboundLimiter):
        limiter.rate = config.send_rate
        limiter.chat_interval = config.chat_interval
