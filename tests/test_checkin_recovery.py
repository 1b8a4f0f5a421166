"""Check-ins that recover: a question whose send failed, a press on an invitation whose send
was never recorded, and updates handled a second time after a crash."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.request import RequestData

from bot.checkins.rounds import start_round
from bot.clock import ManualClock, epoch
from bot.common.context import PulseApplication
from bot.running.scheduling import UPKEEP_JOB
from bot.sending.retries import SEND
from bot.settings import Settings
from storage import effects, inbox, invitation_delivery, invitations
from storage.db import fetch_all
from storage.invitations import CheckinState, Delivery
from tests import builders
from tests.conftest import ADMIN, handle, services_of
from tests.test_checkin import PEOPLE, TUESDAY_10, enroll_directly, invitation_of, round_now
from tests.transport import FakeTelegram

CHALLENGE = "biggest challenge"
WAIT = 5.0


class WatchedTelegram(FakeTelegram):
    """The fake Bot API, which also notes whether the database was locked for writing at
    each call, and can hold back one message until the test lets it go."""

    def __init__(self, database: Path) -> None:
        super().__init__()
        self._database = database
        self.locked_during: list[str] = []
        self._hold_phrase: str | None = None
        self.holding = asyncio.Event()
        self.release = asyncio.Event()

    def hold_next(self, phrase: str) -> None:
        """Holds the next message containing `phrase` in flight until `release` is set."""
        self._hold_phrase = phrase

    def _write_locked(self) -> bool:
        # A second connection cannot begin a write while Pulse holds one open.
        with closing(sqlite3.connect(self._database, timeout=0, isolation_level=None)) as conn:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError:
                return True
            conn.execute("ROLLBACK")
        return False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        if self._database.exists() and self._write_locked():
            self.locked_during.append(name)
        text = str(request_data.parameters.get("text", "")) if request_data else ""
        if self._hold_phrase is not None and self._hold_phrase in text:
            self._hold_phrase = None
            self.holding.set()
            await self.release.wait()
        return await super().do_request(url, method, request_data, *args, **kwargs)


@pytest.fixture
def telegram(settings: Settings) -> WatchedTelegram:
    return WatchedTelegram(settings.database_path)


async def upkeep(app: PulseApplication) -> None:
    """Runs the scheduled upkeep job once, as the job queue would every minute."""
    assert app.job_queue is not None
    (job,) = app.job_queue.get_jobs_by_name(UPKEEP_JOB)
    await job.run(app)


async def received(app: PulseApplication, update: Update) -> None:
    """Records `update` in the inbox, as the pipeline does before handling it."""
    services = services_of(app)
    row = inbox.Received(update.update_id, None, json.dumps(update.to_dict()))
    await services.db.write(partial(inbox.record, updates=[row], now=services.now()))


async def handle_from_inbox(app: PulseApplication, update: Update) -> None:
    """Handles a recorded update as the pipeline does: the first time, or again after a
    crash that came before it was marked done (its effect, if committed, stays claimed)."""
    token = effects.handling.set(effects.Handling(update.update_id))
    try:
        await handle(app, update)
    finally:
        effects.handling.reset(token)


def send_tries() -> int:
    """How often the outbound path tries a message before the caller sees the error."""
    assert SEND.attempts is not None
    return SEND.attempts


def challenges_sent(telegram: FakeTelegram, chat_id: int) -> int:
    return sum(1 for call in telegram.sent(chat_id) if CHALLENGE in str(call.params["text"]))


# --- a next question whose send failed ----------------------------------------------------


async def answered_score_but_question_failed(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> invitations.Invitation:
    """A customer pressed a score; it was stored, but the next question failed with a 502
    on every try the outbound path makes."""
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    telegram.fail_next("sendMessage", 502, "Bad Gateway", times=send_tries())
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:4"))
    assert "went wrong" in telegram.last_text(person.id)
    assert (await invitation_of(app, person.id)).state is CheckinState.ASKED_CHALLENGE
    assert challenges_sent(telegram, person.id) == send_tries()  # the tries that failed
    return inv


async def test_a_question_whose_send_failed_is_asked_by_the_next_upkeep_and_only_once(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    person = PEOPLE[1]
    await answered_score_but_question_failed(app, telegram, clock)
    clock.advance(timedelta(seconds=60))
    await upkeep(app)
    assert CHALLENGE in telegram.last_text(person.id)
    await upkeep(app)
    # The failed tries, then this one.
    assert challenges_sent(telegram, person.id) == send_tries() + 1
    # The customer can go on from there.
    await handle(app, builders.message(app.bot, person, "cash flow"))
    assert "do better" in telegram.last_text(person.id)


async def test_pressing_the_answered_buttons_again_asks_the_question_that_never_arrived(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    person = PEOPLE[1]
    inv = await answered_score_but_question_failed(app, telegram, clock)
    # The customer does as the apology says and tries again.
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:4"))
    assert CHALLENGE in telegram.last_text(person.id)
    assert "already answered" in telegram.of("answerCallbackQuery")[-1].params["text"]
    await upkeep(app)
    # The failed tries, then this one.
    assert challenges_sent(telegram, person.id) == send_tries() + 1
    answers = await services_of(app).db.read(lambda conn: invitations.answers_for(conn, inv.id))
    assert [(a.question, a.value) for a in answers] == [("score", "4")]


async def test_the_upkeep_leaves_a_question_being_sent_right_now_to_its_sender(
    app: PulseApplication, telegram: WatchedTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    telegram.hold_next(CHALLENGE)
    pressing = asyncio.create_task(
        handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:4"))
    )
    await asyncio.wait_for(telegram.holding.wait(), WAIT)
    # Committed and not yet recorded as asked: exactly what a failed send leaves, too.
    assert (await invitation_of(app, person.id)).unasked
    await asyncio.wait_for(upkeep(app), WAIT)
    telegram.release.set()
    await asyncio.wait_for(pressing, WAIT)
    await upkeep(app)
    assert challenges_sent(telegram, person.id) == 1


# --- a press on an invitation whose send was not recorded ---------------------------------


async def test_a_press_on_an_invitation_delivered_but_not_recorded_is_taken_as_the_answer(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    services = services_of(app)
    started = await start_round(
        services.db,
        schedule="test",
        scheduled_for=epoch(clock.now()),
        now=clock.now(),
        zone_name="Europe/Amsterdam",
    )
    assert started is not None
    inv = await invitation_of(app, person.id)
    # Claimed and sent, then the process died before recording it; the restart requeues it.
    await services.db.write(lambda conn: invitation_delivery.mark_sending(conn, [inv.id]))
    assert await services.db.write(invitation_delivery.requeue_interrupted) == 1
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:2"))
    assert CHALLENGE in telegram.last_text(person.id)
    pressed = await invitation_of(app, person.id)
    assert (pressed.state, pressed.delivery, pressed.score) == (
        CheckinState.ASKED_CHALLENGE,
        Delivery.SENT,
        2,
    )
    # Not sent a second time.
    await services.sender.drain()
    assert not any("How are things" in str(c.params["text"]) for c in telegram.sent(person.id))


# --- updates handled again after a crash --------------------------------------------------


async def test_a_press_handled_again_is_answered_after_the_transaction_not_inside_it(
    app: PulseApplication, telegram: WatchedTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    update = builders.press(app.bot, person, f"ci:{inv.id}:score:3")
    await received(app, update)
    await handle_from_inbox(app, update)
    before = len(telegram.of("answerCallbackQuery"))
    # Watched alone: nothing else runs to hold the database while the replay is handled.
    telegram.locked_during.clear()
    await handle_from_inbox(app, update)
    assert len(telegram.of("answerCallbackQuery")) == before + 1  # its spinner stops too
    assert telegram.locked_during == []
    answers = await services_of(app).db.read(lambda conn: invitations.answers_for(conn, inv.id))
    assert len(answers) == 1


async def test_checkin_now_handled_again_after_a_crash_starts_no_second_round(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE)
    update = builders.message(app.bot, ADMIN, "/checkin_now")
    await received(app, update)
    await handle_from_inbox(app, update)
    # The restart comes a little later: the time of handling must not be the round's key.
    clock.advance(timedelta(seconds=30))
    await handle_from_inbox(app, update)
    services = services_of(app)
    rounds = await services.db.read(lambda conn: fetch_all(conn, "SELECT id FROM rounds"))
    assert len(rounds) == 1
    assert "already" in telegram.last_text(ADMIN.id).lower()
