"""Alarms to the admins when Pulse itself fails: once per kind an hour, also across a
restart, in the admin's language, and never a second failure in the error path."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.common.context import PulseApplication
from bot.digest.sending import run_due_digest
from bot.running.scheduling import run_due_round
from bot.settings import Settings
from storage import team
from storage.team import Role, TeamMember
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, TOKEN, handle, services_of, started_app
from tests.test_checkin import PEOPLE, TUESDAY_10, enroll_directly
from tests.test_digest import MONDAY_AFTER
from tests.transport import FakeTelegram

CLAIRE = Person(12, "Claire", "en")
DUTCH_ADMIN = Person(601, "Joost", "nl")
ALARM = "Pulse hit an error"


def alarms_to(telegram: FakeTelegram, chat_id: int, phrase: str = "⚠️") -> list[str]:
    return [str(c.params["text"]) for c in telegram.sent(chat_id) if phrase in c.params["text"]]


async def fail_a_handler(app: PulseApplication, telegram: FakeTelegram) -> None:
    """A handler that raises: /help's reply is refused."""
    telegram.fail_next("sendMessage", 400, "Bad Request: something odd")
    await handle(app, builders.message(app.bot, CLAIRE, "/help"))


async def add_dutch_admin(app: PulseApplication) -> None:
    await services_of(app).db.write(
        lambda conn: team.put(
            conn,
            TeamMember(DUTCH_ADMIN.id, Role.ADMIN, DUTCH_ADMIN.first_name, None, "nl", None, 0),
        )
    )


async def test_an_error_alarms_the_admins_once_an_hour(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await fail_a_handler(app, telegram)
    (alarm,) = alarms_to(telegram, ADMIN.id)
    assert ALARM in alarm
    assert "Tue 17 November 10:00" in alarm  # the clock's time, in Amsterdam
    assert "See Pulse's log" in alarm
    assert TOKEN not in alarm

    clock.advance(timedelta(minutes=59))
    await fail_a_handler(app, telegram)
    assert len(alarms_to(telegram, ADMIN.id)) == 1
    assert "Sorry, something went wrong" in telegram.last_text(CLAIRE.id)  # still apologised

    clock.advance(timedelta(minutes=1))
    await fail_a_handler(app, telegram)
    assert len(alarms_to(telegram, ADMIN.id)) == 2


async def test_the_hourly_limit_holds_across_a_restart(
    settings: Settings, clock: ManualClock, telegram: FakeTelegram
) -> None:
    async with started_app(settings, clock, telegram) as first:
        await fail_a_handler(first, telegram)
    assert len(alarms_to(telegram, ADMIN.id)) == 1

    clock.advance(timedelta(minutes=30))
    async with started_app(settings, clock, telegram) as second:
        await fail_a_handler(second, telegram)
        assert len(alarms_to(telegram, ADMIN.id)) == 1
        clock.advance(timedelta(minutes=30))
        await fail_a_handler(second, telegram)
    assert len(alarms_to(telegram, ADMIN.id)) == 2


async def test_each_admin_gets_the_alarm_in_their_language(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await add_dutch_admin(app)
    await fail_a_handler(app, telegram)
    (dutch,) = alarms_to(telegram, DUTCH_ADMIN.id)
    assert "Er ging iets mis in Pulse" in dutch
    assert "di 17 november 10:00" in dutch
    assert "logboek" in dutch
    assert len(alarms_to(telegram, ADMIN.id)) == 1


async def test_an_alarm_that_cannot_be_sent_never_raises_out_of_the_error_handler(
    app: PulseApplication, telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    # The reply, the apology and the alarm are all refused.
    telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", times=3)
    with caplog.at_level(logging.WARNING):
        await handle(app, builders.message(app.bot, CLAIRE, "/help"))
    assert "the error alarm to 500 failed" in caplog.text
    # PTB says so when an error handler itself raises.
    assert "uncaught error was raised while handling the error" not in caplog.text
    assert TOKEN not in caplog.text
    # Claimed before it was sent: a refused alarm counts for the hour too.
    await fail_a_handler(app, telegram)
    assert len(alarms_to(telegram, ADMIN.id)) == 1


async def test_a_failed_round_alarms_the_admins_once(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE)
    services = services_of(app)
    # A stored setting that no longer parses makes the round fail as it draws.
    await services.db.write(
        lambda conn: conn.execute(
            "INSERT OR REPLACE INTO settings (key, value, updated_at)"
            " VALUES ('sample_size', '\"lots\"', 0)"
        )
    )
    await run_due_round(services)
    (alarm,) = alarms_to(telegram, ADMIN.id)
    assert "The check-in round of Tue 17 November 10:00 failed" in alarm
    assert all(not telegram.sent(p.id) for p in PEOPLE)

    await run_due_round(services)  # the catch-up after a restart, say
    assert len(alarms_to(telegram, ADMIN.id)) == 1


async def test_a_digest_that_did_not_reach_everyone_alarms_the_admins(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await add_dutch_admin(app)
    clock._now = MONDAY_AFTER
    # The first admin's digest is refused; the others' go out.
    telegram.fail_next("sendMessage", 400, "Bad Request: chat not found")
    report = await run_due_digest(services_of(app))
    assert report is not None
    assert report.failed == [ADMIN.id]
    (english,) = alarms_to(telegram, ADMIN.id)
    assert "The weekly digest did not reach everyone" in english
    assert "1 of 2 delivered" in english
    (dutch,) = alarms_to(telegram, DUTCH_ADMIN.id)
    assert "1 van 2 bezorgd" in dutch
    assert "ma 23 november 09:00" in dutch
