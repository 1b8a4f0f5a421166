"""`/sample by <attribute>` through the real Application on a migrated database: the setting
is parsed, refused with a reason, stored, shown, and a round with a base splits each segment
by it and says so in its report."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.common.context import PulseApplication
from bot.settings import Settings
from storage import runtime_settings
from storage.db import fetch_all
from tests.builders import Person
from tests.conftest import ADMIN, TOKEN, services_of
from tests.team_chat import reply, snapshot
from tests.test_sampling_base import enrol, import_rows, records
from tests.transport import FakeTelegram

DUTCH_ADMIN = Person(501, "Bram", "nl", "bram_admin")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(TOKEN),
        admin_ids=(ADMIN.id, DUTCH_ADMIN.id),
        database_path=tmp_path / "bot.db",
    )


async def stored(app: PulseApplication) -> runtime_settings.RuntimeSettings:
    return await services_of(app).db.read(runtime_settings.load)


async def test_sample_by_sets_the_attribute_and_says_it_waits_for_a_base(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    text = await reply(app, telegram, ADMIN, "/sample by Plan")
    assert "<b>Within segments by</b>: off → plan, in proportion to the customer base" in text
    assert "No customer base is imported yet, so rounds are not split by <b>plan</b>" in text
    assert (await stored(app)).sample_by == "plan"
    settings_text = await reply(app, telegram, ADMIN, "/settings")
    assert "Within segments by: plan, in proportion to the customer base" in settings_text
    assert "Sample size: 20 customers" in settings_text
    text = await reply(app, telegram, ADMIN, "/sample by off")
    assert "plan, in proportion to the customer base → off" in text
    assert "No customer base" not in text
    assert (await stored(app)).sample_by is None


async def test_a_dutch_admin_clears_it_with_geen(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    await reply(app, telegram, DUTCH_ADMIN, "/sample by regio")
    text = await reply(app, telegram, DUTCH_ADMIN, "/sample by geen")
    assert "<b>Binnen segmenten naar</b>: regio, naar verhouding van het klantenbestand → uit" in (
        text
    )


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        ('/sample by pl"an', 'pl"an</b> is not a column name of the customer base'),
        ("/sample by " + "x" * 65, "is not a column name of the customer base"),
        ("/sample by segment", "segment</b> is a column every customer has"),
        ("/sample by External_ID", "External_ID</b> is a column every customer has"),
    ],
)
async def test_a_bad_attribute_is_refused_with_the_reason_and_changes_nothing(
    app: PulseApplication, telegram: FakeTelegram, command: str, reason: str
) -> None:
    before = await snapshot(app)
    text = await reply(app, telegram, ADMIN, command)
    assert reason in text
    assert "Usage: <code>/sample &lt;N&gt;</code>" in text
    assert await snapshot(app) == before


async def test_sample_by_without_an_attribute_gets_the_usage_line(
    app: PulseApplication, telegram: FakeTelegram
) -> None:
    before = await snapshot(app)
    assert (await reply(app, telegram, ADMIN, "/sample by")).startswith("Usage: <code>/sample")
    assert await snapshot(app) == before


async def test_a_stratified_round_reports_its_split_by_the_attribute(
    app: PulseApplication, telegram: FakeTelegram, tmp_path: Path
) -> None:
    db = services_of(app).db
    rows = records("B", "retail", 300, "basic") + records("P", "retail", 100, "pro")
    await import_rows(db, tmp_path, rows)
    await enrol(db, "retail", range(1001, 1041), joined_to="B")
    await enrol(db, "retail", range(2001, 2041), joined_to="P")
    text = await reply(app, telegram, ADMIN, "/sample by plan")
    assert "No customer base" not in text
    report = await reply(app, telegram, ADMIN, "/checkin_now")
    assert "<b>20</b> invited" in report
    assert (
        "Within each segment split by <b>plan</b>, in proportion to the customer base:"
        " retail: basic 15, pro 5." in report
    )
    invited = await db.read(lambda conn: fetch_all(conn, "SELECT user_id FROM invitations"))
    basic = [r for r in invited if int(r[0]) < 2000]
    assert (len(basic), len(invited) - len(basic)) == (15, 5)
