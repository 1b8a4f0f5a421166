"""`GET /healthz` and `GET /metrics`: what an operator's checks and dashboards read.

Served on a loopback port of its own in both polling and webhook mode (never on the
webhook's, which faces the internet). Health answers 200 or 503 with the reason of each
check in JSON; metrics are in the Prometheus text format, read at each scrape from the
counters the pipeline and the outbound pacing keep and from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.common.context import PulseApplication
from bot.running.inbox import UpdatePipeline
from bot.sending.outbound import OutboundLimiter, Priority
from bot.sending.transport import AiohttpRequest, ApiContact
from storage import service_status
from storage.service_status import ServiceStatus

log = logging.getLogger(__name__)

# A database that takes longer than this to give its write lock is not healthy.
DATABASE_SECONDS = 5.0
# Calls to Telegram failing, with no answer for this long, make the bot unhealthy (a
# passing 5xx or a dropped connection is tried again and does not).
API_STALE_SECONDS = 120.0
# While calls fail, /healthz asks getMe itself (an idle webhook bot makes no calls that
# would show Telegram is back), waiting this long for it.
PROBE_SECONDS = 5.0
# Polling that has not had an answer from getUpdates for this long takes no updates (a
# Conflict with another instance is retried for ever, loudly).
POLL_STALE_SECONDS = 90.0


@dataclass(frozen=True)
class Check:
    """One line of /healthz."""

    ok: bool
    detail: dict[str, Any]


class Monitor:
    """Answers /healthz and /metrics for one running bot."""

    def __init__(self, app: PulseApplication, pipeline: UpdatePipeline, mode: str) -> None:
        self._app = app
        self._mode = mode
        self.pipeline = pipeline
        request = app.bot.request
        self.contact: ApiContact | None = (
            request.contact if isinstance(request, AiohttpRequest) else None
        )
        limiter = app.bot.rate_limiter
        self.outbound = limiter if isinstance(limiter, OutboundLimiter) else None
        self._registry = CollectorRegistry(auto_describe=True)
        self._collector = _Collector(self)
        self._registry.register(self._collector)

    async def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the bot is healthy, and each check's detail."""
        checks = {
            "database": await self._database(),
            "bot_api": await self._bot_api(),
            "updates": self._updates(),
            "scheduler": self._scheduler(),
        }
        healthy = all(check.ok for check in checks.values())
        return healthy, {
            "status": "ok" if healthy else "failing",
            "mode": self._mode,
            "checks": {name: {"ok": c.ok, **c.detail} for name, c in checks.items()},
        }

    async def metrics(self) -> bytes:
        """The Prometheus exposition, with the database's figures read now."""
        db = self._db()
        self._collector.status = None
        if db is not None:
            self._collector.status = await db.scan(service_status.read)
        return generate_latest(self._registry)

    def _db(self) -> Any:
        services = self._app.bot_data.services
        return None if services is None else services.db

    async def _database(self) -> Check:
        db = self._db()
        if db is None:
            return Check(False, {"error": "not open"})
        started = time.monotonic()
        try:
            # A real write: a full disk, a read-only file or a lock held too long fails here.
            touch = partial(service_status.touch, now=int(time.time()))
            await asyncio.wait_for(db.write(touch), DATABASE_SECONDS)
        except TimeoutError:
            return Check(False, {"error": f"no write lock in {DATABASE_SECONDS:.0f} s"})
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            return Check(False, {"error": type(exc).__name__})
        return Check(True, {"writable": True, "seconds": round(time.monotonic() - started, 4)})

    async def _bot_api(self) -> Check:
        contact = self.contact
        if contact is None:
            return Check(True, {"last_answer_age_seconds": None})
        if contact.failing_since is not None:
            # Is Telegram back? The answer (or its failure) is noted in `contact`.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._app.bot.get_me(), PROBE_SECONDS)
        now = contact.now()
        age = None if contact.last_answer is None else round(now - contact.last_answer, 1)
        failing = contact.failing_since
        ok = failing is None or now - failing <= API_STALE_SECONDS
        detail: dict[str, Any] = {
            "last_answer_age_seconds": age,
            "last_call_failed": failing is not None,
        }
        if failing is not None:
            detail["failing_for_seconds"] = round(now - failing, 1)
        return Check(ok, detail)

    def _updates(self) -> Check:
        failed = self.pipeline.failed
        detail: dict[str, Any] = {"in_hand": self.pipeline.held}
        if failed is not None:
            detail["error"] = f"polling stopped: {type(failed).__name__}"
            return Check(False, detail)
        if self._mode == "polling" and self.pipeline.last_poll is not None:
            quiet = time.monotonic() - self.pipeline.last_poll
            detail["last_poll_age_seconds"] = round(quiet, 1)
            if quiet > POLL_STALE_SECONDS:
                detail["error"] = "getUpdates has not answered (another instance polling?)"
                return Check(False, detail)
        return Check(True, detail)

    def _scheduler(self) -> Check:
        queue = self._app.job_queue
        running = queue is not None and queue.scheduler.running
        return Check(running, {"running": running})


