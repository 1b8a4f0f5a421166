"""`pulsebot run`: the bot as a service, by long polling or by webhook, with /healthz and
/metrics beside it, until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING

from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from aiohttp import web

log = logging.getLogger(__name__)

# What PTB raises when it builds its objects from an answer that lacks a field it requires
# (getMe without is_bot, as some emulators and proxies send): not a TelegramError.
UNREADABLE = (TypeError, ValueError, KeyError, AttributeError)


class StartupError(Exception):
    """Pulse cannot start: the Bot API cannot be reached or gave an answer it cannot read,
    Telegram refused the webhook, or a port cannot be listened on."""


def excerpt(text: str, limit: int = 300) -> str:
    """A server's words on one line, cut at `limit` characters: an error page may be long."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def unreadable(settings: Settings, exc: Exception) -> str:
    """The line for a getMe answer PTB could not read."""
    from bot.running.logs import redact

    said = excerpt(redact(str(exc), settings.bot_token.get_secret_value()))
    return (
        f"the Bot API at {settings.telegram_base_url} answered getMe with something Pulse "
        f"cannot read ({type(exc).__name__}: {said}); "
        "check that PULSE_TELEGRAM_BASE_URL is a Telegram Bot API server."
    )


async def serve(settings: Settings, *, webhook: bool = False) -> int:
    """Runs until SIGINT or SIGTERM, then stops cleanly (updates in hand finish first)."""
    from telegram.error import TelegramError

    from bot.app import ALLOWED_UPDATES, build_application, running
    from bot.running.logs import redact
    from bot.running.monitoring import Monitor, monitoring_app
    from bot.running.webhook import (
        WebhookRefused,
        set_webhook,
        stop_polling_webhook,
        webhook_app,
        webhook_path,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    app = build_application(settings)
    token = settings.bot_token.get_secret_value()
    mode = "webhook" if webhook else "polling"
    async with AsyncExitStack() as stack:
        try:
            pipeline = await stack.enter_async_context(
                running(
                    app, poll=not webhook, before_updates=None if webhook else stop_polling_webhook
                )
            )
        except TelegramError as exc:
            # Start-up's own calls, after their tries (the preflight has just succeeded).
            said = excerpt(redact(exc.message, token))
            raise StartupError(f"the Bot API failed while starting: {said}") from None
        except UNREADABLE as exc:
            raise StartupError(unreadable(settings, exc)) from None
        monitor = Monitor(app, pipeline, mode)
        await stack.enter_async_context(
            listening(
                monitoring_app(monitor),
                settings.health_listen,
                settings.health_port,
                "/healthz and /metrics",
            )
        )
        if webhook:
            assert settings.webhook_url is not None
            assert settings.webhook_secret is not None
            secret = settings.webhook_secret.get_secret_value()
            path = webhook_path(settings.webhook_url)
            await stack.enter_async_context(
                listening(
                    webhook_app(pipeline, app, secret, path),
                    settings.webhook_listen,
                    settings.webhook_port,
                    f"the webhook ({path})",
                )
            )
            # Last: Telegram may post the moment it has the URL.
            try:
                await set_webhook(app, settings.webhook_url, secret, ALLOWED_UPDATES)
            except WebhookRefused as exc:
                # A setting to fix (exit status 2): restarting would be refused again.
                raise ConfigError(excerpt(redact(str(exc), token))) from None
            except TelegramError as exc:
                said = excerpt(redact(exc.message, token))
                raise StartupError(
                    f"the Bot API failed while setting the webhook: {said}"
                ) from None
            log.info("Telegram posts updates to %s", settings.webhook_url)
        stopped = asyncio.create_task(stop.wait())
        while not stop.is_set() and pipeline.failed is None:
            await asyncio.wait({stopped}, timeout=1.0)
        stopped.cancel()
        failure = pipeline.failed
    if failure is not None:
        print(f"pulsebot: stopped: {excerpt(redact(str(failure), token))}", file=sys.stderr)
        return 1
    return 0


@asynccontextmanager
async def listening(
    server: web.Application, host: str, port: int, what: str
) -> AsyncIterator[int]:
    """Serves `server` on host:port (0: any free port) until the block ends; yields the port."""
    from aiohttp import web

    # No access log: a webhook's query string or a proxy's headers may carry secrets.
    runner = web.AppRunner(server, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise StartupError(f"cannot listen on {host}:{port} for {what}: {exc.strerror}") from None
    bound = _port_of(runner, port)
    log.info("serving %s on http://%s:%d", what, host, bound)
    try:
        yield bound
    finally:
        await runner.cleanup()


def _port_of(runner: web.AppRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    return asked
