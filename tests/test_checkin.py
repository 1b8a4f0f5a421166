"""Check-in rounds through the real Application: sampling, sending, answering, reminders."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from bot.checkins.rounds import RoundStarted, start_round
from bot.clock import ManualClock, epoch
from bot.common.context import PulseApplication
from bot.running.scheduling import run_due_round
from storage import customers, invitations, runtime_settings
from storage.customers import CustomerStatus, Profile
from storage.db import fetch_all
from storage.invitations import CheckinState, Delivery
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.transport import FakeTelegram

# Tuesday 17 November 2026, 10:00 in Amsterdam (09:00 UTC): the default check-in time.
TUESDAY_10 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
PEOPLE = [Person(100 + i, f"P{i}", "en" if i % 2 else "nl") for i in range(6)]


async def enroll_directly(
    app: PulseApplication, people: list[Person], segment_id: int = 1
) -> None:
    def enroll(conn: sqlite3.Connection) -> None:
        for p in people:
            customers.enroll(
                conn,
                Profile(p.id, p.id, p.first_name, None, None),
                language="nl" if (p.language_code or "").startswith("nl") else "en",
                segment_id=segment_id,
                now=epoch(TUESDAY_10) - 86400 * 60,
            )

    await services_of(app).db.write(enroll)


async def start_test_round(app: PulseApplication, clock: ManualClock) -> RoundStarted:
    """A round at the clock's time, its first questions sent."""
    services = services_of(app)
    started = await start_round(
        services.db,
        schedule="test",
        scheduled_for=epoch(clock.now()),
        now=clock.now(),
        zone_name="Europe/Amsterdam",
    )
    assert started is not None
    await services.sender.drain()
    return started


async def round_now(app: PulseApplication, clock: ManualClock) -> int:
    return (await start_test_round(app, clock)).round.id


async def invitation_of(app: PulseApplication, user_id: int) -> invitations.Invitation:
    found = await services_of(app).db.read(lambda conn: invitations.latest_for_user(conn, user_id))
    assert found is not None
    return found


async def test_a_round_records_invitations_then_sends_the_first_question(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE)
    round_id = await round_now(app, clock)
    sent = await services_of(app).db.read(lambda conn: invitations.for_round(conn, round_id))
    assert len(sent) == 6  # the default sample of 20 takes everyone eligible
    assert {i.state for i in sent} == {CheckinState.ASKED_SCORE}
    assert {i.delivery for i in sent} == {Delivery.SENT}
    first = telegram.last_text(PEOPLE[0].id)
    assert "Hoe tevreden ben je over ons?" in first
    labels = [label for label, _ in telegram.last_buttons(PEOPLE[1].id)]
    assert labels == ["😞 1", "🙁 2", "😐 3", "🙂 4", "😄 5", "Not now"]


