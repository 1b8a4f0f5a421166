"""Webhook mode: Telegram POSTs each update to Pulse, which answers 200 once it is committed.

Telegram sends an update again until it gets a 2xx, so the 200 waits for the update to be
in the inbox (`UpdatePipeline.receive`): a crash before it means Telegram sends it again,
a crash after it finds it in the inbox at the restart, and an update sent again after it
was recorded is known by its id and handled once. A request without the secret
`setWebhook` gave gets 403 and is not read; a body that is not an update gets 400.
"""

from __future__ import annotations

import hmac
import json
import logging
import sqlite3
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.error import BadRequest

from bot.common.context import PulseApplication
from bot.running.inbox import UpdatePipeline
from bot.sending import retries
from storage.db import StorageError

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
# Telegram's updates are a few KB (a message is at most 4,096 characters, with entities);
# anything far larger is not one.
MAX_BODY_BYTES = 1024 * 1024


class WebhookRefused(Exception):
    """Telegram would not take the webhook (a bad URL, a certificate it cannot check...)."""


def webhook_path(url: str) -> str:
    """The path Telegram will POST to: the public URL's, or `/` when it has none."""
    return urlsplit(url).path or "/"


def webhook_app(
    pipeline: UpdatePipeline, app: PulseApplication, secret: str, path: str
) -> web.Application:
    """The aiohttp application serving the webhook at `path`, and nothing else."""
    server = web.Application(client_max_size=MAX_BODY_BYTES)
    receiver = _Receiver(pipeline, app, secret)
    server.router.add_route("*", path, receiver.handle)
    return server


class _Receiver:
    def __init__(self, pipeline: UpdatePipeline, app: PulseApplication, secret: str) -> None:
        self._pipeline = pipeline
        self._app = app
        self._secret = secret.encode()

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return _status(405, allow="POST")
        # Headers may hold any bytes (aiohttp keeps them surrogate-escaped).
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, self._secret):
            # Not read at all: whoever sent it learns nothing and changes nothing.
            log.warning("webhook: a request without the right secret token was refused")
            return _status(403)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            log.warning("webhook: a body over %d bytes was refused", MAX_BODY_BYTES)
            return _status(400)
        update = self._parse(body)
        if update is None:
            log.warning("webhook: a body that is not an update was refused")
            return _status(400)
        try:
            await self._pipeline.receive(update)
        except (StorageError, sqlite3.Error):
            # Not committed: Telegram sends it again, which is what we need.
            log.exception("webhook: update %s could not be recorded", update.update_id)
            return _status(500)
        return _status(200)

    def _parse(self, body: bytes) -> Update | None:
        try:
            data: Any = json.loads(body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(data, dict) or type(data.get("update_id")) is not int:
            return None
        try:
            return Update.de_json(data, self._app.bot)
        except Exception:  # noqa: BLE001 - whatever PTB cannot build is not an update
            return None


def _status(status: int, **headers: str) -> web.Response:
    return web.Response(status=status, headers=headers)


async def set_webhook(
    app: PulseApplication, url: str, secret: str, allowed_updates: list[str]
) -> None:
    """Tells Telegram where to send updates; raises `WebhookRefused` with its reason when
    Telegram refuses the URL, and the last `TelegramError` when it could not be asked.

    Pending updates are kept (`drop_pending_updates` off): they are customers' answers.
    Passing failures are tried again as at start-up; a refusal is not.
    """

    async def call() -> None:
        await app.bot.set_webhook(
            url,
            secret_token=secret,
            allowed_updates=allowed_updates,
            drop_pending_updates=False,
        )

    try:
        await retries.with_retries(call, retries.STARTUP, what="setWebhook")
    except BadRequest as exc:
        # Not a passing failure: the URL (or its certificate) is to be fixed.
        raise WebhookRefused(f"Telegram refused the webhook {url}: {exc.message}") from None


async def stop_polling_webhook(app: PulseApplication) -> None:
    """Before polling: a webhook left set (an earlier run in webhook mode) would make every
    getUpdates a Conflict. Removed without dropping what Telegram holds."""
    info = await app.bot.get_webhook_info()
    if info.url:
        log.warning("a webhook was set (%s); removing it to poll instead", info.url)
        await app.bot.delete_webhook(drop_pending_updates=False)
