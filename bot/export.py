"""The CSV export of every answer, safe to open in a spreadsheet: no customer text can
become a formula (OWASP's CSV injection advice: such a cell starts with a quote)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from storage import answer_export
from storage.db import Database

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


async def write_csv(db: Database, out: TextIO, zone: ZoneInfo) -> int:
    """Writes every answer, oldest first, with a header row; returns how many answers."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    rows = 0
    last = 0
    while True:
        async with db.scan() as conn:
            page = await answer_export.page(conn, last)
        if not page:
            return rows
        last = page[-1].id
        for row in page:
            writer.writerow(
                (
                    _time(row.answered_at, zone),
                    row.round_id,
                    _time(row.round_started_at, zone),
                    safe_cell(row.segment),
                    row.user_id,
                    safe_cell(row.first_name),
                    safe_cell(row.last_name),
                    safe_cell(row.username),
                    row.language,
                    row.question,
                    safe_cell(row.value),
                    "yes" if row.skipped else "no",
                    "" if row.hypothesis_id is None else f"#{row.hypothesis_id}",
                )
            )
        rows += len(page)
