"""Webhook mode in the real Application: the sandbox posts updates over real HTTP to the
webhook Pulse serves, as Telegram does after `setWebhook`.

What must hold: an update is answered 200 only once it is in the inbox, an update posted
again is handled once, and a request without the secret or with a body that is not an
update changes nothing.
"""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.app import ALLOWED_UPDATES, build_application, running
from bot.common.context import PulseApplication
from bot.running.inbox import UpdatePipeline
from bot.running.webhook import (
    MAX_BODY_BYTES,
    SECRET_HEADER,
    WebhookRefused,
    set_webhook,
    webhook_app,
)
from bot.service import listening
from sandbox import Sandbox
from tests.process import sandbox_settings

SECRET = "a-webhook-secret-of-32-characters"
ADMIN_ID = 900
WAIT = 20.0


@asynccontextmanager
async def webhook_bot(
    sandbox: Sandbox, database: Path
) -> AsyncIterator[tuple[PulseApplication, str, UpdatePipeline]]:
    """Pulse taking updates by webhook on a free loopback port; yields it, its URL and its
    pipeline."""
    config = sandbox_settings(sandbox, database, ADMIN_ID)
    app = build_application(config)
    async with running(app, poll=False) as pipeline:
        server = webhook_app(pipeline, app, SECRET, "/telegram")
        async with listening(server, "127.0.0.1", 0, "the webhook") as port:
            yield app, f"http://127.0.0.1:{port}/telegram", pipeline


def inbox_count(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM inbox").fetchone()[0])


async def test_updates_come_by_webhook_and_none_by_polling(tmp_path: Path) -> None:
    async with (
        Sandbox() as sandbox,
        webhook_bot(sandbox, tmp_path / "pulse.db") as (app, url, pipeline),
    ):
        await set_webhook(app, url, SECRET, ALLOWED_UPDATES)
        assert sandbox.webhook.webhook is not None
        assert sandbox.webhook.webhook.secret_token == SECRET
        customer = sandbox.user(5001, "Lotte", language_code="nl")
        await customer.send("/start")
        prompt = await customer.wait_for(lambda m: bool(m.buttons), WAIT)
        assert "Pulse" in prompt.text
        await sandbox.wait_idle(WAIT)
        assert sandbox.count("getUpdates") == 0
        assert sandbox.webhook.stats.delivered == 1
        assert pipeline.received == 1
    assert inbox_count(tmp_path / "pulse.db") == 1


async def test_an_update_posted_twice_is_handled_once(tmp_path: Path) -> None:
    database = tmp_path / "pulse.db"
    async with Sandbox() as sandbox, webhook_bot(sandbox, database) as (app, url, pipeline):
        # As Telegram does when the 200 was lost on the way: the same update again.
        sandbox.webhook.redeliver_each = True
        await set_webhook(app, url, SECRET, ALLOWED_UPDATES)
        customer = sandbox.user(5002, "Mia", language_code="en")
        await customer.send("/start")
        await customer.wait_for(lambda m: bool(m.buttons), WAIT)
        await customer.send("/help")
        await customer.wait_for(lambda m: "/stop" in m.text, WAIT)
        await sandbox.wait_quiet(timeout=WAIT)
        assert sandbox.webhook.stats.redelivered == 2
        assert (pipeline.received, pipeline.handled) == (2, 2)
        # One consent prompt and one help text: nothing answered twice.
        assert len(customer.messages) == 2, [m.text for m in customer.messages]
    assert inbox_count(database) == 2


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b'{"update_id": 1}', 403),
        ({SECRET_HEADER: "not-the-secret-at-all-00000000"}, b'{"update_id": 1}', 403),
        ({SECRET_HEADER: SECRET}, b"not json", 400),
        ({SECRET_HEADER: SECRET}, b"[1, 2]", 400),
        ({SECRET_HEADER: SECRET}, b'{"message": {}}', 400),
        ({SECRET_HEADER: SECRET}, b'{"update_id": "7"}', 400),
        ({SECRET_HEADER: SECRET}, b'{"update_id": 7, "message": {"chat": 3}}', 400),
        (
            {SECRET_HEADER: SECRET},
            json.dumps({"update_id": 8, "x": "a" * MAX_BODY_BYTES}).encode(),
            400,
        ),
        (
            {SECRET_HEADER: SECRET},
            b'{"update_id": 9, "message": {"message_id": 1, "date": 1e20,'
            b' "chat": {"id": 1, "type": "private"}}}',
            400,
        ),
        (
            {SECRET_HEADER: SECRET},
            b'{"update_id": 10, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            400,
        ),
    ],
    ids=[
        "no-secret",
        "wrong-secret",
        "not-json",
        "not-an-object",
        "no-update-id",
        "update-id-not-a-number",
        "not-an-update",
        "oversized",
        "date-out-of-range",
        "nested-too-deep",
    ],
)
async def test_a_refused_request_changes_nothing(
    tmp_path: Path, headers: dict[str, str], body: bytes, status: int
) -> None:
    database = tmp_path / "pulse.db"
    async with Sandbox() as sandbox, webhook_bot(sandbox, database) as (_app, url, _pipeline):
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                url, data=io.BytesIO(body), headers={"Content-Type": "application/json", **headers}
            ) as response,
        ):
            assert response.status == status
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            assert response.status == 405
    assert inbox_count(database) == 0


async def test_telegram_refusing_the_webhook_is_one_clear_error(tmp_path: Path) -> None:
    async with (
        Sandbox() as sandbox,
        webhook_bot(sandbox, tmp_path / "pulse.db") as (app, _url, _pipeline),
    ):
        with pytest.raises(WebhookRefused) as refused:
            await set_webhook(app, "http://pulse.example.com/telegram", SECRET, ALLOWED_UPDATES)
    assert str(refused.value) == (
        "Telegram refused the webhook http://pulse.example.com/telegram:"
        " Bad webhook: an https url must be provided for webhook"
    )
