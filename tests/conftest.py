"""Shared fixtures: a migrated database, a clock, settings, the real bot on a fake transport."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from telegram import Update

from bot.app import build_application
from bot.clock import ManualClock
from bot.common.context import PulseApplication, Services
from bot.digest.embedding import Embedder
from bot.settings import Settings
from storage.db import Database
from tests.builders import Person
from tests.transport import FakeTelegram

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnop"
ADMIN = Person(500, "Anne", "en", "anne_admin")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 17, 9, 0, tzinfo=UTC))


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "pulse.db")
    yield database
    await database.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(TOKEN),
        admin_ids=(ADMIN.id,),
        database_path=tmp_path / "bot.db",
    )


@pytest.fixture
def telegram() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def app(
    settings: Settings, clock: ManualClock, telegram: FakeTelegram
) -> AsyncIterator[PulseApplication]:
    """The real Application, initialised with its services open, on the fake transport."""
    async with started_app(settings, clock, telegram) as application:
        yield application


@asynccontextmanager
async def started_app(
    settings: Settings,
    clock: ManualClock,
    telegram: FakeTelegram,
    embedder: Embedder | None = None,
) -> AsyncIterator[PulseApplication]:
    """The real Application as the `app` fixture has it (`embedder`: its sentence model)."""
    # No pacing between messages: the fake transport has no flood limits to respect.
    setup = await Database.open(settings.database_path)

    def store_no_pacing(conn: sqlite3.Connection) -> None:
        # Stored as an operator would have; not through `change`, which audits.
        conn.executemany(
            "INSERT OR REPLACE INTO settings (key, value, updated_at) VALUES (?, ?, 0)",
            [("send_rate", "10000.0"), ("chat_interval", "0.0")],
        )

    await setup.write(store_no_pacing)
    await setup.close()
    application = build_application(settings, clock, request=telegram, embedder=embedder)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    yield application
    # As `bot.app.running` does: sends in flight finish before the HTTP client closes.
    await services_of(application).sender.close()
    await services_of(application).tells.close()
    await application.shutdown()
    assert application.post_shutdown is not None
    await application.post_shutdown(application)


async def handle(app: PulseApplication, update: Update) -> None:
    """Handles one update as the pipeline would, and what it started beside it (the button
    edits it leaves behind, alerts to staff), as a running bot would soon after."""
    await app.process_update(update)
    await services_of(app).settle()


def services_of(app: PulseApplication) -> Services:
    services = app.bot_data.services
    assert services is not None
    return services
