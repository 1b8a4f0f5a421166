""" "You said, we did" through the real Application: /tell reaches exactly the customers of
a theme or a hypothesis, only after confirmation, once, and never in quiet hours."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.common.context import PulseApplication
from storage import customers
from storage.customers import CustomerStatus
from storage.db import fetch_all
from storage.team import Role
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.team_chat import CUSTOMER, make_member, reply, snapshot
from tests.test_checkin import TUESDAY_10, enroll_directly, invitation_of, round_now
from tests.test_digest import ANSWERS, MONDAY_AFTER, STAFF, answer_round, enroll_customers
from tests.transport import FakeTelegram

# The two whose challenge forms the delivery theme, in Dutch ("levering duurt") and
# English; Daan's is about delivery too, but in a week of four answers it stays alone
# (see test_digest), so an update about the theme never reaches him.
LOTTE, DAAN, MIA = ANSWERS[0][0], ANSWERS[1][0], ANSWERS[4][0]


def told(telegram: FakeTelegram, since: int) -> dict[int, str]:
    """Which customers received an update since call number `since`, and its text."""
    sent = [c for c in telegram.calls[since:] if c.method == "sendMessage"]
    return {
        int(c.params["chat_id"]): str(c.params["text"])
        for c in sent
        # The team's own previews are not updates.
        if int(c.params["chat_id"]) not in (STAFF.id, ADMIN.id)
        and ("said, we did" in str(c.params["text"]) or "feedback deden" in str(c.params["text"]))
    }


def buttons(telegram: FakeTelegram, chat_id: int) -> dict[str, str]:
    return dict(telegram.last_buttons(chat_id))


async def prepared(app: PulseApplication, clock: ManualClock) -> None:
    await enroll_customers(app)
    await answer_round(app, clock)
    clock._now = MONDAY_AFTER


async def test_tell_lists_the_recent_themes_with_how_many_they_reach(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await prepared(app, clock)
    shown = await reply(app, telegram, STAFF, "/tell")
    # The digest's themes, per question, by meaning, labelled from their own answers.
    assert "• thema <b>levering duurt / slow delivery</b>: 2 klanten" in shown
    assert "• thema <b>sneller leveren / deliver faster</b>: 2 klanten" in shown


async def test_an_update_goes_to_exactly_the_theme_s_customers_after_confirmation(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await prepared(app, clock)
    before = len(telegram.calls)
    preview = await reply(
        app, telegram, STAFF, "/tell Levering duurt: We <rijden> nu ook op zaterdag."
    )
    assert "Dit gaat naar <b>2 klanten</b> (levering duurt / slow delivery)" in preview
    assert "We &lt;rijden&gt; nu ook op zaterdag." in preview
    assert told(telegram, before) == {}  # a preview, not a send
    send = buttons(telegram, STAFF.id)["Stuur naar 2"]

    # A customer cannot press it; a second press after the first sends nothing more.
    await handle(app, builders.press(app.bot, LOTTE, send))
    await services_of(app).tells.idle()
    assert told(telegram, before) == {}
    drafts = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT status FROM tells")
    )
    assert [r[0] for r in drafts] == ["draft"]
    await handle(app, builders.press(app.bot, STAFF, send))
    await services_of(app).tells.idle()
    received = told(telegram, before)
    assert set(received) == {LOTTE.id, MIA.id}
    assert "💬 <b>Wat we met je feedback deden</b>\nWe &lt;rijden&gt;" in received[LOTTE.id]
    again = len(telegram.calls)
    await handle(app, builders.press(app.bot, ADMIN, send))
    await services_of(app).tells.idle()
    assert told(telegram, again) == {}
    assert telegram.of("answerCallbackQuery")[-1].params["text"] == (
        "This update was already sent or cancelled."
    )
    audit = await reply(app, telegram, ADMIN, "/audit 1")
    assert (
        "Sanne @sanne_staff (600): sent an update to <b>theme levering duurt / slow delivery</b>"
        in audit
    )


async def test_a_customer_who_stopped_before_it_went_is_skipped(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await prepared(app, clock)
    await reply(app, telegram, STAFF, "/tell levering duurt: Extra chauffeurs vanaf maandag.")
    send = buttons(telegram, STAFF.id)["Stuur naar 2"]
    await services_of(app).db.write(
        lambda conn: customers.set_status(conn, MIA.id, CustomerStatus.STOPPED, now=0)
    )
    before = len(telegram.calls)
    await handle(app, builders.press(app.bot, STAFF, send))
    await services_of(app).tells.idle()
    assert set(told(telegram, before)) == {LOTTE.id}
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(
            conn, "SELECT user_id, status FROM tell_deliveries ORDER BY user_id"
        )
    )
    assert [tuple(r) for r in rows] == [
        (LOTTE.id, "sent"),
        (MIA.id, "skipped"),
    ]


async def test_cancel_sends_nothing(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await prepared(app, clock)
    await reply(app, telegram, STAFF, "/tell levering duurt: Sorry!")
    before = len(telegram.calls)
    await handle(app, builders.press(app.bot, STAFF, buttons(telegram, STAFF.id)["Annuleren"]))
    await services_of(app).tells.drain()
    assert told(telegram, before) == {}
    assert "Geannuleerd" in telegram.last_text(STAFF.id)


async def test_in_quiet_hours_the_update_waits_for_the_morning(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await prepared(app, clock)
    clock._now = MONDAY_AFTER + timedelta(hours=12)  # 21:01 in Amsterdam
    await reply(app, telegram, STAFF, "/tell levering duurt: Goed nieuws.")
    before = len(telegram.calls)
    await handle(app, builders.press(app.bot, STAFF, buttons(telegram, STAFF.id)["Stuur naar 2"]))
    await services_of(app).tells.idle()
    assert told(telegram, before) == {}
    clock._now = MONDAY_AFTER + timedelta(days=1)  # Tuesday 09:01: the upkeep sends it
    services_of(app).tells.wake()  # as the upkeep job does every minute
    await services_of(app).tells.idle()
    assert set(told(telegram, before)) == {LOTTE.id, MIA.id}


async def test_a_hypothesis_reaches_those_who_answered_it(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    people = [Person(400 + i, f"H{i}", "en") for i in range(3)]
    await reply(app, telegram, ADMIN, "/hypothesis add Deliveries worry customers")
    await enroll_directly(app, people)
    clock._now = TUESDAY_10
    await round_now(app, clock)
    for person, press in zip(people, ("hyp:yes", "skip:hypothesis", None), strict=True):
        if press is None:
            continue  # never answered
        inv = await invitation_of(app, person.id)
        await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:4"))
        await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:challenge"))
        await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:{press}"))
    preview = await reply(app, telegram, ADMIN, "/tell #1: Thanks, we are on it.")
    assert "This goes to <b>1 customer</b> (#1 Deliveries worry customers)" in preview
    before = len(telegram.calls)
    await handle(app, builders.press(app.bot, ADMIN, buttons(telegram, ADMIN.id)["Send to 1"]))
    await services_of(app).tells.idle()
    assert set(told(telegram, before)) == {people[0].id}


async def test_a_wrong_tell_explains_and_drafts_nothing(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await prepared(app, clock)
    before = await snapshot(app)
    assert "is neither a theme" in await reply(app, telegram, ADMIN, "/tell weather: Sunny")
    assert "Write the update after the colon" in await reply(
        app, telegram, ADMIN, "/tell levering:"
    )
    assert "Usage: <code>/tell</code>" in await reply(app, telegram, ADMIN, "/tell levering")
    assert "alleen voor ons team" in await reply(app, telegram, CUSTOMER, "/tell levering: Hi")
    assert await snapshot(app) == before


async def test_nobody_to_tell_before_any_answers(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await make_member(app, STAFF, Role.STAFF)
    assert "Nog niemand om iets te laten weten" in await reply(app, telegram, STAFF, "/tell")
