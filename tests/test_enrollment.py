"""Enrollment and the customer controls, through the real Application on a fake transport."""

from __future__ import annotations

import sqlite3

import pytest

from bot.common.context import PulseApplication
from storage import customers, enrollments
from storage.customers import CustomerStatus
from storage.db import fetch_all
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.transport import BOT_USERNAME, FakeTelegram

BRAM = Person(11, "Bram", "nl-NL", "bram")
CLAIRE = Person(12, "Claire", "en", "claire")


async def send(app: PulseApplication, person: Person, text: str) -> None:
    await handle(app, builders.message(app.bot, person, text))


async def press(app: PulseApplication, person: Person, data: str) -> None:
    await handle(app, builders.press(app.bot, person, data))


async def invite_code(app: PulseApplication, telegram: FakeTelegram, segment: str) -> str:
    await send(app, ADMIN, f"/invite {segment}")
    text = telegram.last_text(ADMIN.id)
    prefix = f"https://t.me/{BOT_USERNAME}?start="
    assert prefix in text, text
    return text.split(prefix, 1)[1].split()[0]


async def enroll(app: PulseApplication, telegram: FakeTelegram, person: Person, code: str) -> None:
    await send(app, person, f"/start {code}")
    yes = telegram.last_buttons(person.id)[0][1]
    await press(app, person, yes)


async def customer(app: PulseApplication, user_id: int) -> customers.Customer | None:
    return await services_of(app).db.read(lambda conn: customers.find(conn, user_id))


