"""/export as CSV or as an Excel workbook through the real Application, written to a file
page by page, zipped past its threshold, and refused with the usage for anything else."""

from __future__ import annotations

import asyncio
import csv
import html
import io
import re
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from bot.common.context import PulseApplication
from bot.digest.export import COLUMNS, export_for_telegram
from storage.db import fetch_all
from tests import builders
from tests.conftest import ADMIN, handle, services_of
from tests.test_cli import pulsebot
from tests.test_digest import STAFF, answer_round, enroll_customers
from tests.transport import FakeTelegram

ZONE = ZoneInfo("Europe/Amsterdam")


def sheet_rows(workbook: bytes) -> list[list[str]]:
    """The cell texts of the workbook's one sheet, row by row, "" for an empty cell
    (xlsxwriter's constant-memory mode writes strings inline, numbers as values)."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as parts:
        sheet = parts.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in sheet  # no cell is a formula
    rows = []
    for row in re.findall(r"<row [^>]*>(.*?)</row>", sheet):
        cells = [""] * len(COLUMNS)
        for column, body in re.findall(r'<c r="([A-Z]+)\d+"[^>]*?(?:/>|>(.*?)</c>)', row):
            cells[ord(column) - ord("A")] = html.unescape(re.sub(r"<[^>]+>", "", body))
        rows.append(cells)
    return rows


async def answered(app: PulseApplication, clock: ManualClock) -> int:
    await enroll_customers(app)
    await answer_round(app, clock)
    count = await services_of(app).db.read(
        lambda conn: fetch_all(conn, "SELECT COUNT(*) FROM answers")
    )
    return int(count[0][0])


async def test_export_xlsx_sends_a_workbook_where_customer_text_stays_text(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    answers = await answered(app, clock)
    await handle(app, builders.message(app.bot, STAFF, "/export XLSX"))
    (document,) = telegram.of("sendDocument")
    ((filename, content),) = document.files.values()
    assert filename == "pulse-answers-2026-11-17.xlsx"
    rows = sheet_rows(content)
    assert rows[0] == list(COLUMNS)
    assert len(rows) == answers + 1
    # The formula a customer typed is a text cell holding exactly what they typed.
    noah = [row for row in rows if row[4] == "104" and row[9] == "challenge"]
    assert noah[0][10] == '=HYPERLINK("http://x")'
    assert noah[0][3] == "wholesale"
    assert str(document.params["caption"]) == f"Alle {answers} antwoorden als Excel-werkmap."


async def test_export_with_anything_but_a_format_shows_the_usage_and_sends_nothing(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await answered(app, clock)
    for command in ("/export pdf", "/export csv xlsx"):
        await handle(app, builders.message(app.bot, ADMIN, command))
        assert telegram.last_text(ADMIN.id) == (
            "Usage: <code>/export</code> sends every answer as CSV, <code>/export xlsx</code>"
            " as an Excel workbook."
        )
    assert telegram.of("sendDocument") == []


async def test_a_large_export_is_zipped_and_one_too_large_even_zipped_does_not_fit(
    app: PulseApplication, clock: ManualClock, tmp_path: Path
) -> None:
    answers = await answered(app, clock)
    db = services_of(app).db
    plain = await export_for_telegram(db, ZONE, "csv", tmp_path, "plain")
    assert not plain.zipped
    assert plain.fits_telegram
    assert plain.path == tmp_path / "plain.csv"
    (tmp_path / "big").mkdir()
    zipped = await export_for_telegram(db, ZONE, "csv", tmp_path / "big", "answers", zip_from=100)
    assert zipped.zipped
    assert zipped.fits_telegram
    assert zipped.count == answers
    assert [p.name for p in (tmp_path / "big").iterdir()] == ["answers.zip"]  # the CSV is gone
    with zipfile.ZipFile(zipped.path) as archive:
        assert archive.namelist() == ["answers.csv"]
        inside = archive.read("answers.csv")
    assert inside == plain.path.read_bytes()
    assert len(list(csv.reader(io.StringIO(inside.decode("utf-8-sig"))))) == answers + 1
    (tmp_path / "huge").mkdir()
    huge = await export_for_telegram(
        db, ZONE, "xlsx", tmp_path / "huge", "answers", zip_from=100, limit=100
    )
    assert huge.zipped
    assert not huge.fits_telegram


async def test_pulsebot_export_writes_a_workbook_of_every_answer(
    app: PulseApplication, clock: ManualClock, tmp_path: Path
) -> None:
    answers = await answered(app, clock)
    database = services_of(app).db.path
    for out, args in (("answers.xlsx", ()), ("answers.data", ("--format", "xlsx"))):
        result = await asyncio.to_thread(
            pulsebot, tmp_path, "export", "--out", out, *args, PULSE_DATABASE_PATH=str(database)
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"exported {answers:,} answers to {out}"
        assert len(sheet_rows((tmp_path / out).read_bytes())) == answers + 1


async def test_pulsebot_export_to_a_folder_that_does_not_exist_says_so_at_once(
    app: PulseApplication, clock: ManualClock, tmp_path: Path
) -> None:
    await answered(app, clock)
    database = services_of(app).db.path
    result = await asyncio.to_thread(
        pulsebot, tmp_path, "export", "--out", "missing/a.xlsx", PULSE_DATABASE_PATH=str(database)
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip() == "pulsebot: cannot write missing/a.xlsx: No such file or directory"
    )
