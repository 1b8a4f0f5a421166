"""Updates no feature should see are dropped before any handler runs, quietly."""

from __future__ import annotations

import logging

import pytest

from bot.common.context import PulseApplication
from tests import builders
from tests.conftest import handle
from tests.transport import FakeTelegram

PRIVATE = {"id": 42, "type": "private", "first_name": "Nobody"}
GROUP = {"id": -100, "type": "supergroup", "title": "Team"}
CHANNEL = {"id": -1002, "type": "channel", "title": "News"}


@pytest.mark.parametrize(
    ("chat", "key"),
    [(PRIVATE, "message"), (GROUP, "message"), (CHANNEL, "channel_post")],
)
@pytest.mark.parametrize("text", ["/start", "/help", "/invite retail", "hello", "/frobnicate"])
async def test_a_message_without_a_sender_is_ignored_quietly(
    app: PulseApplication,
    telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
    chat: dict[str, object],
    key: str,
    text: str,
) -> None:
    with caplog.at_level(logging.DEBUG):
        await handle(app, builders.without_sender(app.bot, chat, text, key=key))
    assert [r for r in caplog.records if r.levelno >= logging.INFO] == []
    assert telegram.sent() == []
