"""Reading a customer base file: a CSV of external id, name, segment, language and any other
columns as attributes, read row by row and checked, each bad row with its line and why."""

from __future__ import annotations

import csv
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.common.parsing import REQUIRED
from bot.common.segment_names import InvalidSegmentName, clean_segment_name
from storage.customer_base import StagedRow

LANGUAGES = ("nl", "en")
MAX_ID = 64
MAX_NAME = 200
MAX_ATTRIBUTE = 500
# A field of a hostile file could otherwise be as long as the file.
csv.field_size_limit(64 * 1024)
# Sorted keys: the same row in another column order is the same record. One encoder for
# every row: json.dumps with options builds a new one per call (a third of an import's time).
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


class FileProblem(ValueError):
    """The file as a whole cannot be read as a customer base (its reason is a catalog key)."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class BadRow:
    """A row that is not imported: its line in the file and why (a catalog key)."""

    line: int
    key: str
    params: dict[str, Any] = field(default_factory=dict)


def _header(raw: list[str]) -> list[str]:
    return [name.strip().lower().replace(" ", "_") for name in raw]


def _dialect(first_line: str) -> str:
    """A comma, or the semicolon a Dutch spreadsheet writes when the header has no comma."""
    return ";" if ";" in first_line and "," not in first_line else ","


def read(path: Path) -> Iterator[StagedRow | BadRow]:
    """Every data row of the file in order, checked, streamed (one row in memory at a time);
    raises FileProblem when the header is unusable or the file is not UTF-8 text."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
            handle.seek(0)
            if not first.strip():
                raise FileProblem("base.file_empty")
            reader = csv.reader(handle, delimiter=_dialect(first))
            yield from _rows(reader)
    except UnicodeDecodeError:
        raise FileProblem("base.file_not_utf8") from None
    except csv.Error as exc:
        raise FileProblem("base.file_unreadable", reason=str(exc)) from None


def _rows(reader: Any) -> Iterator[StagedRow | BadRow]:
    header = _header(next(reader))
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise FileProblem("base.file_columns", missing=", ".join(missing))
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated or "" in header:
        raise FileProblem("base.file_header", columns=", ".join(repeated) or "?")
    where = {name: header.index(name) for name in REQUIRED}
    extra = [(k, name) for k, name in enumerate(header) if name not in REQUIRED]
    for values in reader:
        # The reader's own count: a quoted field may span lines.
        line = reader.line_num
        if not "".join(values).strip():
            continue  # blank lines are not rows
        yield check(line, values, len(header), where, extra)


@functools.lru_cache(maxsize=1024)
def _segment_name(raw: str) -> str | None:
    """The cleaned segment name, or None; a file names few segments, each many times."""
    try:
        return clean_segment_name(raw)
    except InvalidSegmentName:
        return None


def check(
    line: int,
    values: list[str],
    width: int,
    where: dict[str, int],
    extra: list[tuple[int, str]],
) -> StagedRow | BadRow:
    """One row checked: the first reason it cannot be imported, or the row to stage."""
    if len(values) != width:
        return BadRow(line, "base.bad_width", {"found": len(values), "expected": width})
    external_id = values[where["external_id"]].strip()
    name = " ".join(values[where["name"]].split())
    segment_raw = values[where["segment"]]
    language = values[where["language"]].strip().lower()
    if not external_id:
        return BadRow(line, "base.bad_no_id")
    if len(external_id) > MAX_ID or not external_id.isprintable():
        return BadRow(line, "base.bad_id", {"max": MAX_ID})
    if not name:
        return BadRow(line, "base.bad_no_name", {"id": external_id})
    if len(name) > MAX_NAME:
        return BadRow(line, "base.bad_long_name", {"id": external_id, "max": MAX_NAME})
    if not segment_raw.strip():
        return BadRow(line, "base.bad_no_segment", {"id": external_id})
    segment = _segment_name(segment_raw)
    if segment is None:
        return BadRow(line, "base.bad_segment", {"id": external_id, "segment": segment_raw})
    if language not in LANGUAGES:
        return BadRow(line, "base.bad_language", {"id": external_id, "value": language or "—"})
    attributes: dict[str, str] = {}
    for k, column in extra:
        value = values[k].strip()
        if len(value) > MAX_ATTRIBUTE:
            return BadRow(
                line,
                "base.bad_attribute",
                {"id": external_id, "column": column, "max": MAX_ATTRIBUTE},
            )
        if value:
            attributes[column] = value
    return StagedRow(
        line, external_id, name, segment, language, _ENCODE(attributes) if attributes else "{}"
    )
