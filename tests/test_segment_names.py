"""The default segment's built-in name reads in the reader's language, and means it in a
command in either language; a name an admin gave stays as written."""

from __future__ import annotations

from dataclasses import replace

from bot.common.context import PulseApplication
from bot.digest.figures import FollowUp, LowResponseFigures, SegmentFigures, SilentFigures
from bot.digest.render import render
from storage.team import Role
from tests.builders import Person
from tests.conftest import ADMIN
from tests.team_chat import make_member, reply
from tests.test_checkin import PEOPLE, enroll_directly
from tests.test_digest_render import CATALOG, ZONE, figures, text_of
from tests.transport import FakeTelegram

DUTCH_ADMIN = Person(501, "Daan", "nl", "daan")


def test_the_dutch_digest_names_the_built_in_segment_in_dutch() -> None:
    week = replace(
        figures(),
        segments=(
            SegmentFigures("general", 30, 4, 1, 4.0),
            SegmentFigures("retail", 9, 2, 2, 3.5),
        ),
        silent=(SilentFigures("general", 3, False),),
        low_response=(LowResponseFigures("general", 0.25, 0.7),),
        follow_ups=(FollowUp("Eve", None, "general", 1, True, None, None),),
    )
    dutch = text_of(render(CATALOG, "nl", week, ZONE))
    english = text_of(render(CATALOG, "en", week, ZONE))
    assert "general" not in dutch
    assert "• algemeen: 1 van 4 geantwoord" in dutch
    assert "⚠️ algemeen: al 3 weken geen antwoorden." in dutch
    assert "⚠️ algemeen: respons 25 %" in dutch
    assert "<b>Eve</b> · algemeen ·" in dutch
    assert "• retail: 2 van 2 geantwoord" in dutch  # an admin's name stays as written
    assert "• general: 1 of 4 answered" in english


async def test_a_dutch_admin_sees_the_built_in_segment_in_dutch_and_can_name_it_so(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await make_member(app, DUTCH_ADMIN, Role.ADMIN)
    await enroll_directly(app, PEOPLE[:2])
    assert "<b>algemeen</b>: 2 klanten" in await reply(app, telegram, DUTCH_ADMIN, "/segments")
    assert "<b>general</b>: 2 customers" in await reply(app, telegram, ADMIN, "/segments")
    started = await reply(app, telegram, DUTCH_ADMIN, "/checkin_now algemeen")
    assert "in segment algemeen" in started
    assert "• algemeen: 2 van 2 beschikbaar" in started
    link = await reply(app, telegram, DUTCH_ADMIN, "/invite algemeen")
    assert "segment <b>algemeen</b>:" in link
    assert "(nieuw segment)" not in link  # the default segment's link, not a new segment