async def test_a_full_check_in_stores_every_answer_as_it_is_given(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:2"))
    assert "biggest challenge" in telegram.last_text(person.id)
    assert (await invitation_of(app, person.id)).state is CheckinState.ASKED_CHALLENGE
    await handle(app, builders.message(app.bot, person, "Finding <good> staff & more"))
    assert "do better" in telegram.last_text(person.id)
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:improvement"))
    assert "contact you" in telegram.last_text(person.id)
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:contact:yes"))
    assert "won't hear from me again before 17 December" in telegram.last_text(person.id)

    def stored(
        conn: sqlite3.Connection,
    ) -> tuple[list[invitations.Answer], invitations.Invitation]:
        return invitations.answers_for(conn, inv.id), invitations.get(conn, inv.id)

    answers, done = await services_of(app).db.read(stored)
    assert [(a.question, a.value, a.skipped) for a in answers] == [
        ("score", "2", False),
        ("challenge", "Finding <good> staff & more", False),
        ("improvement", None, True),
        ("contact", "yes", False),
    ]
    assert done.state is CheckinState.DONE


async def test_not_now_ends_the_invitation_without_a_reminder(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[0]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:notnow"))
    assert (await invitation_of(app, person.id)).state is CheckinState.DECLINED
    clock.advance(timedelta(hours=25))
    before = len(telegram.sent(person.id))
    await services_of(app).sender.drain()
    assert len(telegram.sent(person.id)) == before


async def test_one_reminder_after_a_day_and_never_a_second(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    sender = services_of(app).sender
    clock.advance(timedelta(hours=23))
    await sender.drain()
    assert len(telegram.sent(person.id)) == 1
    clock.advance(timedelta(hours=2))
    await sender.drain()
    assert len(telegram.sent(person.id)) == 2
    assert "reminder" in telegram.last_text(person.id)
    clock.advance(timedelta(hours=24))
    await sender.drain()
    assert len(telegram.sent(person.id)) == 2


async def test_a_press_on_an_expired_invitation_says_so_and_stores_nothing(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    clock.advance(timedelta(hours=73))
    assert await services_of(app).sender.expire() == 1
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:5"))
    assert "expired" in telegram.of("answerCallbackQuery")[-1].params["text"]
    assert await services_of(app).db.read(lambda conn: invitations.answers_for(conn, inv.id)) == []


async def test_a_customer_cannot_answer_another_customers_invitation(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE[:2])
    await round_now(app, clock)
    theirs = await invitation_of(app, PEOPLE[0].id)
    await handle(app, builders.press(app.bot, PEOPLE[1], f"ci:{theirs.id}:score:1"))
    assert (await invitation_of(app, PEOPLE[0].id)).state is CheckinState.ASKED_SCORE
    assert "isn't meant for you" in telegram.of("answerCallbackQuery")[-1].params["text"]


async def test_nobody_is_messaged_during_quiet_hours_until_the_morning(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = datetime(2026, 11, 17, 21, 30, tzinfo=UTC)  # 22:30 in Amsterdam
    person = PEOPLE[0]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    assert telegram.sent(person.id) == []
    inv = await invitation_of(app, person.id)
    assert inv.send_after == epoch(datetime(2026, 11, 18, 8, 0, tzinfo=UTC))  # 09:00 local
    clock._now = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)
    await services_of(app).sender.drain()
    assert len(telegram.sent(person.id)) == 1


async def test_a_blocked_customer_is_marked_and_never_retried(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[0]
    await enroll_directly(app, [person])
    telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    assert (inv.state, inv.delivery) == (CheckinState.FAILED, Delivery.FAILED)
    blocked = await services_of(app).db.read(lambda conn: customers.get(conn, person.id))
    assert blocked.status is CustomerStatus.BLOCKED
    await services_of(app).sender.drain()
    assert len(telegram.of("sendMessage")) == 1


async def test_stop_mid_conversation_ends_the_open_check_in(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:4"))
    await handle(app, builders.message(app.bot, person, "/stop"))
    await handle(app, builders.press(app.bot, person, "stop:yes"))
    assert (await invitation_of(app, person.id)).state is CheckinState.STOPPED
    await handle(app, builders.message(app.bot, person, "late answer"))
    assert "no question open" in telegram.last_text(person.id)


async def test_the_scheduled_round_runs_once_per_occurrence_and_catches_up_after_downtime(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll_directly(app, PEOPLE)
    services = services_of(app)
    clock._now = TUESDAY_10 + timedelta(hours=3)  # the bot was down at 10:00
    await run_due_round(services)
    await run_due_round(services)  # a duplicate trigger
    rows = await services.db.read(
        lambda conn: fetch_all(conn, "SELECT schedule, scheduled_for FROM rounds")
    )
    assert [tuple(r) for r in rows] == [("checkin", epoch(TUESDAY_10))]
    clock._now = TUESDAY_10 + timedelta(hours=13)  # past the 12-hour catch-up window

    def delete_rounds(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM invitations")
        conn.execute("DELETE FROM round_strata")
        conn.execute("DELETE FROM rounds")

    await services.db.write(delete_rounds)
    await run_due_round(services)
    assert await services.db.read(lambda conn: fetch_all(conn, "SELECT id FROM rounds")) == []


async def test_checkin_now_reports_who_was_invited_and_who_was_skipped(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE)
    services = services_of(app)
    await services.db.write(
        lambda conn: runtime_settings.change(
            conn, "sample_size", "4", actor_id=ADMIN.id, now=epoch(TUESDAY_10)
        )
    )
    await handle(app, builders.message(app.bot, ADMIN, "/checkin_now"))
    report = telegram.last_text(ADMIN.id)
    assert "<b>4</b> invited" in report
    assert "general: 4 of 6 eligible (6 customers)" in report
    # No history yet: every segment is expected to answer at the prior, 50 %.
    assert "Split by expected answers" in report
    assert "answering at about 50 %: 2.0 answers expected" in report
    await handle(app, builders.message(app.bot, ADMIN, "/checkin_now nowhere"))
    assert "no segment called" in telegram.last_text(ADMIN.id)
    clock.advance(timedelta(seconds=5))
    await handle(app, builders.message(app.bot, ADMIN, "/checkin_now"))
    assert "2</b> invited" in telegram.last_text(ADMIN.id)
    assert "4 with an open check-in" in telegram.last_text(ADMIN.id)


async def test_the_thanks_promises_the_date_the_cool_down_really_ends(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    # Answered two days after being asked: the cool-down counts from the asking, as the
    # sampling's does, so 30 days after 17 November.
    clock.advance(timedelta(days=2))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:5"))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:challenge"))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:improvement"))
    assert "won't hear from me again before 17 December" in telegram.last_text(person.id)
    services = services_of(app)
    # And it is true: a round the day before finds them cooling down, one that day asks them.
    await services.db.write(lambda conn: conn.execute("UPDATE invitations SET state = 'done'"))
    for day, expected in ((29, False), (30, True)):
        moment = TUESDAY_10 + timedelta(days=day)
        started = await start_round(
            services.db,
            schedule="test",
            scheduled_for=epoch(moment),
            now=moment,
            zone_name="Europe/Amsterdam",
        )
        assert started is not None
        assert (person.id in started.sample.user_ids) is expected


async def test_checkin_now_counts_one_customer_in_the_singular(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE[:1])
    await handle(app, builders.message(app.bot, ADMIN, "/checkin_now"))
    assert "general: 1 of 1 eligible (1 customer)" in telegram.last_text(ADMIN.id)


async def test_checkin_now_with_nobody_enrolled_says_so_and_how_to_invite(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await handle(app, builders.message(app.bot, ADMIN, "/checkin_now"))
    assert telegram.last_text(ADMIN.id) == (
        "Nobody can be asked: no customer has taken part yet. /invite &lt;segment&gt; makes an"
        " invite link; customers who open it and say yes are asked from then on."
    )


async def test_checkin_now_when_everyone_stopped_or_blocked_says_so(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE[:3])

    def stop_or_block(conn: sqlite3.Connection) -> None:
        statuses = (CustomerStatus.STOPPED, CustomerStatus.BLOCKED, CustomerStatus.STOPPED)
        for person, status in zip(PEOPLE[:3], statuses, strict=True):
            customers.set_status(conn, person.id, status, now=epoch(TUESDAY_10))

    await services_of(app).db.write(stop_or_block)
    await handle(app, builders.message(app.bot, ADMIN, "/checkin_now"))
    assert telegram.last_text(ADMIN.id).startswith(
        "Nobody can be asked: all 3 customers who took part have stopped or blocked the bot."
    )


async def test_checkin_now_for_an_empty_segment_says_that_segment_has_nobody(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    await enroll_directly(app, PEOPLE[:2])  # in the default segment, not in retail
    await handle(app, builders.message(app.bot, ADMIN, "/invite retail"))
    await handle(app, builders.message(app.bot, ADMIN, "/checkin_now retail"))
    assert telegram.last_text(ADMIN.id).startswith(
        "Nobody can be asked in segment retail: no customer has taken part yet."
    )


async def test_text_typed_at_a_buttons_question_is_told_which_buttons(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    await handle(app, builders.message(app.bot, person, "pretty good"))
    assert "1 to 5" in telegram.last_text(person.id)
    assert "Not now" in telegram.last_text(person.id)
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:2"))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:challenge"))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:improvement"))
    await handle(app, builders.message(app.bot, person, "call me maybe"))
    assert "Yes, please" in telegram.last_text(person.id)
    assert "No, thanks" in telegram.last_text(person.id)
    answers = await services_of(app).db.read(lambda conn: invitations.answers_for(conn, inv.id))
    assert [a.question for a in answers] == ["score", "challenge", "improvement"]


async def test_the_thanks_promises_the_customers_own_longer_cool_down(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    clock._now = TUESDAY_10
    person = PEOPLE[1]
    await enroll_directly(app, [person])
    # As /frequency "every 3 months" stores it.
    await services_of(app).db.write(
        lambda conn: customers.set_cooldown(conn, person.id, 90, now=0)
    )
    await round_now(app, clock)
    inv = await invitation_of(app, person.id)
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:5"))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:challenge"))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:improvement"))
    # 90 days after 17 November, not the global 30.
    assert "won't hear from me again before 15 February" in telegram.last_text(person.id)