class _Collector(Collector):
    """Reads the figures at each scrape; nothing is counted twice by Pulse's own code."""

    def __init__(self, monitor: Monitor) -> None:
        self._monitor = monitor
        self.status: ServiceStatus | None = None

    def collect(self) -> Iterator[Metric]:
        pipeline = self._monitor.pipeline
        yield _counter(
            "pulse_updates_received", "Updates recorded in the inbox", pipeline.received
        )
        yield _counter("pulse_updates_handled", "Updates handled", pipeline.handled)
        yield _gauge("pulse_updates_in_hand", "Updates admitted, not yet handled", pipeline.held)
        outbound = self._monitor.outbound
        if outbound is not None:
            stats = outbound.stats
            sent = CounterMetricFamily(
                "pulse_messages_sent",
                "Messages Telegram took, by Bot API method and kind",
                labels=["method", "kind"],
            )
            for (method, priority), number in sorted(stats.sent_by.items()):
                sent.add_metric([method, _KIND[priority]], number)
            yield sent
            yield _counter(
                "pulse_telegram_429", "Flood-limit answers (429) from Telegram", stats.retried_429
            )
            yield _counter(
                "pulse_telegram_retries",
                "Calls tried again after a 5xx or a network error",
                stats.retried_errors,
            )
            yield _gauge(
                "pulse_send_queue_depth", "Messages waiting for a send slot", outbound.waiting
            )
        contact = self._monitor.contact
        if contact is not None and contact.last_answer is not None:
            yield _gauge(
                "pulse_bot_api_last_answer_age_seconds",
                "Seconds since the Bot API last answered",
                contact.now() - contact.last_answer,
            )
        status = self.status
        if status is None:
            return
        yield _gauge("pulse_answers_stored", "Answers in the database", status.answers)
        yield _gauge(
            "pulse_checkins_open", "Check-ins waiting for the customer", status.checkins_open
        )
        yield _gauge(
            "pulse_invitations_queued",
            "Invitations of a round not yet sent",
            status.invitations_queued,
        )
        yield _gauge("pulse_inbox_backlog", "Updates recorded, not yet handled", status.inbox_open)
        if status.last_round_at is not None:
            yield _gauge(
                "pulse_last_round_timestamp_seconds",
                "When the last round started (Unix time)",
                status.last_round_at,
            )
        if status.last_digest_at is not None:
            yield _gauge(
                "pulse_last_digest_timestamp_seconds",
                "When a digest was last delivered (Unix time)",
                status.last_digest_at,
            )


_KIND = {Priority.CONVERSATION: "conversation", Priority.BULK: "bulk"}


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def monitoring_app(monitor: Monitor) -> web.Application:
    """/healthz and /metrics, GET only."""

    async def healthz(request: web.Request) -> web.Response:
        healthy, body = await monitor.health()
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(request: web.Request) -> web.Response:
        try:
            body = await monitor.metrics()
        except Exception:
            log.exception("/metrics could not be read")
            return web.Response(status=500)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    server = web.Application()
    server.router.add_get("/healthz", healthz)
    server.router.add_get("/metrics", metrics)
    return server
