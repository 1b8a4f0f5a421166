"""Updates delivered by webhook, as Telegram delivers them once `setWebhook` is called.

Telegram POSTs each pending update to the bot's URL with the secret in the
`X-Telegram-Bot-Api-Secret-Token` header. An update stays pending until the bot answers
2xx; any other status, a refused connection or a timeout is tried again later, so an
update whose 200 never arrived (the bot died after committing it) comes again. The
sandbox delivers one update at a time, oldest first, which keeps each chat in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from sandbox.errors import bad_request
from sandbox.updates import UpdateQueue
from sandbox.waiting import Signal

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
# Telegram accepts webhooks on these ports only.
_PORTS = frozenset({443, 80, 88, 8443})
# Telegram waits about a minute for a webhook's answer; the sandbox need not.
_ANSWER_SECONDS = 10.0


@dataclass(frozen=True)
class Webhook:
    """What `setWebhook` asked for."""

    url: str
    secret_token: str | None
    max_connections: int = 40


@dataclass
class WebhookStats:
    """How deliveries went, for tests."""

    delivered: int = 0  # answered 2xx
    failed: int = 0  # answered otherwise, or not at all
    redelivered: int = 0  # sent again after a 2xx (`redeliver_each`)
    last_error: str | None = None


def check_webhook(url: str, secret_token: str | None, max_connections: int | None) -> Webhook:
    """The webhook `setWebhook` describes, or the 400 Telegram gives.

    Telegram takes only HTTPS on ports 443, 80, 88 and 8443. A sandbox is on loopback, and
    so is the bot it tests: plain HTTP on any port is taken there, and only there.
    """
    parts = urlsplit(url)
    try:
        loopback = parts.hostname is not None and (
            parts.hostname == "localhost" or ipaddress.ip_address(parts.hostname).is_loopback
        )
    except ValueError:
        loopback = False
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if not loopback:
        if parts.scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if (parts.port or 443) not in _PORTS:
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
    if secret_token is not None and not _SECRET.fullmatch(secret_token):
        raise bad_request("secret token contains unallowed characters")
    connections = 40 if max_connections is None else max_connections
    if not 1 <= connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    return Webhook(url, secret_token, connections)


class WebhookDelivery:
    """Posts the pending updates to the webhook while one is set."""

    def __init__(self, updates: UpdateQueue, changes: Signal) -> None:
        self._updates = updates
        self._changes = changes
        self.webhook: Webhook | None = None
        self.stats = WebhookStats()
        # Seconds between tries of an update the bot did not take (Telegram's are longer).
        self.retry_seconds = 0.2
        # Posts each update a second time after its 200, as Telegram does when the answer
        # is lost on the way: the bot must see the same update_id and do nothing more.
        self.redeliver_each = False
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def set(self, webhook: Webhook) -> None:
        """Starts (or redirects) delivery."""
        self.webhook = webhook
        self._changes.notify()

    def delete(self) -> None:
        """Stops delivery; pending updates wait for getUpdates again."""
        self.webhook = None

    async def start(self) -> None:
        """Delivers in the background until `stop`."""
        if self._task is None:
            self._session = aiohttp.ClientSession()
            self._task = asyncio.create_task(self._deliver_forever(), name="sandbox:webhook")

    async def stop(self) -> None:
        """Stops delivering; what is pending stays pending."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_forever(self) -> None:
        while True:
            hook, update = self.webhook, self._updates.first()
            if hook is None or update is None:
                with contextlib.suppress(TimeoutError):
                    await self._changes.wait_until(
                        lambda: self.webhook is not None and self._updates.first() is not None,
                        3600,
                    )
                continue
            if await self._post(hook, update):
                self.stats.delivered += 1
                self._updates.confirm_one(update["update_id"])
                if self.redeliver_each:
                    self.stats.redelivered += 1
                    await self._post(hook, update)
            else:
                self.stats.failed += 1
                self._changes.notify()
                await asyncio.sleep(self.retry_seconds)

    async def _post(self, hook: Webhook, update: dict[str, Any]) -> bool:
        assert self._session is not None
        headers = {} if hook.secret_token is None else {SECRET_HEADER: hook.secret_token}
        try:
            async with self._session.post(
                hook.url,
                json=update,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=_ANSWER_SECONDS),
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return True
                self.stats.last_error = f"Wrong response from the webhook: {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.stats.last_error = f"Connection failed: {type(exc).__name__}"
        return False
