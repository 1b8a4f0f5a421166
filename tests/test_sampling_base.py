"""The draw against the imported customer base, on a real migrated database: segment shares
come from the base (not from who enrolled), and the sample can be stratified by one of the
base's attributes within each segment."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.checkins.allocation import ResponseRates
from bot.checkins.sampling import Sample, base_sizes, draw_sample
from bot.common.sample_size import parse_sample_size
from bot.customer_base.importing import run_import
from storage import customer_base, eligibility
from storage.customer_base import SegmentCoverage
from storage.db import Database, fetch_all
from storage.eligibility import Eligibility

NOW = 10**9
DAY = 86400
COOLDOWN = 30 * DAY


async def import_rows(
    db: Database, tmp_path: Path, rows: list[str], *, gone: bool = False
) -> None:
    """Imports a base file of `rows` (after a header with a `plan` column)."""
    path = tmp_path / "base.csv"
    path.write_text("external_id,name,segment,language,plan\n" + "\n".join(rows) + "\n")
    report = await run_import(
        db, path, skip_bad=False, mark_gone=gone, actor_id=None, now=0, source="base.csv"
    )
    assert report.applied


def records(prefix: str, segment: str, count: int, plan: str = "") -> list[str]:
    return [f"{prefix}-{k},Customer {k},{segment},en,{plan}" for k in range(1, count + 1)]


async def enrol(
    db: Database,
    segment: str,
    user_ids: range,
    *,
    joined_to: str | None = None,
    first: int = 1,
    last_asked_at: int | None = None,
) -> None:
    """Enrolled, active customers of `segment`; joined to the records `<joined_to>-<first>`,
    and on in order, when `joined_to` is given."""

    def enrol_customers(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO segments (name, created_at) VALUES (?, 0) ON CONFLICT DO NOTHING",
            (segment,),
        )
        rows = fetch_all(conn, "SELECT id FROM segments WHERE name = ?", (segment,))
        segment_id = int(next(iter(rows))[0])
        for k, user_id in enumerate(user_ids, start=first):
            conn.execute(
                "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id,"
                " status, consented_at, enrolled_at, updated_at, last_asked_at)"
                " VALUES (?, ?, 'C', 'en', ?, 'active', 0, 0, 0, ?)",
                (user_id, user_id, segment_id, last_asked_at),
            )
            if joined_to is not None:
                record = customer_base.find_by_external_id(conn, f"{joined_to}-{k}")
                assert record is not None
                customer_base.join(conn, record.id, user_id, 0)

    await db.write(enrol_customers)


async def segment_ids(db: Database) -> dict[str, int]:
    rows = await db.read(lambda conn: fetch_all(conn, "SELECT name, id FROM segments"))
    return {str(r[0]): int(r[1]) for r in rows}


async def drawn(db: Database, size: str = "20", *, stratify_by: str | None = None) -> Sample:
    return await db.read(
        lambda conn: draw_sample(
            conn,
            size=parse_sample_size(size),
            now=NOW,
            cooldown_seconds=COOLDOWN,
            seed=7,
            rates=ResponseRates(),
            stratify_by=stratify_by,
        )
    )


def invited(sample: Sample, ids: dict[str, int]) -> dict[str, int]:
    by_id = {s.segment_id: s.invited for s in sample.strata}
    return {name: by_id[i] for name, i in ids.items() if i in by_id}


# --- segment shares from the base ------------------------------------------------------------


async def enrol_few_retail_many_wholesale(db: Database, *, joined: bool = True) -> None:
    # 30 retail customers enrolled without a record; 60 wholesale ones joined to theirs.
    await enrol(db, "retail", range(1, 31))
    await enrol(db, "wholesale", range(101, 161), joined_to="W" if joined else None)


async def test_without_a_base_the_split_follows_the_enrolled(db: Database) -> None:
    await enrol_few_retail_many_wholesale(db, joined=False)
    sample = await drawn(db)
    # 30 : 60 enrolled, equal rates: 20 invitations split 7 : 13.
    assert invited(sample, await segment_ids(db)) == {"retail": 7, "wholesale": 13}


async def test_a_segment_with_many_records_but_few_enrolled_gets_its_share_of_the_base(
    db: Database, tmp_path: Path
) -> None:
    await import_rows(db, tmp_path, records("R", "retail", 900) + records("W", "wholesale", 100))
    await enrol_few_retail_many_wholesale(db)
    sample = await drawn(db)
    ids = await segment_ids(db)
    by_segment = {s.segment_id: s for s in sample.strata}
    # The base is 930 retail (900 records and 30 enrolled without one) to 100 wholesale:
    # retail would want 18, but wholesale keeps the 4 it needs to expect 2 answers at 50 %.
    assert invited(sample, ids) == {"retail": 16, "wholesale": 4}
    assert by_segment[ids["retail"]].population == 930
    assert by_segment[ids["wholesale"]].population == 100


async def test_the_draws_base_sizes_are_the_digests(db: Database, tmp_path: Path) -> None:
    rows = records("R", "retail", 50) + records("W", "wholesale", 20)
    await import_rows(db, tmp_path, rows)
    await enrol(db, "retail", range(1, 11), joined_to="R")
    await enrol(db, "retail", range(11, 14))
    await enrol(db, "wholesale", range(101, 104), joined_to="W")
    await enrol(db, "other", range(201, 205))
    # Five of retail's records go, and the accounts joined to them are stopped.
    kept = records("R", "retail", 50)[5:] + records("W", "wholesale", 20)
    await import_rows(db, tmp_path, kept, gone=True)

    def figures(conn: sqlite3.Connection) -> tuple[dict[int, int], list[SegmentCoverage]]:
        pool = eligibility.sampling_pool(conn, Eligibility(NOW, COOLDOWN))
        return base_sizes(conn, pool), customer_base.segment_coverage(conn, 0, NOW)

    sizes, coverage = await db.read(figures)
    assert {c.segment_id: c.base for c in coverage} == sizes
    ids = await segment_ids(db)
    assert sizes == {ids["retail"]: 48, ids["wholesale"]: 20, ids["other"]: 4}


# --- stratified by one attribute within segments ----------------------------------------------


def by_value(sample: Sample) -> dict[str | None, int]:
    (stratum,) = sample.strata
    return dict(stratum.by_value)


async def test_a_segment_is_split_by_the_attributes_shares_in_the_base(
    db: Database, tmp_path: Path
) -> None:
    # Three in four of the base are on basic; as many of each plan enrolled.
    rows = records("B", "retail", 300, "basic") + records("P", "retail", 100, "pro")
    await import_rows(db, tmp_path, rows)
    await enrol(db, "retail", range(1, 41), joined_to="B")
    await enrol(db, "retail", range(101, 141), joined_to="P")
    sample = await drawn(db, stratify_by="plan")
    assert sample.stratified_by == "plan"
    assert by_value(sample) == {"basic": 15, "pro": 5}
    chosen = set(sample.user_ids)
    assert len(chosen & set(range(1, 41))) == 15
    assert len(chosen & set(range(101, 141))) == 5


async def test_rotation_still_asks_the_longest_unasked_first_within_a_stratum(
    db: Database, tmp_path: Path
) -> None:
    rows = records("B", "retail", 300, "basic") + records("P", "retail", 100, "pro")
    await import_rows(db, tmp_path, rows)
    await enrol(db, "retail", range(1, 21), joined_to="B", last_asked_at=NOW - 100 * DAY)
    await enrol(db, "retail", range(21, 41), joined_to="B", first=21, last_asked_at=NOW - 40 * DAY)
    await enrol(db, "retail", range(101, 141), joined_to="P")
    plain = await drawn(db)
    # Unstratified, the never-asked (all on pro) come first and fill the sample.
    assert set(plain.user_ids) <= set(range(101, 141))
    sample = await drawn(db, stratify_by="plan")
    chosen = set(sample.user_ids)
    # Basic's 15 are those asked longest ago; pro's 5 come from its never-asked.
    assert by_value(sample) == {"basic": 15, "pro": 5}
    assert len(chosen & set(range(1, 21))) == 15
    assert not chosen & set(range(21, 41))


async def test_customers_without_the_attribute_or_a_record_form_the_unknown_stratum(
    db: Database, tmp_path: Path
) -> None:
    rows = records("B", "retail", 60, "basic") + records("N", "retail", 20)
    await import_rows(db, tmp_path, rows)
    await enrol(db, "retail", range(1, 31), joined_to="B")
    await enrol(db, "retail", range(31, 41), joined_to="N")
    await enrol(db, "retail", range(41, 61))
    # The base: 60 on basic; 20 records without a plan and 20 enrolled without a record.
    sample = await drawn(db, "10", stratify_by="plan")
    assert by_value(sample) == {"basic": 6, None: 4}
    assert len(set(sample.user_ids) & set(range(1, 31))) == 6


async def test_a_stratum_short_of_due_customers_leaves_its_seats_to_the_others(
    db: Database, tmp_path: Path
) -> None:
    rows = records("B", "retail", 300, "basic") + records("P", "retail", 100, "pro")
    await import_rows(db, tmp_path, rows)
    await enrol(db, "retail", range(1, 11), joined_to="B")  # 10 due on basic
    await enrol(db, "retail", range(101, 141), joined_to="P")
    sample = await drawn(db, stratify_by="plan")
    assert by_value(sample) == {"basic": 10, "pro": 10}


async def test_without_a_base_the_attribute_is_ignored(db: Database) -> None:
    await enrol_few_retail_many_wholesale(db, joined=False)
    sample = await drawn(db, stratify_by="plan")
    assert sample.stratified_by is None
    assert all(s.by_value == () for s in sample.strata)
    assert sample.user_ids == (await drawn(db)).user_ids
