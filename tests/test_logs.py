"""The log as a service writes it: JSON lines with the update and chat being handled, never
the token and never a customer's words."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.clock import ManualClock
from bot.common.context import PulseApplication
from bot.running.logs import configure_logging
from sandbox import Sandbox
from storage import effects
from tests import builders
from tests.conftest import TOKEN, handle
from tests.test_checkin import PEOPLE, TUESDAY_10, enroll_directly, invitation_of, round_now
from tests.test_pipeline import eventually, pipeline_on
from tests.transport import FakeTelegram

ANSWER = "Our supplier Brouwerij Zwaan keeps missing deliveries"
# The loggers configure_logging sets a level on, put back after each test.
LIBRARIES = ("telegram", "telegram.request", "httpx", "httpcore", "aiohttp.access")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Pulse's logging as `PULSE_LOG_FORMAT=json` sets it up, at DEBUG, into a buffer."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in LIBRARIES})
    stream = io.StringIO()
    configure_logging("DEBUG", TOKEN, "json")
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)


def entries(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every line written so far, each parsed as JSON (a line that is not fails the test)."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def handled_as_the_pipeline_does(app: PulseApplication, update: Update) -> None:
    """Handles `update` with the pipeline's note of which update and chat it is."""
    chat = update.effective_chat
    token = effects.handling.set(effects.Handling(update.update_id, chat.id if chat else None))
    try:
        await handle(app, update)
    finally:
        effects.handling.reset(token)


async def test_json_lines_carry_time_level_logger_message_update_chat_and_exception(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock, json_log: io.StringIO
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    await handled_as_the_pipeline_does(
        app, builders.press(app.bot, person, f"ci:{inv.id}:score:4")
    )
    # The next question fails, and the server repeats the request path, token and all.
    telegram.fail_next("sendMessage", 400, f"Bad Request: no route to /bot{TOKEN}/sendMessage")
    answer = builders.message(app.bot, person, ANSWER)
    await handled_as_the_pipeline_does(app, answer)

    lines = entries(json_log)
    assert lines, "nothing was logged"
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys()
        assert datetime.fromisoformat(line["time"]).utcoffset() is not None
        assert line["time"].endswith("+00:00")
    (failure,) = [line for line in lines if line["logger"] == "bot.running.errors"]
    assert failure["level"] == "ERROR"
    assert failure["update_id"] == answer.update_id
    assert failure["chat_id"] == person.id
    assert "BadRequest" in failure["exception"]
    assert "[REDACTED]" in failure["exception"]
    written = json_log.getvalue()
    assert TOKEN not in written
    assert TOKEN.partition(":")[2] not in written
    assert ANSWER not in written
    assert "Zwaan" not in written


async def test_lines_outside_an_update_have_no_update_or_chat(json_log: io.StringIO) -> None:
    logging.getLogger("bot.running.scheduling").info("check-in round %s: %d invited", 3, 20)
    (line,) = [line for line in entries(json_log) if line["logger"] == "bot.running.scheduling"]
    assert line["message"] == "check-in round 3: 20 invited"
    assert line["level"] == "INFO"
    assert line["logger"] == "bot.running.scheduling"
    assert "update_id" not in line
    assert "chat_id" not in line
    assert "exception" not in line


async def test_the_pipeline_names_the_update_and_chat_of_each_line(
    tmp_path: Path, json_log: io.StringIO
) -> None:
    seen: list[Update] = []

    async def note(update: Update) -> None:
        logging.getLogger("tests.handler").warning("handling it")
        seen.append(update)

    async with Sandbox() as sandbox:
        await sandbox.user(321, "Claire").send(ANSWER)
        async with pipeline_on(sandbox, tmp_path / "pulse.db", note):
            await eventually(lambda: len(seen) == 1)
    (line,) = [line for line in entries(json_log) if line["logger"] == "tests.handler"]
    assert line["update_id"] == seen[0].update_id
    assert line["chat_id"] == 321
    written = json_log.getvalue()
    assert ANSWER not in written
    assert sandbox.token not in written


def test_the_default_format_stays_readable_text() -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in LIBRARIES})
    stream = io.StringIO()
    try:
        configure_logging("INFO", TOKEN)
        (handler,) = root.handlers
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(stream)
        logging.getLogger("bot.app").info("Pulse is running as @%s", "pulse_bot")
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
    assert stream.getvalue().rstrip().endswith("INFO bot.app: Pulse is running as @pulse_bot")
