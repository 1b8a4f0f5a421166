"""/questions: the wording is stored in the database, asked by the check-in from the next
message on, kept across a restart, and reset to the catalog's."""

from __future__ import annotations

import pytest

from bot.app import build_application
from bot.catalog import LANGUAGES, Catalog
from bot.checkins.questions import TEXTS, default_wording
from bot.clock import ManualClock
from bot.common.context import PulseApplication
from bot.settings import Settings
from storage import audit
from storage.db import fetch_all
from tests import builders
from tests.conftest import ADMIN, handle, services_of
from tests.team_chat import CUSTOMER, enroll, reply
from tests.test_checkin import start_test_round
from tests.transport import FakeTelegram


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_question_text_has_one_bold_question_to_reword(language: str) -> None:
    catalog = Catalog.load()
    for keys in TEXTS.values():
        for key in keys:
            assert default_wording(catalog.template(language, key)).strip(), key


async def test_questions_shows_the_wording_in_both_languages(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    text = await reply(app, telegram, ADMIN, "/questions")
    assert "<b>1. How are things going (1–5)</b> (<code>score</code>)" in text
    assert "en: How are things going with us?" in text
    assert "nl: Hoe tevreden ben je over ons?" in text
    assert "nl: Wat is op dit moment je grootste uitdaging?" in text
    assert "en: May someone from our team contact you about this?" in text


async def test_a_new_wording_is_asked_by_the_next_check_in(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    text = await reply(
        app, telegram, ADMIN, "/questions set score nl Hoe <tevreden> ben je over ons?"
    )
    assert (
        "Question <b>score</b> (nl): “Hoe tevreden ben je over ons?” → “Hoe &lt;tevreden&gt;"
        in text
    )
    await reply(app, telegram, ADMIN, "/questions set 2 nl Waar lig je wakker van?")
    await enroll(app, CUSTOMER)
    await start_test_round(app, clock)
    first = telegram.last_text(CUSTOMER.id)
    assert first.startswith("Hoi Bram! Een korte check-in")
    assert first.endswith("<b>Hoe &lt;tevreden&gt; ben je over ons?</b>")
    invitation = (
        await services_of(app).db.read(lambda conn: fetch_all(conn, "SELECT id FROM invitations"))
    )[0][0]
    await handle(app, builders.press(app.bot, CUSTOMER, f"ci:{invitation}:score:2"))
    assert telegram.last_text(CUSTOMER.id) == (
        "<b>Waar lig je wakker van?</b>\nTyp het gewoon, of kies Overslaan."
    )
    shown = await reply(app, telegram, ADMIN, "/questions")
    assert "nl ✏️: Hoe &lt;tevreden&gt; ben je over ons?" in shown
    assert "en: How are things going with us?" in shown
    entry = (await services_of(app).db.read(lambda conn: audit.recent(conn, 2)))[1]
    assert (entry.action, entry.subject, entry.old_value) == (
        "question.set",
        "score/nl",
        "Hoe tevreden ben je over ons?",
    )


async def test_the_wording_survives_a_restart_and_resets(
    app: PulseApplication, telegram: FakeTelegram, settings: Settings, clock: ManualClock
) -> None:
    await reply(app, telegram, ADMIN, "/questions set improvement en What should we fix?")
    again = build_application(settings, clock, request=telegram)
    await again.initialize()
    assert again.post_init is not None
    await again.post_init(again)
    try:
        catalog = services_of(again).catalog
        assert catalog.text("en", "checkin.ask_improvement").startswith(
            "<b>What should we fix?</b>"
        )
        text = await reply(again, telegram, ADMIN, "/questions reset")
        assert text == "Back to the standard wording (1 text changed back)."
        assert catalog.text("en", "checkin.ask_improvement").startswith(
            "<b>What could we do better for you?</b>"
        )
    finally:
        await services_of(again).sender.close()
        await again.shutdown()
        assert again.post_shutdown is not None
        await again.post_shutdown(again)


async def test_bad_question_commands_get_a_reason_and_the_usage_line(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    assert "<b>mood</b> is not a question" in await reply(
        app, telegram, ADMIN, "/questions set mood en How?"
    )
    assert "<b>fr</b> is not a language" in await reply(
        app, telegram, ADMIN, "/questions set score fr Ça va?"
    )
    assert (await reply(app, telegram, ADMIN, "/questions set score en")).startswith("Usage:")
    assert (await reply(app, telegram, ADMIN, "/questions drop")).startswith("Usage:")
