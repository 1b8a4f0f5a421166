"""The customer's own controls through the real Application on a fake transport: /pause and
/resume (and the admins' programme pause), /frequency, "Not now", /mydata and /privacy."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import ManualClock, epoch
from bot.common.context import PulseApplication
from storage import customers, invitations, runtime_settings
from storage.customers import Customer, CustomerStatus, Profile
from storage.db import fetch_all
from storage.invitations import CheckinState
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.test_checkin import invitation_of, start_test_round
from tests.transport import FakeTelegram

# Tuesday 17 November 2026, 10:00 in Amsterdam: outside quiet hours.
TUESDAY_10 = datetime(2026, 11, 17, 9, 0, tzinfo=UTC)
CLAIRE = Person(21, "Claire", "en", "claire_c")
BRAM = Person(22, "Bram", "nl", "bram_b")
DIRK = Person(23, "Dirk", "en")
STRANGER = Person(24, "Hana", "de")


async def send(app: PulseApplication, person: Person, text: str) -> None:
    await handle(app, builders.message(app.bot, person, text))


async def press(app: PulseApplication, person: Person, data: str) -> None:
    await handle(app, builders.press(app.bot, person, data))


async def enroll(app: PulseApplication, *people: Person) -> None:
    def enroll_people(conn: sqlite3.Connection) -> None:
        for p in people:
            customers.enroll(
                conn,
                Profile(p.id, p.id, p.first_name, None, p.username),
                language="nl" if (p.language_code or "").startswith("nl") else "en",
                segment_id=1,
                now=epoch(TUESDAY_10) - 86400 * 60,
            )

    await services_of(app).db.write(enroll_people)


async def customer(app: PulseApplication, person: Person) -> Customer:
    return await services_of(app).db.read(lambda conn: customers.get(conn, person.id))


async def programme_paused(app: PulseApplication) -> bool:
    return (await services_of(app).db.read(runtime_settings.load)).checkins_paused


async def round_now(app: PulseApplication, clock: ManualClock) -> set[int]:
    """Starts a round at the clock's time and returns who it invited."""
    return set((await start_test_round(app, clock)).sample.user_ids)


async def latest(app: PulseApplication, person: Person) -> invitations.Invitation:
    return await invitation_of(app, person.id)


@pytest.fixture(autouse=True)
def tuesday(clock: ManualClock) -> None:
    clock._now = TUESDAY_10


async def test_a_customer_pauses_for_weeks_and_is_told_the_date_it_ends(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CLAIRE, BRAM)
    await send(app, CLAIRE, "/pause 2")
    assert "no questions until 1 December" in telegram.last_text(CLAIRE.id)
    await send(app, BRAM, "/pause 3")
    assert "geen vragen tot 8 december" in telegram.last_text(BRAM.id)
    paused = await customer(app, CLAIRE)
    assert paused.status is CustomerStatus.PAUSED
    assert paused.paused_until == epoch(TUESDAY_10) + 14 * 86400
    assert not await programme_paused(app)  # only Claire is paused


async def test_pause_without_weeks_offers_buttons_and_a_press_pauses(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CLAIRE)
    await send(app, CLAIRE, "/pause")
    buttons = telegram.last_buttons(CLAIRE.id)
    assert [label for label, _ in buttons] == ["1 week", "2 weeks", "4 weeks", "8 weeks"]
    assert (await customer(app, CLAIRE)).status is CustomerStatus.ACTIVE
    await press(app, CLAIRE, buttons[2][1])
    assert "15 December" in telegram.last_text(CLAIRE.id)
    assert (await customer(app, CLAIRE)).paused_until == epoch(TUESDAY_10) + 28 * 86400


@pytest.mark.parametrize("args", ["0", "53", "soon", "2 weeks", "-1"])
async def test_pause_with_a_number_out_of_range_gets_the_usage_and_changes_nothing(
    app: PulseApplication, telegram: FakeTelegram, args: str
) -> None:
    await enroll(app, CLAIRE)
    await send(app, CLAIRE, f"/pause {args}")
    assert "1 to 52" in telegram.last_text(CLAIRE.id)
    assert (await customer(app, CLAIRE)).status is CustomerStatus.ACTIVE


