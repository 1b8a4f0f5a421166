"""Alerts and follow-ups through the real Application: a low score or a contact request
alerts the team once, staff reply through the bot, the customer's answer comes back to the
same staff member, and the thread is marked done."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from bot.clock import ManualClock
from bot.common.context import PulseApplication
from bot.followups import alerts
from storage import customers, runtime_settings
from storage.customers import CustomerStatus
from storage.db import fetch_all
from storage.team import Role
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.team_chat import CUSTOMER, STAFF, STRANGER, enroll, make_member, reply, say
from tests.test_checkin import TUESDAY_10, invitation_of, round_now
from tests.test_checkin_recovery import handle_from_inbox, received
from tests.transport import FakeTelegram

HAPPY = Person(710, "Lotte", "en", "lotte")


async def checked_in(app: PulseApplication, clock: ManualClock, *people: Person) -> None:
    """Staff on the team, the customers enrolled and asked the first check-in question."""
    clock._now = TUESDAY_10
    await make_member(app, STAFF, Role.STAFF)
    for person in people or (CUSTOMER,):
        await enroll(app, person)
    await round_now(app, clock)


async def press(app: PulseApplication, person: Person, data: str) -> None:
    await handle(app, builders.press(app.bot, person, data))


async def score(app: PulseApplication, person: Person, value: int) -> int:
    """Presses a score on the person's check-in; returns its invitation id."""
    invitation = await invitation_of(app, person.id)
    await press(app, person, f"ci:{invitation.id}:score:{value}")
    return invitation.id


async def finish(app: PulseApplication, person: Person, contact: str = "no") -> None:
    """Skips the free-text questions and answers the contact question."""
    invitation = await invitation_of(app, person.id)
    await press(app, person, f"ci:{invitation.id}:skip:challenge")
    await press(app, person, f"ci:{invitation.id}:skip:improvement")
    await press(app, person, f"ci:{invitation.id}:contact:{contact}")


def alerts_to(telegram: FakeTelegram, chat_id: int) -> list[str]:
    texts = [str(call.params["text"]) for call in telegram.sent(chat_id)]
    return [text for text in texts if "Follow-up #" in text]


def popup(telegram: FakeTelegram) -> str:
    return str(telegram.of("answerCallbackQuery")[-1].params.get("text", ""))


