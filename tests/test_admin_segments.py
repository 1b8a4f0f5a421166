"""/segments with counts, links and response rates; /segment rename and a safe remove."""

from __future__ import annotations

import sqlite3

from bot.checkins.rounds import start_round
from bot.clock import ManualClock
from bot.common.context import PulseApplication
from storage import audit, segments
from storage.audit import AuditEntry
from storage.db import fetch_all
from storage.segments import Segment
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.team_chat import CUSTOMER, enroll, reply, snapshot
from tests.transport import FakeTelegram

CLAIRE = Person(702, "Claire", "en")


async def segment_id(app: PulseApplication, name: str) -> int:
    found = await services_of(app).db.read(lambda conn: segments.find_by_name(conn, name))
    assert found is not None
    return found.id


async def test_segments_show_customers_links_and_response(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    link = (await reply(app, telegram, ADMIN, "/invite retail")).split("\n")[1]
    retail = await segment_id(app, "retail")
    await enroll(app, CUSTOMER, retail)
    await enroll(app, CLAIRE, retail)
    services = services_of(app)
    started = await start_round(
        services.db, schedule="test", scheduled_for=1, now=clock.now(), zone_name="UTC"
    )
    assert started is not None
    await services.sender.drain()
    rows = await services.db.read(
        lambda conn: fetch_all(
            conn, "SELECT id FROM invitations WHERE user_id = ?", (CUSTOMER.id,)
        )
    )
    await handle(app, builders.press(app.bot, CUSTOMER, f"ci:{rows[0][0]}:score:4"))
    text = await reply(app, telegram, ADMIN, "/segments")
    assert "<b>Segments</b> (response over the last 90 days)" in text
    assert (
        "• <b>retail</b>: 2 customers (2 active, 0 paused, 0 stopped); response 50% (1 of 2)"
        in text
    )
    assert f"   {link}" in text
    assert "• <b>general</b>: 0 customers (0 active, 0 paused, 0 stopped); no check-ins yet" in (
        text
    )
    assert "no invite link yet: <code>/invite general</code>" in text


async def test_a_segment_is_renamed_and_its_link_keeps_working(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    invite = await reply(app, telegram, ADMIN, "/invite big retail")
    code = invite.split("?start=", 1)[1].split()[0]
    text = await reply(app, telegram, ADMIN, "/segment rename big retail large shops")
    assert text == (
        "Segment <b>big retail</b> is now called <b>large shops</b>; its invite link still works."
    )

    def renamed(conn: sqlite3.Connection) -> tuple[Segment | None, list[AuditEntry]]:
        return segments.find_by_code(conn, code), audit.recent(conn, 1)

    found, entries = await services_of(app).db.read(renamed)
    assert found is not None
    assert found.name == "large shops"
    assert (entries[0].action, entries[0].old_value, entries[0].new_value) == (
        "segment.rename",
        "big retail",
        "large shops",
    )
    assert "already a segment called <b>General</b>" in await reply(
        app, telegram, ADMIN, "/segment rename large shops -> General"
    )
    assert "no segment called <b>nowhere</b>" in await reply(
        app, telegram, ADMIN, "/segment rename nowhere -> somewhere"
    )
    assert "is not a segment name" in await reply(
        app, telegram, ADMIN, "/segment rename large shops -> <script>"
    )


async def test_a_segment_with_customers_is_not_removed(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await reply(app, telegram, ADMIN, "/invite retail")
    await enroll(app, CUSTOMER, await segment_id(app, "retail"))
    before = await snapshot(app)
    text = await reply(app, telegram, ADMIN, "/segment remove retail")
    assert "Segment <b>retail</b> is not removed: 1 customer," in text
    assert await snapshot(app) == before
    assert "cannot be removed" in await reply(app, telegram, ADMIN, "/segment remove general")


async def test_an_unused_segment_is_removed_with_its_link(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    invite = await reply(app, telegram, ADMIN, "/invite retial")
    code = invite.split("?start=", 1)[1].split()[0]
    text = await reply(app, telegram, ADMIN, "/segment remove retial")
    assert text == "Segment <b>retial</b> is removed, and its invite link no longer works."

    def removed(
        conn: sqlite3.Connection,
    ) -> tuple[Segment | None, Segment | None, list[AuditEntry]]:
        return (
            segments.find_by_code(conn, code),
            segments.find_by_name(conn, "retial"),
            audit.recent(conn, 1),
        )

    by_code, by_name, entries = await services_of(app).db.read(removed)
    assert by_code is None
    assert by_name is None
    assert entries[0].action == "segment.remove"


async def test_segment_without_a_known_verb_gets_the_usage_line(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    for command in ("/segment", "/segment delete retail", "/segment rename"):
        assert (await reply(app, telegram, ADMIN, command)).startswith("Usage: <code>/segment")