async def test_resume_ends_a_customers_pause_early(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CLAIRE)
    await send(app, CLAIRE, "/resume")
    assert "not paused" in telegram.last_text(CLAIRE.id)
    await send(app, CLAIRE, "/pause 8")
    await send(app, CLAIRE, "/resume")
    assert "Welcome back" in telegram.last_text(CLAIRE.id)
    resumed = await customer(app, CLAIRE)
    assert resumed.status is CustomerStatus.ACTIVE
    assert resumed.paused_until is None


async def test_someone_not_taking_part_cannot_pause_or_resume(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    for text in ("/pause", "/pause 2", "/resume", "/frequency"):
        await send(app, STRANGER, text)
        assert "not taking part" in telegram.last_text(STRANGER.id), text
    assert await services_of(app).db.read(lambda conn: customers.find(conn, STRANGER.id)) is None


async def test_an_admins_pause_and_resume_are_the_programmes_not_their_own(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CLAIRE)
    await send(app, ADMIN, "/pause")
    assert await programme_paused(app)
    assert "/resume" in telegram.last_text(ADMIN.id)
    assert (await customer(app, CLAIRE)).status is CustomerStatus.ACTIVE
    await send(app, ADMIN, "/resume")
    assert not await programme_paused(app)


async def test_pausing_ends_the_open_check_in_and_rounds_skip_the_customer_until_the_end(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll(app, CLAIRE, DIRK)
    assert await round_now(app, clock) == {CLAIRE.id, DIRK.id}
    await send(app, CLAIRE, "/pause 6")
    assert (await latest(app, CLAIRE)).state is CheckinState.STOPPED
    clock.advance(timedelta(days=31))  # past the cool-down, not the pause
    await services_of(app).sender.expire()
    assert await round_now(app, clock) == {DIRK.id}
    clock.advance(timedelta(days=12))  # the pause is over
    assert await round_now(app, clock) == {CLAIRE.id}


async def test_frequency_offers_less_often_and_is_never_shorter_than_the_global_one(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, CLAIRE)
    await send(app, CLAIRE, "/frequency")
    assert "once every 30 days" in telegram.last_text(CLAIRE.id)
    labels = [label for label, _ in telegram.last_buttons(CLAIRE.id)]
    assert labels == ["As often as you like", "Every month", "Every 2 months", "Every 3 months"]
    await press(app, CLAIRE, "freq:months:2")
    assert "once every 60 days" in telegram.last_text(CLAIRE.id)
    assert (await customer(app, CLAIRE)).cooldown_days == 60
    await send(app, ADMIN, "/cooldown 90")
    await send(app, CLAIRE, "/frequency")
    assert "once every 90 days" in telegram.last_text(CLAIRE.id)  # the longer one wins
    await press(app, CLAIRE, "freq:months:0")
    assert "as often as our team asks everyone" in telegram.last_text(CLAIRE.id)
    assert (await customer(app, CLAIRE)).cooldown_days is None


async def test_not_now_and_frequency_decide_who_a_round_asks_again(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    # Claire says "Not now", Dirk lets it expire, Bram says "Not now" but asked to be
    # asked every two months.
    await enroll(app, CLAIRE, DIRK, BRAM)
    await send(app, BRAM, "/frequency")
    await press(app, BRAM, "freq:months:2")
    assert await round_now(app, clock) == {CLAIRE.id, DIRK.id, BRAM.id}
    for person in (CLAIRE, BRAM):
        await press(app, person, f"ci:{(await latest(app, person)).id}:notnow")
        assert (await latest(app, person)).state is CheckinState.DECLINED
    assert (await customer(app, CLAIRE)).declined_at == epoch(TUESDAY_10)

    clock.advance(timedelta(days=14))  # the Not-now cool-down (notnow_days 14) is over
    await services_of(app).sender.expire()
    assert await round_now(app, clock) == {CLAIRE.id}
    clock.advance(timedelta(days=17))  # 31 days after the first round
    await services_of(app).sender.expire()
    assert await round_now(app, clock) == {DIRK.id}
    clock.advance(timedelta(days=30))  # 61 days after the first round
    await services_of(app).sender.expire()
    assert BRAM.id in await round_now(app, clock)


async def test_an_admin_sets_the_not_now_cool_down_and_it_is_audited_and_shown(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send(app, ADMIN, "/notnow 7")
    assert "14 days → 7 days" in telegram.last_text(ADMIN.id)
    await send(app, ADMIN, "/notnow 0")
    assert "/notnow" in telegram.last_text(ADMIN.id)
    await send(app, ADMIN, "/retention off")
    await send(app, ADMIN, "/retention 10")
    assert "/retention" in telegram.last_text(ADMIN.id)
    await send(app, ADMIN, "/settings")
    shown = telegram.last_text(ADMIN.id)
    assert "After “Not now”: 7 days" in shown
    assert "Free text kept: off" in shown

    def config_and_audit(
        conn: sqlite3.Connection,
    ) -> tuple[runtime_settings.RuntimeSettings, list[sqlite3.Row]]:
        return runtime_settings.load(conn), fetch_all(
            conn, "SELECT subject, old_value, new_value FROM audit_log ORDER BY id"
        )

    config, rows = await services_of(app).db.read(config_and_audit)
    assert (config.notnow_days, config.retention_days) == (7, None)
    assert [tuple(r) for r in rows] == [
        ("notnow_days", "14", "7"),
        ("retention_days", "365", "null"),
    ]


async def test_help_and_the_menu_show_the_customers_controls(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, BRAM)
    await send(app, BRAM, "/help")
    text = telegram.last_text(BRAM.id)
    for command in ("/pause", "/resume", "/frequency", "/mydata", "/privacy", "/forget"):
        assert command in text
    menus = {
        call.params.get("language_code"): [c["command"] for c in call.params["commands"]]
        for call in telegram.of("setMyCommands")
        if "chat_id" not in json.dumps(call.params.get("scope", {}))
    }
    assert "pause" in menus["nl"]
    assert "forget" in menus[None]


async def test_mydata_sends_everything_readable_and_as_json(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await enroll(app, CLAIRE)
    await round_now(app, clock)
    invitation = await latest(app, CLAIRE)
    await press(app, CLAIRE, f"ci:{invitation.id}:score:2")
    await send(app, CLAIRE, "Finding <good> staff & keeping them")
    await press(app, CLAIRE, f"ci:{invitation.id}:skip:improvement")
    await press(app, CLAIRE, f"ci:{invitation.id}:contact:no")
    await send(app, CLAIRE, "/mydata")
    texts = [str(c.params["text"]) for c in telegram.sent(CLAIRE.id)[-1:]]
    text = "\n".join(texts)
    assert "Name: Claire" in text
    assert "@claire_c" in text
    assert "Group: general" in text
    assert "Status: taking part" in text
    assert "17 November 2026" in text
    assert "How are things going (1–5): 2" in text
    assert "Finding &lt;good&gt; staff &amp; keeping them" in text  # escaped
    assert "What we could do better: skipped" in text
    assert "May we contact you: no" in text
    document = telegram.of("sendDocument")[-1]
    name, content = document.files["document"]
    assert name == "pulse-my-data.json"
    data = json.loads(content)
    assert data["telegram_user_id"] == CLAIRE.id
    assert data["customer"]["username"] == "claire_c"
    assert data["customer"]["segment"] == "general"
    answers = {a["question"]: a["value"] for a in data["checkins"][0]["answers"]}
    assert answers == {
        "score": "2",
        "challenge": "Finding <good> staff & keeping them",
        "improvement": None,
        "contact": "no",
    }


async def test_mydata_from_someone_unknown_says_nothing_is_stored(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send(app, STRANGER, "/mydata")
    assert "nothing about you" in telegram.last_text(STRANGER.id)
    assert telegram.of("sendDocument") == []


async def test_privacy_says_what_is_kept_and_for_how_long(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send(app, CLAIRE, "/privacy")
    assert "deleted after 365 days" in telegram.last_text(CLAIRE.id)
    await send(app, ADMIN, "/retention off")
    await send(app, BRAM, "/privacy")
    text = telegram.last_text(BRAM.id)
    assert "Wie het ziet" in text
    assert "tot je me vraagt het te wissen" in text