async def rows(
    app: PulseApplication, sql: str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    return [
        tuple(r) for r in await services_of(app).db.read(lambda conn: fetch_all(conn, sql, params))
    ]


async def set_setting(app: PulseApplication, name: str, value: object) -> None:
    await services_of(app).db.write(
        lambda conn: runtime_settings.change(conn, name, value, actor_id=None, now=0)
    )


async def replied(app: PulseApplication, telegram: FakeTelegram, person: Person) -> None:
    """`person` presses Reply on follow-up 1 and writes to the customer."""
    await press(app, person, "fu:1:reply")
    assert "Write your message to Bram" in telegram.last_text(person.id)
    await handle(app, builders.message(app.bot, person, f"Hello from {person.first_name}"))


# --- alerts -----------------------------------------------------------------------------


async def test_a_low_score_alerts_every_staff_member_and_admin_at_once(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 2)
    for member in (STAFF, ADMIN):
        (alert,) = alerts_to(telegram, member.id)
        assert "Follow-up #1</b>: Bram (@bram_nl) · general" in alert
        assert "Score: 🙁 2" in alert
        assert "Still answering" in alert
        assert telegram.last_buttons(member.id) == [("💬 Reply", "fu:1:reply")]
    assert await rows(app, "SELECT user_id, status FROM followup_alerts ORDER BY 1") == [
        (ADMIN.id, "sent"),
        (STAFF.id, "sent"),
    ]


async def test_later_answers_update_the_alert_instead_of_sending_another(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 1)
    await handle(app, builders.message(app.bot, CUSTOMER, "Deliveries <always> late"))
    invitation = await invitation_of(app, CUSTOMER.id)
    await press(app, CUSTOMER, f"ci:{invitation.id}:skip:improvement")
    await press(app, CUSTOMER, f"ci:{invitation.id}:contact:yes")
    assert len(alerts_to(telegram, STAFF.id)) == 1
    edits = [c for c in telegram.of("editMessageText") if int(c.params["chat_id"]) == STAFF.id]
    latest = str(edits[-1].params["text"])
    assert "Challenge: “Deliveries &lt;always&gt; late”" in latest
    assert "Asks to be contacted" in latest
    assert "Still answering" not in latest
    assert await rows(app, "SELECT COUNT(*), MIN(reason) FROM followups") == [(1, "score")]


async def test_a_yes_to_contact_alerts_the_team_and_a_happy_customer_does_not(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock, CUSTOMER, HAPPY)
    await score(app, HAPPY, 5)
    invitation = await invitation_of(app, HAPPY.id)
    await press(app, HAPPY, f"ci:{invitation.id}:skip:challenge")
    await press(app, HAPPY, f"ci:{invitation.id}:skip:improvement")
    assert alerts_to(telegram, STAFF.id) == []
    await score(app, CUSTOMER, 4)
    await handle(app, builders.message(app.bot, CUSTOMER, "Hiring"))
    assert alerts_to(telegram, STAFF.id) == []
    invitation = await invitation_of(app, CUSTOMER.id)
    await press(app, CUSTOMER, f"ci:{invitation.id}:skip:improvement")
    await press(app, CUSTOMER, f"ci:{invitation.id}:contact:yes")
    (alert,) = alerts_to(telegram, STAFF.id)
    assert "Asks to be contacted" in alert
    assert "Challenge: “Hiring”" in alert
    assert await rows(app, "SELECT reason FROM followups") == [("contact",)]


async def test_an_update_handled_twice_alerts_exactly_once(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    invitation = await invitation_of(app, CUSTOMER.id)
    update = builders.press(app.bot, CUSTOMER, f"ci:{invitation.id}:score:1")
    await received(app, update)
    await handle_from_inbox(app, update)
    await handle_from_inbox(app, update)  # again, as after a crash before it was marked done
    assert len(alerts_to(telegram, STAFF.id)) == 1
    assert len(alerts_to(telegram, ADMIN.id)) == 1
    assert await rows(app, "SELECT COUNT(*) FROM followups") == [(1,)]


async def test_alerts_off_leaves_only_contact_requests(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    assert "contact requests only" in await reply(app, telegram, ADMIN, "/alerts off")
    await score(app, CUSTOMER, 1)
    assert alerts_to(telegram, STAFF.id) == []
    await finish(app, CUSTOMER, contact="yes")
    assert len(alerts_to(telegram, STAFF.id)) == 1


async def test_staff_quiet_hours_hold_alerts_until_the_morning(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await set_setting(app, "quiet_start", None)  # check-ins go out at night here
    await set_setting(app, "quiet_end", None)
    await set_setting(app, "alert_quiet", "20:00-09:00")
    await make_member(app, STAFF, Role.STAFF)
    await enroll(app, CUSTOMER)
    clock._now = datetime(2026, 11, 17, 21, 30, tzinfo=UTC)  # 22:30 in Amsterdam
    await round_now(app, clock)
    await score(app, CUSTOMER, 1)
    assert alerts_to(telegram, STAFF.id) == []
    listed = await reply(app, telegram, STAFF, "/followups")
    assert "Alert held for staff quiet hours until Wed 18 November 09:00" in listed
    (job,) = app.job_queue.get_jobs_by_name(alerts.UPKEEP_JOB)  # type: ignore[union-attr]
    clock._now = datetime(2026, 11, 18, 7, 59, tzinfo=UTC)
    await job.run(app)
    assert alerts_to(telegram, STAFF.id) == []
    clock._now = datetime(2026, 11, 18, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam
    await job.run(app)
    await job.run(app)
    assert len(alerts_to(telegram, STAFF.id)) == 1
    assert len(alerts_to(telegram, ADMIN.id)) == 1


# --- replies ----------------------------------------------------------------------------


async def test_a_reply_reaches_the_customer_and_their_answer_comes_back_until_done(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 2)
    await finish(app, CUSTOMER)
    await press(app, STAFF, "fu:1:reply")
    assert "Write your message to Bram" in telegram.last_text(STAFF.id)
    assert ("Cancel", "fu:1:cancel") in telegram.last_buttons(STAFF.id)
    answer = await reply(app, telegram, STAFF, "Sorry to hear <that> & more")
    assert "✓ Sent to Bram" in answer
    relayed = telegram.last_text(CUSTOMER.id)
    assert "Van ons team (Sam)" in relayed
    assert "Sorry to hear &lt;that&gt; &amp; more" in relayed
    admin_before = len(telegram.sent(ADMIN.id))

    thanks = await reply(app, telegram, CUSTOMER, "Call me tomorrow please")
    assert thanks == "Dank je, ik heb het doorgegeven aan Sam."
    back = telegram.last_text(STAFF.id)
    assert "Follow-up #1</b>, Bram (@bram_nl) · general answers:" in back
    assert "Call me tomorrow please" in back
    assert telegram.last_buttons(STAFF.id) == [
        ("💬 Reply", "fu:1:reply"),
        ("✅ Mark done", "fu:1:done"),
    ]
    assert len(telegram.sent(ADMIN.id)) == admin_before  # only the one who replied

    open_list = "\n".join(await say(app, telegram, ADMIN, "/followups"))
    assert "Replied: Sam" in open_list
    assert "Last message (Bram): “Call me tomorrow please”" in open_list
    await press(app, STAFF, "fu:1:done")
    assert popup(telegram) == "Marked done."
    assert "Follow-up <b>#1</b> (Bram) is marked done" in telegram.last_text(STAFF.id)
    assert await reply(app, telegram, STAFF, "/followups") == "No open follow-ups."
    done = await reply(app, telegram, STAFF, "/followups done")
    assert "<b>#1</b> · Bram" in done
    assert "Done: Sam" in done
    assert await rows(app, "SELECT direction, staff_id, status FROM followup_messages") == [
        ("to_customer", STAFF.id, "sent"),
        ("from_customer", STAFF.id, "sent"),
    ]
    assert await rows(app, "SELECT actor_id, action, subject FROM audit_log") == [
        (STAFF.id, "followup.done", "#1")
    ]
    # Done: the customer's messages are ordinary messages again.
    after = await reply(app, telegram, CUSTOMER, "One more thing")
    assert after.startswith("Bedankt voor je bericht!")
    assert "One more thing" not in telegram.last_text(STAFF.id)


async def test_an_open_check_in_question_takes_the_customers_text_first(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    invitation_id = await score(app, CUSTOMER, 1)
    await replied(app, telegram, STAFF)
    await handle(app, builders.message(app.bot, CUSTOMER, "Finding staff"))
    assert "Finding staff" not in telegram.last_text(STAFF.id)
    answers = await rows(
        app, "SELECT question, value FROM answers WHERE invitation_id = ?", (invitation_id,)
    )
    assert ("challenge", "Finding staff") in answers


async def test_a_second_staff_member_sees_who_already_replied_before_adding(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 2)
    await finish(app, CUSTOMER)
    await replied(app, telegram, STAFF)
    await press(app, ADMIN, "fu:1:reply")
    shown = telegram.last_text(ADMIN.id)
    assert "Sam already replied to Bram (Tue 17 November 10:00)" in shown
    assert "“Hello from Sam”" in shown
    assert telegram.last_buttons(ADMIN.id) == [
        ("Add a reply", "fu:1:add"),
        ("Leave it", "fu:1:cancel"),
    ]
    assert await rows(app, "SELECT COUNT(*) FROM followup_drafts") == [(0,)]
    await press(app, ADMIN, "fu:1:add")
    assert "Write your message to Bram" in telegram.last_text(ADMIN.id)
    await handle(app, builders.message(app.bot, ADMIN, "And from Anne"))
    assert "Van ons team (Anne)" in telegram.last_text(CUSTOMER.id)


async def test_a_reply_written_while_a_colleague_answered_waits_for_send_anyway(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 2)
    await finish(app, CUSTOMER)
    await press(app, ADMIN, "fu:1:reply")  # Anne starts writing
    await press(app, STAFF, "fu:1:reply")
    assert "Anne started writing a reply to Bram" in telegram.last_text(STAFF.id)
    await press(app, STAFF, "fu:1:add")
    await handle(app, builders.message(app.bot, STAFF, "Sam here"))
    to_customer = len(telegram.sent(CUSTOMER.id))
    held = await reply(app, telegram, ADMIN, "Anne here")
    assert "Sam already replied to Bram" in held
    assert "not sent yet" in held
    assert len(telegram.sent(CUSTOMER.id)) == to_customer
    await press(app, ADMIN, "fu:1:send")
    assert "Anne here" in telegram.last_text(CUSTOMER.id)
    assert "✓ Sent to Bram" in telegram.last_text(ADMIN.id)


async def test_cancel_stops_a_reply_before_anything_is_sent(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 2)
    await press(app, STAFF, "fu:1:reply")
    assert await reply(app, telegram, STAFF, "/cancel") == ("Cancelled: nothing was sent to Bram.")
    sent_before = len(telegram.sent(CUSTOMER.id))
    await handle(app, builders.message(app.bot, STAFF, "not for the customer"))
    assert len(telegram.sent(CUSTOMER.id)) == sent_before
    assert await reply(app, telegram, STAFF, "/cancel") == "You are not writing a reply right now."


async def test_a_reply_to_a_customer_who_blocked_the_bot_fails_cleanly(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 1)
    await finish(app, CUSTOMER)
    await press(app, STAFF, "fu:1:reply")
    telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    told = await reply(app, telegram, STAFF, "Are you there?")
    assert "stopped taking part or blocked the bot" in told
    blocked = await services_of(app).db.read(lambda conn: customers.get(conn, CUSTOMER.id))
    assert blocked.status is CustomerStatus.BLOCKED
    assert await rows(app, "SELECT status, error FROM followup_messages") == [
        ("failed", "Forbidden: bot was blocked by the user")
    ]
    # Blocked now: the next reply is not even tried.
    await press(app, STAFF, "fu:1:reply")
    calls = len(telegram.sent(CUSTOMER.id))
    assert "stopped taking part" in await reply(app, telegram, STAFF, "Hello?")
    assert len(telegram.sent(CUSTOMER.id)) == calls


# --- who may ----------------------------------------------------------------------------


async def test_a_customer_pressing_followup_buttons_is_refused(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 1)
    messages_before = len(telegram.sent(CUSTOMER.id))
    for data in ("fu:1:reply", "fu:1:add", "fu:1:done", "fu:1:send"):
        await press(app, CUSTOMER, data)
        assert popup(telegram) == "Deze knop is alleen voor ons team."
    await press(app, STRANGER, "fu:1:done")
    assert popup(telegram) == "This button is only for our team."
    assert len(telegram.sent(CUSTOMER.id)) == messages_before
    assert await rows(app, "SELECT COUNT(*) FROM followup_drafts") == [(0,)]
    assert await rows(app, "SELECT status FROM followups") == [("open",)]


async def test_a_stranger_and_a_customer_cannot_list_followups(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 1)
    assert await reply(app, telegram, STRANGER, "/followups") == (
        "Sorry, that command is only for our team."
    )
    assert "alleen voor ons team" in await reply(app, telegram, CUSTOMER, "/followups done")


async def test_a_press_on_an_unknown_followup_says_so(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await press(app, STAFF, "fu:99:reply")
    assert telegram.last_text(STAFF.id) == "This follow-up no longer exists."


# --- the settings -----------------------------------------------------------------------


async def test_alert_settings_are_validated_audited_and_shown(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    changed = await reply(app, telegram, ADMIN, "/alerts 3")
    assert (
        "<b>Staff alerts</b>: score 2 or lower, and contact requests → score 3 or lower" in changed
    )
    assert "not a whole number from 1 to 5" in await reply(app, telegram, ADMIN, "/alerts 9")
    assert "Usage: <code>/alerts" in await reply(app, telegram, ADMIN, "/alerts quiet")
    assert "is not a time" in await reply(app, telegram, ADMIN, "/alerts quiet 25:00-08:00")
    quiet = await reply(app, telegram, ADMIN, "/alerts quiet 22:00-8:00")
    assert "<b>Staff quiet hours</b>: off → 22:00–08:00" in quiet
    settings = await reply(app, telegram, ADMIN, "/settings")
    assert "Staff alerts: score 3 or lower, and contact requests" in settings
    assert "Staff quiet hours: 22:00–08:00" in settings
    shown = await reply(app, telegram, ADMIN, "/alerts")
    assert "Staff quiet hours: 22:00–08:00" in shown
    assert await rows(app, "SELECT subject, old_value, new_value FROM audit_log ORDER BY id") == [
        ("alert_score", "2", "3"),
        ("alert_quiet", "null", '"22:00-08:00"'),
    ]
    config = await services_of(app).db.read(runtime_settings.load)
    assert (config.alert_score, config.alert_quiet) == (3, "22:00-08:00")


async def test_someone_taken_off_the_team_gets_no_customer_words_and_sends_none(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)
    await score(app, CUSTOMER, 2)
    await finish(app, CUSTOMER)
    await replied(app, telegram, STAFF)
    await press(app, STAFF, "fu:1:reply")  # a second reply, being written when removed
    await reply(app, telegram, ADMIN, f"/staff remove {STAFF.id}")
    before_customer = len(telegram.sent(CUSTOMER.id))

    await handle(app, builders.message(app.bot, STAFF, "Off the record: here is the data"))
    assert all("Off the record" not in str(c.params["text"]) for c in telegram.sent(CUSTOMER.id))
    await handle(app, builders.message(app.bot, CUSTOMER, "My account number is 123"))
    assert all("account number" not in str(c.params["text"]) for c in telegram.sent(STAFF.id))
    # The customer's words stay in the thread for the team.
    stored = await rows(
        app, "SELECT text, status FROM followup_messages WHERE direction = 'from_customer'"
    )
    assert stored == [("My account number is 123", "failed")]
    assert len(telegram.sent(CUSTOMER.id)) > before_customer  # they were told something


async def test_an_alert_cut_off_by_a_crash_is_sent_by_the_upkeep(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await checked_in(app, clock)

    def leave_claims_unsent(conn: sqlite3.Connection) -> None:
        # As a process that died right after claiming the alert, before sending it: the
        # thread exists, the claims say "sending", nothing went out.
        conn.execute(
            "INSERT INTO followups (invitation_id, user_id, reason, status, created_at,"
            " alert_after, last_activity_at)"
            " SELECT id, user_id, 'score', 'open', ?, ?, ? FROM invitations",
            (services_of(app).now(),) * 3,
        )
        conn.executemany(
            "INSERT INTO followup_alerts (followup_id, user_id, status, claimed_at)"
            " VALUES (1, ?, 'sending', ?)",
            [(ADMIN.id, services_of(app).now()), (STAFF.id, services_of(app).now())],
        )

    await services_of(app).db.write(leave_claims_unsent)
    await alerts.release_held(services_of(app))
    assert alerts_to(telegram, STAFF.id) == []  # in flight, for all it knows
    clock._now = datetime.fromtimestamp(services_of(app).now() + 300, UTC)
    await alerts.release_held(services_of(app))
    assert len(alerts_to(telegram, STAFF.id)) == 1
    assert len(alerts_to(telegram, ADMIN.id)) == 1
