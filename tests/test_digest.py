"""The weekly digest through the real Application: a round is answered, the scheduled
digest reaches every team member once with its chart, and /digest, /digest_now and
/export work for the team and nobody else."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock, epoch
from bot.common.context import PulseApplication
from bot.digest.sending import run_due_digest
from storage import customers, team
from storage.customers import Profile
from storage.db import fetch_all
from storage.team import Role, TeamMember
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.test_checkin import TUESDAY_10, invitation_of, round_now
from tests.transport import Call, FakeTelegram

STAFF = Person(600, "Sanne", "nl", "sanne_staff")
# Monday 23 November 2026, 09:01 in Amsterdam: just after the default digest time.
MONDAY_AFTER = datetime(2026, 11, 23, 8, 1, tzinfo=UTC)

# (person, segment, score, challenge, improvement, may contact)
ANSWERS = [
    (Person(101, "Lotte", "nl", "lotte"), 1, 4, "Levering duurt te lang", None, None),
    (Person(102, "Daan", "nl"), 1, 2, "De levering komt steeds te laat", "Sneller leveren", "yes"),
    (Person(103, "Emma", "en"), 2, 5, None, "A <b>bold</b> & faster app", None),
    (Person(104, "Noah", "en", "noah"), 2, 1, '=HYPERLINK("http://x")', None, "no"),
    (Person(105, "Mia", "en"), 2, 3, "Slow delivery of parts", "Deliver faster", "yes"),
    (Person(106, "Sem", "nl"), 1, 4, None, None, None),
]


async def enroll_customers(app: PulseApplication) -> None:
    def enroll(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO segments (name, created_at) VALUES ('wholesale', 0)"
            " ON CONFLICT DO NOTHING"
        )
        for person, segment, *_ in ANSWERS:
            customers.enroll(
                conn,
                Profile(person.id, person.id, person.first_name, None, person.username),
                language=person.language_code or "en",
                segment_id=segment,
                now=epoch(TUESDAY_10) - 86400 * 60,
            )
        team.put(
            conn, TeamMember(STAFF.id, Role.STAFF, STAFF.first_name, STAFF.username, "nl", None, 0)
        )

    await services_of(app).db.write(enroll)


async def answer_round(app: PulseApplication, clock: ManualClock) -> None:
    """Every customer answers the Tuesday round as ANSWERS says, through the bot."""
    clock._now = TUESDAY_10
    await round_now(app, clock)
    for person, _, score, challenge, improvement, contact in ANSWERS:
        inv = await invitation_of(app, person.id)
        await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:{score}"))
        if challenge:
            await handle(app, builders.message(app.bot, person, challenge))
        else:
            await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:challenge"))
        if improvement:
            await handle(app, builders.message(app.bot, person, improvement))
        else:
            await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:improvement"))
        if contact:
            await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:contact:{contact}"))


def received(telegram: FakeTelegram, chat_id: int, since: int = 0) -> list[Call]:
    return [
        call
        for call in telegram.calls[since:]
        if call.method in ("sendMessage", "sendPhoto", "sendDocument")
        and int(call.params["chat_id"]) == chat_id
    ]


def texts(calls: list[Call]) -> str:
    return "\n".join(str(c.params["text"]) for c in calls if c.method == "sendMessage")


async def test_the_scheduled_digest_reaches_each_team_member_once_with_its_chart(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll_customers(app)
    await answer_round(app, clock)
    clock._now = MONDAY_AFTER
    before = len(telegram.calls)

    report = await run_due_digest(services_of(app))

    assert report is not None
    assert sorted(report.sent) == [ADMIN.id, STAFF.id]
    for chat_id in (ADMIN.id, STAFF.id):
        calls = received(telegram, chat_id, before)
        assert [c.method for c in calls][-1] == "sendPhoto"
        ((_, png),) = calls[-1].files.values()
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
    english = texts(received(telegram, ADMIN.id, before))
    assert "16 November – 23 November" in english
    assert "Invited 6 · answered 6 · response 100 %" in english
    # 4, 2, 5, 1, 3, 4: mean 3.17 over six scores.
    assert "Mean score <b>3.2</b> of 5" in english
    assert "Per segment" in english
    # Themes by meaning: a Dutch and an English delivery complaint are one theme, labelled
    # in the reader's language, new this week; the faster app is not "deliver faster". (In
    # a week of four answers the cut is strict: "De levering komt steeds te laat" stays
    # alone; bench.themes shows why quiet weeks are cut so.) Two answers are equally
    # central: the quote is either of them.
    assert any(
        f"<b>slow delivery</b> (2, new): “{quote}”" in english
        for quote in ("Levering duurt te lang", "Slow delivery of parts")
    )
    assert any(
        f"<b>deliver faster</b> (2, new): “{quote}”" in english
        for quote in ("Deliver faster", "Sneller leveren")
    )
    # Customer text is escaped, never markup; a low score or a contact request is a follow-up.
    assert "<b>bold</b>" not in english
    assert "<b>Noah</b> @noah · wholesale · score 1" in english
    assert "<b>Daan</b> · " in english
    assert "asks to be contacted, score 2" in english
    assert "<b>Lotte</b>" not in english  # a 4, and no contact asked
    dutch = texts(received(telegram, STAFF.id, before))
    assert "Gemiddelde score <b>3,2</b> van 5" in dutch
    assert "<b>levering duurt</b> (2, nieuw)" in dutch
    assert "<b>sneller leveren</b> (2, nieuw)" in dutch
    assert "Opvolgen" in dutch

    # The job firing again, or the catch-up after a restart: nobody gets it twice.
    again = len(telegram.calls)
    second = await run_due_digest(services_of(app))
    assert second is not None
    assert second.sent == []
    assert sorted(second.already) == [ADMIN.id, STAFF.id]
    assert len(telegram.calls) == again
    stored = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT language FROM digests ORDER BY 1")
    )
    assert [row[0] for row in stored] == ["en", "nl"]


async def test_a_digest_missed_by_more_than_the_catch_up_window_is_not_sent(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll_customers(app)
    clock._now = MONDAY_AFTER + timedelta(hours=13)  # catch_up_hours is 12
    assert await run_due_digest(services_of(app)) is None
    assert telegram.of("sendPhoto") == []


async def test_a_blocked_team_member_is_recorded_as_failed_and_the_rest_still_get_it(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll_customers(app)
    clock._now = MONDAY_AFTER
    telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    report = await run_due_digest(services_of(app))
    assert report is not None
    assert len(report.failed) == 1
    assert len(report.sent) == 1
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT status, error FROM digest_deliveries")
    )
    assert sorted(str(r[0]) for r in rows) == ["failed", "sent"]


async def test_digest_on_demand_shows_the_last_seven_days_and_an_earlier_stored_copy(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll_customers(app)
    await answer_round(app, clock)
    clock._now = MONDAY_AFTER
    await run_due_digest(services_of(app))
    clock._now = MONDAY_AFTER + timedelta(days=2)

    before = len(telegram.calls)
    await handle(app, builders.message(app.bot, STAFF, "/digest"))
    calls = received(telegram, STAFF.id, before)
    assert calls[-1].method == "sendPhoto"
    assert "18 november – 25 november" in texts(calls)

    before = len(telegram.calls)
    await handle(app, builders.message(app.bot, STAFF, "/digest 1"))
    shown = texts(received(telegram, STAFF.id, before))
    assert "De samenvatting zoals die op 23 november verstuurd is:" in shown
    assert "16 november – 23 november" in shown

    before = len(telegram.calls)
    await handle(app, builders.message(app.bot, STAFF, "/digest soon"))
    refused = texts(received(telegram, STAFF.id, before))
    assert "Gebruik: <code>/digest</code>" in refused
    await handle(app, builders.message(app.bot, STAFF, "/digest 99"))
    assert "<b>99</b> is geen heel getal van 1 tot 52." in telegram.last_text(STAFF.id)


async def test_digest_now_is_for_admins_and_reaches_the_whole_team(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll_customers(app)
    await answer_round(app, clock)
    clock._now = MONDAY_AFTER + timedelta(days=1)
    before = len(telegram.calls)
    await handle(app, builders.message(app.bot, STAFF, "/digest_now"))
    assert texts(received(telegram, STAFF.id, before)) == (
        "Sorry, dat commando is alleen voor ons team."
    )
    assert telegram.of("sendPhoto") == []
    await handle(app, builders.message(app.bot, ADMIN, "/digest_now"))
    assert len(telegram.of("sendPhoto")) == 2
    assert "The digest went to 2 of 2 team members." in telegram.last_text(ADMIN.id)


async def test_customers_cannot_see_the_digest_or_the_export(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll_customers(app)
    await answer_round(app, clock)
    customer = ANSWERS[0][0]
    for command in ("/digest", "/export", "/digest_now", "/digest 1"):
        before = len(telegram.calls)
        await handle(app, builders.message(app.bot, customer, command))
        assert texts(received(telegram, customer.id, before)) == (
            "Sorry, dat commando is alleen voor ons team."
        )
    assert telegram.of("sendPhoto") == []
    assert telegram.of("sendDocument") == []


async def test_export_sends_every_answer_as_spreadsheet_safe_csv(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll_customers(app)
    await answer_round(app, clock)
    await handle(app, builders.message(app.bot, STAFF, "/export"))
    (document,) = telegram.of("sendDocument")
    ((filename, content),) = document.files.values()
    assert filename == "pulse-answers-2026-11-17.csv"
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    answered = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT COUNT(*) FROM answers")
    )
    assert len(rows) == int(answered[0][0])
    noah = [r for r in rows if r["customer_id"] == "104" and r["question"] == "challenge"]
    # A formula typed by a customer arrives as text, never as a formula.
    assert noah[0]["answer"] == '\'=HYPERLINK("http://x")'
    assert noah[0]["segment"] == "wholesale"
    assert {r["question"] for r in rows} == {"score", "challenge", "improvement", "contact"}
    assert "Alle" in str(document.params["caption"])


async def test_export_with_no_answers_says_so(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await handle(app, builders.message(app.bot, ADMIN, "/export"))
    assert telegram.last_text(ADMIN.id) == "There are no answers to export yet."
    assert telegram.of("sendDocument") == []
