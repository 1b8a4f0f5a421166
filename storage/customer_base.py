"""The customer base: the company's own customer records by external id, their import from a
staged file, and how much of each segment is enrolled (the links: storage.personal_invites)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from storage.db import fetch_all, fetch_one
from storage.invitations import CheckinState, close_open_for_user

# Rows of the file being imported, on the writer's connection only (a TEMP table), so that
# comparing and upserting 100,000 rows is a few set-wise statements, not 100,000 lookups.
_STAGE = "base_import_rows"
_CREATE_STAGE = (
    f"CREATE TEMP TABLE {_STAGE} (line INTEGER PRIMARY KEY, external_id TEXT NOT NULL,"
    " name TEXT NOT NULL, segment TEXT NOT NULL COLLATE NOCASE, language TEXT NOT NULL,"
    " attributes TEXT NOT NULL)"
)
# The record a staged row's external id names, and the segment its name names.
_MISSING = (
    "gone_at IS NULL AND NOT EXISTS"
    f" (SELECT 1 FROM {_STAGE} r WHERE r.external_id = base_customers.external_id)"
)
_DIFFERS = (
    "b.name IS NOT r.name OR b.language IS NOT r.language OR b.attributes IS NOT r.attributes"
    " OR b.gone_at IS NOT NULL OR b.segment_id IS NOT"
    " (SELECT s.id FROM segments s WHERE s.name = r.segment)"
)


@dataclass(frozen=True)
class BaseCustomer:
    id: int
    external_id: str
    name: str
    segment_id: int
    language: str
    attributes: str  # a JSON object
    user_id: int | None
    joined_at: int | None
    gone_at: int | None


_COLUMNS = "id, external_id, name, segment_id, language, attributes, user_id, joined_at, gone_at"


class StagedRow(NamedTuple):
    """A valid row of the file: its line number and its values as they will be stored (a
    tuple: an import makes one per row, and executemany takes it as it is)."""

    line: int
    external_id: str
    name: str
    segment: str
    language: str
    attributes: str


@dataclass(frozen=True)
class Duplicate:
    line: int
    external_id: str
    first_line: int


@dataclass(frozen=True)
class Comparison:
    """What importing the staged rows would do to the base."""

    new: int
    changed: int
    unchanged: int
    missing: int  # in the base, not in the file: to be marked gone after a confirmation
    new_segments: tuple[str, ...]


# --- the import, on the writer's connection inside one transaction ----------------------


def begin_staging(conn: sqlite3.Connection) -> None:
    """An empty staging table for the rows of one file."""
    conn.execute(f"DROP TABLE IF EXISTS temp.{_STAGE}")
    conn.execute(_CREATE_STAGE)
    conn.execute(f"CREATE INDEX temp.{_STAGE}_id ON {_STAGE}(external_id)")


def stage(conn: sqlite3.Connection, rows: Sequence[StagedRow]) -> None:
    """Adds a chunk of valid rows (one thread hop for the chunk)."""
    conn.executemany(
        f"INSERT INTO {_STAGE} (line, external_id, name, segment, language, attributes)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )


def take_out_duplicates(conn: sqlite3.Connection, limit: int) -> tuple[int, list[Duplicate]]:
    """Removes every staged row whose external id an earlier line already has; returns how
    many, and the first `limit` of them."""
    later = (
        f"FROM {_STAGE} r JOIN (SELECT external_id, min(line) AS first FROM {_STAGE}"
        " GROUP BY external_id HAVING count(*) > 1) f ON f.external_id = r.external_id"
        " WHERE r.line > f.first"
    )
    rows = fetch_all(
        conn, f"SELECT r.line, r.external_id, f.first {later} ORDER BY r.line LIMIT ?", (limit,)
    )
    cursor = conn.execute(f"DELETE FROM {_STAGE} WHERE line IN (SELECT r.line {later})")
    return cursor.rowcount, [Duplicate(int(r[0]), str(r[1]), int(r[2])) for r in rows]


def compare(conn: sqlite3.Connection) -> Comparison:
    """Counts what an import of the staged rows would change, changing nothing."""
    row = fetch_one(
        conn,
        "SELECT count(b.id), count(*) - count(b.id),"
        f" count(CASE WHEN b.id IS NOT NULL AND ({_DIFFERS}) THEN 1 END)"
        f" FROM {_STAGE} r LEFT JOIN base_customers b ON b.external_id = r.external_id",
    )
    assert row is not None
    known, new, changed = int(row[0]), int(row[1]), int(row[2])
    missing = fetch_one(conn, f"SELECT count(*) FROM base_customers WHERE {_MISSING}")
    segments = fetch_all(
        conn,
        f"SELECT min(segment) FROM {_STAGE} r"
        " WHERE NOT EXISTS (SELECT 1 FROM segments s WHERE s.name = r.segment)"
        " GROUP BY segment ORDER BY 1",
    )
    return Comparison(
        new=new,
        changed=changed,
        unchanged=known - changed,
        missing=int(missing[0]) if missing else 0,
        new_segments=tuple(str(r[0]) for r in segments),
    )


def create_segments(conn: sqlite3.Connection, names: Sequence[str], now: int) -> None:
    """Creates the segments the staged rows name and the database lacks (`compare` names
    them)."""
    conn.executemany(
        "INSERT INTO segments (name, created_at) VALUES (?, ?)", [(n, now) for n in names]
    )


def upsert_staged(conn: sqlite3.Connection, now: int) -> None:
    """Inserts the new records and updates the changed ones (a record that was gone comes
    back, and so does the account its going stopped); the unchanged are not touched. A joined
    account follows its record into a new segment. The segments must exist."""
    segment = "(SELECT s.id FROM segments s WHERE s.name = r.segment)"
    conn.execute(
        f"UPDATE customers SET segment_id = {segment}, updated_at = :now"
        f" FROM base_customers b JOIN {_STAGE} r ON r.external_id = b.external_id"
        f" WHERE customers.user_id = b.user_id AND customers.segment_id IS NOT {segment}",
        {"now": now},
    )
    conn.execute(
        "UPDATE customers SET status = 'active', stopped_at = NULL, updated_at = :now"
        f" FROM base_customers b JOIN {_STAGE} r ON r.external_id = b.external_id"
        " WHERE customers.user_id = b.user_id AND b.gone_at IS NOT NULL"
        " AND customers.status = 'stopped' AND customers.stopped_at = b.stopped_account_at",
        {"now": now},
    )
    # "WHERE true": SQLite's parser needs it between a SELECT and ON CONFLICT.
    conn.execute(
        "INSERT INTO base_customers (external_id, name, segment_id, language, attributes,"
        " imported_at, updated_at)"
        f" SELECT r.external_id, r.name, {segment}, r.language, r.attributes, :now, :now"
        f" FROM {_STAGE} r WHERE true"
        " ON CONFLICT (external_id) DO UPDATE SET name = excluded.name,"
        " segment_id = excluded.segment_id, language = excluded.language,"
        " attributes = excluded.attributes, gone_at = NULL, stopped_account_at = NULL,"
        " updated_at = excluded.updated_at"
        " WHERE base_customers.name IS NOT excluded.name"
        " OR base_customers.segment_id IS NOT excluded.segment_id"
        " OR base_customers.language IS NOT excluded.language"
        " OR base_customers.attributes IS NOT excluded.attributes"
        " OR base_customers.gone_at IS NOT NULL",
        {"now": now},
    )


def mark_missing_gone(conn: sqlite3.Connection, now: int) -> int:
    """Marks every record not in the staged file gone from the base; their joined accounts
    are stopped (no longer sampled or written to), their answers stay. Returns how many."""
    accounts = [
        int(r[0])
        for r in fetch_all(
            conn,
            "SELECT c.user_id FROM base_customers JOIN customers c"
            f" ON c.user_id = base_customers.user_id WHERE {_MISSING}"
            " AND c.status IN ('active', 'paused')",
        )
    ]
    for user_id in accounts:
        close_open_for_user(conn, user_id, CheckinState.STOPPED, now)
    conn.executemany(
        "UPDATE customers SET status = 'stopped', paused_until = NULL, stopped_at = ?,"
        " updated_at = ? WHERE user_id = ?",
        [(now, now, user_id) for user_id in accounts],
    )
    conn.executemany(
        "UPDATE base_customers SET stopped_account_at = ? WHERE user_id = ?",
        [(now, user_id) for user_id in accounts],
    )
    cursor = conn.execute(
        f"UPDATE base_customers SET gone_at = ?, updated_at = ? WHERE {_MISSING}", (now, now)
    )
    return cursor.rowcount


def end_staging(conn: sqlite3.Connection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS temp.{_STAGE}")


# --- records ------------------------------------------------------------------------------


def _record(row: sqlite3.Row) -> BaseCustomer:
    return BaseCustomer(**dict(row))


def find_by_external_id(conn: sqlite3.Connection, external_id: str) -> BaseCustomer | None:
    """The record with this external id, or None."""
    row = fetch_one(
        conn, f"SELECT {_COLUMNS} FROM base_customers WHERE external_id = ?", (external_id,)
    )
    return None if row is None else _record(row)


def find_for_user(conn: sqlite3.Connection, user_id: int) -> BaseCustomer | None:
    """The record this Telegram account is joined to, or None."""
    row = fetch_one(conn, f"SELECT {_COLUMNS} FROM base_customers WHERE user_id = ?", (user_id,))
    return None if row is None else _record(row)


def page_in_segment(
    conn: sqlite3.Connection, segment_id: int | None, after_id: int, limit: int
) -> list[BaseCustomer]:
    """Up to `limit` records (not gone) after `after_id`, of one segment or all, by id."""
    where = "gone_at IS NULL AND id > ?"
    params: tuple[int, ...] = (after_id,)
    if segment_id is not None:
        where += " AND segment_id = ?"
        params += (segment_id,)
    return [
        _record(r)
        for r in fetch_all(
            conn,
            f"SELECT {_COLUMNS} FROM base_customers WHERE {where} ORDER BY id LIMIT ?",
            (*params, limit),
        )
    ]


def join(conn: sqlite3.Connection, base_id: int, user_id: int, now: int) -> None:
    """Joins a Telegram account to a record (and to no other record)."""
    conn.execute(
        "UPDATE base_customers SET user_id = NULL, joined_at = NULL WHERE user_id = ? AND id != ?",
        (user_id, base_id),
    )
    conn.execute(
        "UPDATE base_customers SET user_id = ?, joined_at = ? WHERE id = ?",
        (user_id, now, base_id),
    )


def unlink_user(conn: sqlite3.Connection, user_id: int) -> None:
    """Erases every link between a Telegram account and the base (/forget): the records
    stay, joined to nobody; the links it used stay used, by nobody known."""
    conn.execute(
        "UPDATE base_customers SET user_id = NULL, joined_at = NULL WHERE user_id = ?",
        (user_id,),
    )
    conn.execute("UPDATE personal_invites SET used_by = NULL WHERE used_by = ?", (user_id,))


# --- what the digest and exports read ---------------------------------------------------------


@dataclass(frozen=True)
class SegmentCoverage:
    """A segment against the base: its customers (records not gone, plus enrolled accounts
    without a record), how many of them are enrolled now, and how many answered a check-in
    in the window."""

    segment_id: int
    base: int
    enrolled: int
    answered: int


def has_base(conn: sqlite3.Connection) -> bool:
    """Whether a customer base has been imported (any record not gone)."""
    return (
        fetch_one(conn, "SELECT 1 FROM base_customers WHERE gone_at IS NULL LIMIT 1") is not None
    )


def segment_coverage(conn: sqlite3.Connection, since: int, until: int) -> list[SegmentCoverage]:
    """Every segment's size in the base and how much of it is enrolled (an active or paused
    account) and answered a check-in sent in [since, until), by segment id; empty when no
    base is imported. An enrolled account without a record counts in its segment's base."""
    if not has_base(conn):
        return []
    rows = fetch_all(
        conn,
        "WITH enrolled AS (SELECT user_id, segment_id FROM customers"
        "  WHERE status IN ('active', 'paused') AND user_id > 0),"
        " answered AS (SELECT DISTINCT user_id FROM invitations"
        "  WHERE created_at >= :since AND created_at < :until AND answered_at IS NOT NULL"
        "  AND answered_at < :until),"
        " members AS ("
        "  SELECT b.segment_id, e.user_id FROM base_customers b"
        "   LEFT JOIN enrolled e ON e.user_id = b.user_id WHERE b.gone_at IS NULL"
        "  UNION ALL SELECT e.segment_id, e.user_id FROM enrolled e"
        "   WHERE NOT EXISTS (SELECT 1 FROM base_customers b WHERE b.user_id = e.user_id))"
        " SELECT m.segment_id, count(*), count(m.user_id), count(a.user_id) FROM members m"
        " LEFT JOIN answered a ON a.user_id = m.user_id GROUP BY m.segment_id ORDER BY 1",
        {"since": since, "until": until},
    )
    return [SegmentCoverage(int(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]
