"""The one error handler: logs with the traceback, apologises, and never leaks the token."""

from __future__ import annotations

import logging

import pytest

from bot.common.context import PulseApplication
from tests import builders
from tests.builders import Person
from tests.conftest import TOKEN
from tests.transport import FakeTelegram

CLAIRE = Person(12, "Claire", "en")


async def test_a_failing_handler_is_logged_and_the_user_gets_an_apology(
    app: PulseApplication, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.fail_next("sendMessage", 400, "Bad Request: something odd")
    with caplog.at_level(logging.ERROR, logger="bot.running.errors"):
        await app.process_update(builders.message(app.bot, CLAIRE, "/help"))
    records = [r for r in caplog.records if r.name == "bot.running.errors"]
    assert len(records) == 1
    assert records[0].exc_info is not None
    assert "something odd" in caplog.text.lower()
    assert "Sorry, something went wrong" in telegram.last_text(CLAIRE.id)
    assert TOKEN not in caplog.text


async def test_an_apology_that_cannot_be_delivered_is_logged_not_raised(
    app: PulseApplication, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", times=2)
    with caplog.at_level(logging.WARNING):
        await app.process_update(builders.message(app.bot, CLAIRE, "/help"))
    assert "could not tell chat 12" in caplog.text
    assert TOKEN not in caplog.text