async def test_invite_link_start_and_yes_enrolls_the_customer_in_that_segment(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    code = await invite_code(app, telegram, "retail")
    await send(app, BRAM, f"/start {code}")
    welcome = telegram.last_text(BRAM.id)
    buttons = telegram.last_buttons(BRAM.id)
    assert "Pulse" in welcome
    assert "30 dagen" in welcome  # Dutch, from language_code nl-NL, says how often at most
    assert "/stop" in welcome
    assert [label for label, _ in buttons] == ["Ja, prima", "Nee, liever niet"]
    assert await customer(app, BRAM.id) is None  # nothing stored before consent

    await press(app, BRAM, buttons[0][1])

    stored = await customer(app, BRAM.id)
    assert stored is not None
    assert stored.status is CustomerStatus.ACTIVE
    assert stored.language == "nl"
    assert stored.username == "bram"

    def segment_of_bram(conn: sqlite3.Connection) -> list[sqlite3.Row]:
        segment = customers.get(conn, BRAM.id)
        return fetch_all(conn, "SELECT name FROM segments WHERE id = ?", (segment.segment_id,))

    rows = await services_of(app).db.read(segment_of_bram)
    assert [row[0] for row in rows] == ["retail"]
    assert "je doet mee" in telegram.last_text(BRAM.id).lower()
    assert telegram.of("answerCallbackQuery")
    assert telegram.of("editMessageReplyMarkup")  # the consent buttons are taken away


async def test_no_to_consent_stores_only_the_refusal(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    code = await invite_code(app, telegram, "retail")
    await send(app, CLAIRE, f"/start {code}")
    no = telegram.last_buttons(CLAIRE.id)[1][1]
    await press(app, CLAIRE, no)
    assert await customer(app, CLAIRE.id) is None

    def refusal(
        conn: sqlite3.Connection,
    ) -> tuple[int, enrollments.PendingEnrollment | None, list[sqlite3.Row]]:
        return (
            enrollments.count_refusals(conn),
            enrollments.find_for_user(conn, CLAIRE.id),
            fetch_all(conn, "SELECT COUNT(*) FROM customers WHERE first_name = 'Claire'"),
        )

    refusals, pending, names = await services_of(app).db.read(refusal)
    assert refusals == 1
    assert pending is None
    assert next(iter(names))[0] == 0
    assert "nothing about you" in telegram.last_text(CLAIRE.id)


async def test_start_without_code_enrolls_in_the_default_segment(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send(app, CLAIRE, "/start")
    await press(app, CLAIRE, telegram.last_buttons(CLAIRE.id)[0][1])
    stored = await customer(app, CLAIRE.id)
    assert stored is not None
    assert stored.segment_id == 1
    assert stored.language == "en"


@pytest.mark.parametrize("code", ["doesnotexist", "bad code!", "x" * 65])
async def test_unknown_or_malformed_code_stores_nothing(
    app: PulseApplication, telegram: FakeTelegram, code: str
) -> None:
    await send(app, CLAIRE, f"/start {code}")
    assert "not valid" in telegram.last_text(CLAIRE.id)
    assert telegram.last_buttons(CLAIRE.id) == []
    pending = await services_of(app).db.read(
        lambda conn: enrollments.find_for_user(conn, CLAIRE.id)
    )
    assert pending is None


async def test_second_start_from_an_enrolled_customer_changes_nothing(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    code = await invite_code(app, telegram, "retail")
    await enroll(app, telegram, BRAM, code)
    before = await customer(app, BRAM.id)
    other = await invite_code(app, telegram, "wholesale")
    await send(app, BRAM, f"/start {other}")
    assert "retail" in telegram.last_text(BRAM.id)
    assert await customer(app, BRAM.id) == before


async def test_a_consent_button_of_an_older_question_changes_nothing(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    code = await invite_code(app, telegram, "retail")
    await send(app, BRAM, f"/start {code}")
    old_yes = telegram.last_buttons(BRAM.id)[0][1]
    await send(app, BRAM, "/start")
    await press(app, BRAM, old_yes)
    assert await customer(app, BRAM.id) is None
    answer = telegram.of("answerCallbackQuery")[-1]
    assert "al beantwoord" in answer.params["text"]


async def test_a_customer_cannot_answer_someone_elses_consent_question(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    code = await invite_code(app, telegram, "retail")
    await send(app, BRAM, f"/start {code}")
    brams_yes = telegram.last_buttons(BRAM.id)[0][1]
    await press(app, CLAIRE, brams_yes)
    assert await customer(app, CLAIRE.id) is None
    assert await customer(app, BRAM.id) is None
    pending = await services_of(app).db.read(lambda conn: enrollments.find_for_user(conn, BRAM.id))
    assert pending is not None


async def test_stop_needs_confirmation_and_then_stops_the_customer(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, telegram, CLAIRE, "")
    await send(app, CLAIRE, "/stop")
    labels = telegram.last_buttons(CLAIRE.id)
    assert [label for label, _ in labels] == ["Yes, stop", "No, keep going"]
    await press(app, CLAIRE, labels[1][1])
    stored = await customer(app, CLAIRE.id)
    assert stored is not None
    assert stored.status is CustomerStatus.ACTIVE
    await send(app, CLAIRE, "/stop")
    await press(app, CLAIRE, telegram.last_buttons(CLAIRE.id)[0][1])
    stored = await customer(app, CLAIRE.id)
    assert stored is not None
    assert stored.status is CustomerStatus.STOPPED


async def test_a_stopped_customer_is_re_enrolled_only_after_consent(
    app: PulseApplication, telegram: FakeTelegram, clock: object
) -> None:
    code = await invite_code(app, telegram, "retail")
    await enroll(app, telegram, CLAIRE, code)
    await send(app, CLAIRE, "/stop")
    await press(app, CLAIRE, "stop:yes")
    await send(app, CLAIRE, "/start")
    assert "Welcome back" in telegram.last_text(CLAIRE.id)
    stored = await customer(app, CLAIRE.id)
    assert stored is not None
    assert stored.status is CustomerStatus.STOPPED
    await press(app, CLAIRE, telegram.last_buttons(CLAIRE.id)[0][1])
    stored = await customer(app, CLAIRE.id)
    assert stored is not None
    assert stored.status is CustomerStatus.ACTIVE
    segment_id = stored.segment_id
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT name FROM segments WHERE id = ?", (segment_id,))
    )
    assert [row[0] for row in rows] == ["retail"]  # back in the segment they had


async def test_language_switch_is_stored_and_used(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, telegram, BRAM, "")
    await send(app, BRAM, "/language en")
    assert "English" in telegram.last_text(BRAM.id)
    stored = await customer(app, BRAM.id)
    assert stored is not None
    assert stored.language == "en"
    await send(app, BRAM, "/help")
    assert "/stop" in telegram.last_text(BRAM.id)
    assert "stop receiving questions" in telegram.last_text(BRAM.id)
    await send(app, BRAM, "/language")
    await press(app, BRAM, "lang:nl")
    stored = await customer(app, BRAM.id)
    assert stored is not None
    assert stored.language == "nl"


async def test_language_with_an_unknown_choice_gets_the_usage_and_changes_nothing(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, telegram, BRAM, "")
    await send(app, BRAM, "/language klingon")
    assert "/language nl" in telegram.last_text(BRAM.id)
    stored = await customer(app, BRAM.id)
    assert stored is not None
    assert stored.language == "nl"


async def test_blocking_the_bot_marks_the_customer_blocked(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await enroll(app, telegram, CLAIRE, "")
    sent_before = len(telegram.calls)
    await handle(app, builders.blocked(app.bot, CLAIRE))
    stored = await customer(app, CLAIRE.id)
    assert stored is not None
    assert stored.status is CustomerStatus.BLOCKED
    assert len(telegram.calls) == sent_before  # nothing is sent to someone who blocked us


async def test_a_customer_cannot_create_invites(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send(app, CLAIRE, "/invite sneaky")
    assert "only for our team" in telegram.last_text(CLAIRE.id)
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT COUNT(*) FROM segments WHERE name = 'sneaky'")
    )
    assert next(iter(rows))[0] == 0


async def test_invite_reuses_the_segments_link_and_audits_its_creation(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    first = await invite_code(app, telegram, "Retail")
    assert "new segment" in telegram.last_text(ADMIN.id)
    second = await invite_code(app, telegram, "retail")
    assert first == second
    assert "new segment" not in telegram.last_text(ADMIN.id)
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT actor_id, action FROM audit_log ORDER BY id")
    )
    assert [tuple(row) for row in rows] == [
        (ADMIN.id, "segment.create"),
        (ADMIN.id, "invite.create"),
    ]


@pytest.mark.parametrize("args", ["", "<b>bold</b>", "x" * 40])
async def test_invite_with_a_bad_segment_name_explains_and_creates_nothing(
    app: PulseApplication, telegram: FakeTelegram, args: str
) -> None:
    await send(app, ADMIN, f"/invite {args}".strip())
    assert "/invite" in telegram.last_text(ADMIN.id) or "1 to 32 characters" in telegram.last_text(
        ADMIN.id
    )
    rows = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT COUNT(*) FROM segments")
    )
    assert next(iter(rows))[0] == 1


async def test_a_group_chat_gets_a_pointer_to_a_private_chat(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    group = {"id": -100, "type": "group", "title": "Team"}
    await handle(app, builders.message(app.bot, CLAIRE, "/start", chat=group))
    assert "private" in telegram.last_text(-100)
    await handle(app, builders.message(app.bot, CLAIRE, "hello all", chat=group))
    assert len(telegram.sent(-100)) == 1  # plain chatter in a group gets no reply
    assert await customer(app, CLAIRE.id) is None


async def test_an_edited_message_is_ignored(app: PulseApplication, telegram: FakeTelegram) -> None:
    await handle(app, builders.message(app.bot, CLAIRE, "/start", edited=True))
    assert telegram.sent() == []


async def test_a_sticker_gets_a_request_for_text(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    sticker = {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    }
    await handle(app, builders.message(app.bot, BRAM, None, extra=sticker))
    assert "alleen tekst" in telegram.last_text(BRAM.id)


async def test_text_with_no_question_open_gets_a_friendly_pointer(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send(app, CLAIRE, "hello?")
    assert "no question open" in telegram.last_text(CLAIRE.id)
    await send(app, CLAIRE, "/frobnicate")
    assert "/help" in telegram.last_text(CLAIRE.id)


async def test_user_text_in_replies_is_escaped(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await invite_code(app, telegram, "a&b")
    assert "a&amp;b" in telegram.last_text(ADMIN.id)


async def test_the_welcome_promises_the_cool_down_admins_set(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await send(app, ADMIN, "/cooldown 7")
    assert "30 days → 7 days" in telegram.last_text(ADMIN.id)
    code = await invite_code(app, telegram, "retail")
    await send(app, CLAIRE, f"/start {code}")
    assert "at most once every 7 days" in telegram.last_text(CLAIRE.id)
    await send(app, BRAM, "/start")
    assert "hooguit eens per 7 dagen" in telegram.last_text(BRAM.id)


@pytest.mark.parametrize(
    ("person", "expected"),
    [(CLAIRE, "This button no longer works."), (BRAM, "Deze knop werkt niet meer.")],
)
async def test_a_button_no_handler_knows_is_answered_in_the_users_language(
    app: PulseApplication, telegram: FakeTelegram, person: Person, expected: str
) -> None:
    for data in ("old:feature:1", "ci:9:score:6"):
        before = len(telegram.of("answerCallbackQuery"))
        await press(app, person, data)
        answers = telegram.of("answerCallbackQuery")
        assert len(answers) == before + 1, data
        assert answers[-1].params.get("text") == expected, data


async def test_a_sticker_from_a_stranger_points_to_the_invite_link_not_to_an_answer(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    sticker = {
        "sticker": {
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
    }
    await handle(app, builders.message(app.bot, CLAIRE, None, extra=sticker))
    text = telegram.last_text(CLAIRE.id)
    assert "invite link" in text
    assert "type your answer" not in text
