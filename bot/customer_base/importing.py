"""Importing the customer base: a file checked in full first, then upserted by external id in
one audited transaction; records missing from the file are marked gone only when asked."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.customer_base.rows import BadRow, read
from storage import audit, base_imports, customer_base
from storage.customer_base import StagedRow
from storage.db import REPEATED, Database

# Rows per executemany, and all the memory an import holds.
CHUNK = 5000
# Bad rows kept to show (every one is counted).
SHOWN = 50


class ImportAlreadyDecided(Exception):
    """The previewed import was already applied or cancelled (a second press)."""


@dataclass(frozen=True)
class ImportReport:
    """What an import found in the file and did (or would do) to the base."""

    valid: int
    new: int
    changed: int
    unchanged: int
    missing: int  # in the base, not in the file
    bad: int
    bad_rows: tuple[BadRow, ...]  # the first SHOWN, by line
    new_segments: tuple[str, ...]
    applied: bool
    marked_gone: int

    @property
    def blocked(self) -> bool:
        """Whether bad rows kept the import from writing anything."""
        return self.bad > 0 and not self.applied

    def summary(self) -> str:
        """One line for the audit log."""
        return (
            f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged,"
            f" {self.marked_gone} marked gone, {self.bad} bad left out"
        )


def _chunks(path: Path) -> Iterator[tuple[list[StagedRow], list[BadRow]]]:
    """The file's rows, CHUNK at a time: the valid ones, and the bad ones among them."""
    good: list[StagedRow] = []
    bad: list[BadRow] = []
    for row in read(path):
        if isinstance(row, BadRow):
            bad.append(row)
        else:
            good.append(row)
        if len(good) + len(bad) >= CHUNK:
            yield good, bad
            good, bad = [], []
    yield good, bad


def _stage(conn: sqlite3.Connection, path: Path) -> tuple[int, int, list[BadRow]]:
    """Stages the file's valid rows; returns how many, how many are bad, and the first bad.

    Runs inside a long write (`long=True`), on a worker thread: reading and checking rows
    is most of an import's time, and the bot's event loop goes on meanwhile.
    """
    customer_base.begin_staging(conn)
    valid = bad = 0
    shown: list[BadRow] = []
    for good, wrong in _chunks(path):
        valid += len(good)
        bad += len(wrong)
        shown += wrong[: SHOWN - len(shown)]
        if good:
            customer_base.stage(conn, good)
    doubles, first = customer_base.take_out_duplicates(conn, SHOWN)
    shown += [
        BadRow(d.line, "base.bad_duplicate", {"id": d.external_id, "first": d.first_line})
        for d in first
    ]
    shown.sort(key=lambda r: r.line)
    return valid - doubles, bad + doubles, shown[:SHOWN]


async def preview(db: Database, path: Path) -> ImportReport:
    """What importing the file would do, changing nothing; raises FileProblem."""

    def stage_and_compare(conn: sqlite3.Connection) -> ImportReport:
        try:
            valid, bad, shown = _stage(conn, path)
            found = customer_base.compare(conn)
        finally:
            customer_base.end_staging(conn)
        return _report(valid, found, bad, shown, applied=False, marked_gone=0)

    return await db.write(stage_and_compare, long=True)


def _report(
    valid: int,
    found: customer_base.Comparison,
    bad: int,
    shown: Sequence[BadRow],
    *,
    applied: bool,
    marked_gone: int,
) -> ImportReport:
    return ImportReport(
        valid,
        found.new,
        found.changed,
        found.unchanged,
        found.missing,
        bad,
        tuple(shown),
        found.new_segments,
        applied=applied,
        marked_gone=marked_gone,
    )


async def run_import(
    db: Database,
    path: Path,
    *,
    skip_bad: bool,
    mark_gone: bool,
    actor_id: int | None,
    now: int,
    source: str,
    pending_id: int | None = None,
) -> ImportReport:
    """Checks every row, then (when none is bad, or `skip_bad`) upserts the valid ones, all in
    one transaction, audited; records missing from the file are marked gone if `mark_gone`.
    Raises FileProblem, or ImportAlreadyDecided for a `pending_id` no longer pending."""

    def import_rows(conn: sqlite3.Connection) -> ImportReport:
        try:
            valid, bad, shown = _stage(conn, path)
            found = customer_base.compare(conn)
            applied = not bad or skip_bad
            gone = 0
            if applied:
                if pending_id is not None and not base_imports.decide_import(
                    conn, pending_id, "applied", now
                ):
                    raise ImportAlreadyDecided(pending_id)
                customer_base.create_segments(conn, found.new_segments, now)
                for name in found.new_segments:
                    audit.record(
                        conn,
                        at=now,
                        actor_id=actor_id,
                        action="segment.create",
                        subject=name,
                        new_value=name,
                    )
                customer_base.upsert_staged(conn, now)
                if mark_gone:
                    gone = customer_base.mark_missing_gone(conn, now)
            report = _report(valid, found, bad, shown, applied=applied, marked_gone=gone)
            if applied:
                audit.record(
                    conn,
                    at=now,
                    actor_id=actor_id,
                    action="base.import",
                    subject=source,
                    new_value=report.summary(),
                )
        finally:
            customer_base.end_staging(conn)
        return report

    if pending_id is None:
        return await db.write(import_rows, long=True)
    # A previewed import is applied at most once: when an earlier handling of the same
    # update already applied it, this one is a second press.
    done = await db.write_once(import_rows, long=True)
    if done is REPEATED:
        raise ImportAlreadyDecided(pending_id)
    return done
