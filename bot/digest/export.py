"""The export of every answer, as CSV or as an Excel workbook, safe to open in a spreadsheet:
no customer text can become a formula (OWASP's CSV injection advice: such a CSV cell starts
with a quote; the workbook stores every text as text).

Written page by page to a file, never built in memory, with the writing off the event
loop: a million answers cost a few MB of memory and hold no customer's answer up. A file
for Telegram is zipped past ZIP_FROM; past Telegram's 50 MB for a bot even zipped, the
caller points to `pulsebot export`, which has no limit.
"""

from __future__ import annotations

import asyncio
import csv
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

import xlsxwriter

from storage import answer_export
from storage.answer_export import AnswerRow
from storage.db import Database

FORMATS = ("csv", "xlsx")
# Telegram takes files up to 50 MB from a bot; a file past 45 MB is zipped first (a CSV of
# answers shrinks to about a fifth), leaving room for the multipart request around it.
TELEGRAM_LIMIT = 50 * 1024 * 1024
ZIP_FROM = 45 * 1024 * 1024
# A worksheet holds at most 1,048,576 rows; one is the header.
XLSX_ANSWERS = 1_048_575


class TooManyForXlsx(Exception):
    """More answers than one worksheet holds: the CSV export has no such limit."""


COLUMNS = (
    "answered_at",
    "round",
    "round_started_at",
    "segment",
    "customer_id",
    "first_name",
    "last_name",
    "username",
    "language",
    "question",
    "answer",
    "skipped",
    "hypothesis",
    # Last, so that sheets built on the columns before it keep working.
    "external_id",
)
# A spreadsheet reads a cell starting with one of these as a formula (or a command).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: str | None) -> str:
    """A text cell that a spreadsheet shows as text, never evaluates."""
    if value is None:
        return ""
    if value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _time(epoch: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(zone).isoformat(timespec="seconds")


def _cells(row: AnswerRow, zone: ZoneInfo) -> tuple[Any, ...]:
    return (
        _time(row.answered_at, zone),
        row.round_id,
        _time(row.round_started_at, zone),
        row.segment or "",
        row.user_id,
        row.first_name or "",
        row.last_name or "",
        row.username or "",
        row.language,
        row.question,
        row.value or "",
        "yes" if row.skipped else "no",
        "" if row.hypothesis_id is None else f"#{row.hypothesis_id}",
        row.external_id or "",
    )


# The text columns a customer (or their Telegram profile) wrote: made safe in a CSV.
_TEXTS = {
    COLUMNS.index(c)
    for c in ("segment", "external_id", "first_name", "last_name", "username", "answer")
}


async def _pages(db: Database, write: Callable[[Sequence[AnswerRow]], None]) -> int:
    """Every answer, oldest first, a page at a time, each page written on a thread (a
    page of a workbook takes tens of milliseconds); returns how many answers."""
    rows = 0
    last = 0
    while True:
        page = await db.scan(partial(answer_export.page, after_id=last))
        if not page:
            return rows
        last = page[-1].id
        await asyncio.to_thread(write, page)
        rows += len(page)


async def write_csv(db: Database, out: TextIO, zone: ZoneInfo) -> int:
    """Writes every answer, oldest first, with a header row; returns how many answers."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)

    def write(page: Sequence[AnswerRow]) -> None:
        writer.writerows(
            tuple(safe_cell(v) if k in _TEXTS else v for k, v in enumerate(_cells(row, zone)))
            for row in page
        )

    return await _pages(db, write)


async def write_xlsx(db: Database, target: Path, zone: ZoneInfo) -> int:
    """Writes every answer to an Excel workbook at `target`, one sheet, a header row, in
    xlsxwriter's constant-memory mode (one row in memory at a time). Raises OSError at once
    when `target` cannot be written (xlsxwriter itself would only say so at the end), and
    TooManyForXlsx past XLSX_ANSWERS answers, rather than leave the rest out."""
    target.open("wb").close()
    workbook = xlsxwriter.Workbook(
        str(target),
        {
            "constant_memory": True,
            # A customer's "=1+1" or "http://…" stays the text they wrote.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = workbook.add_worksheet("answers")
    sheet.write_row(0, 0, COLUMNS)
    sheet.freeze_panes(1, 0)
    line = 1

    def write(page: Sequence[AnswerRow]) -> None:
        nonlocal line
        if line + len(page) - 1 > XLSX_ANSWERS:
            raise TooManyForXlsx(f"more than {XLSX_ANSWERS:,} answers: too many for a worksheet")
        for row in page:
            sheet.write_row(line, 0, _cells(row, zone))
            line += 1

    try:
        return await _pages(db, write)
    finally:
        await asyncio.to_thread(workbook.close)


@dataclass(frozen=True)
class Exported:
    """A written export: the file to send (the zip, when it was zipped), its size in
    bytes, how many answers it holds, and whether Telegram takes it from a bot."""

    path: Path
    size: int
    count: int
    zipped: bool
    fits_telegram: bool


async def export_for_telegram(
    db: Database,
    zone: ZoneInfo,
    kind: str,
    folder: Path,
    name: str,
    *,
    zip_from: int = ZIP_FROM,
    limit: int = TELEGRAM_LIMIT,
) -> Exported:
    """Every answer as `kind` ("csv" or "xlsx") in `folder` as `name`.<kind>, zipped when
    it is past `zip_from` bytes; it fits when the file sent is at most `limit` bytes."""
    target = folder / f"{name}.{kind}"
    count = await write_file(db, target, zone, kind)
    size = target.stat().st_size
    if size <= zip_from:
        return Exported(target, size, count, zipped=False, fits_telegram=size <= limit)
    archive = folder / f"{name}.zip"
    await asyncio.to_thread(_zip, target, archive)
    target.unlink()
    zipped = archive.stat().st_size
    return Exported(archive, zipped, count, zipped=True, fits_telegram=zipped <= limit)


async def write_file(db: Database, target: Path, zone: ZoneInfo, kind: str) -> int:
    """Every answer to `target` as `kind`; returns how many."""
    if kind == "xlsx":
        return await write_xlsx(db, target, zone)
    # utf-8-sig: spreadsheet programs then read the names' accents as UTF-8.
    with target.open("w", encoding="utf-8-sig", newline="") as out:
        return await write_csv(db, out, zone)


def _zip(source: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(source, arcname=source.name)
