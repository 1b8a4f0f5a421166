"""The weighted pulse against the customer base, on a real migrated database: when few of a
big segment's customers enrolled, the base (not the enrolled) gives each segment its weight,
and the digest shows and warns about how thinly a segment is enrolled."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.catalog import Catalog
from bot.clock import epoch
from bot.customer_base.importing import run_import
from bot.digest import assembly
from bot.digest.period import Period
from bot.digest.render import render
from bot.privacy import controls as privacy
from storage import customer_base
from storage.db import Database, fetch_all

ZONE = ZoneInfo("Europe/Amsterdam")
END = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
PERIOD = Period(END - timedelta(days=7), END)
ASKED = epoch(END) - 3 * 86400

# The truth: 900 retail customers who would score 4.5 on average, 100 wholesale who would
# score 1.5, so the whole base averages 0.9 * 4.5 + 0.1 * 1.5 = 4.2. Ten of each enrolled:
# weighted by the enrolled alone, the two count alike and the pulse reads 3.0.
RETAIL, WHOLESALE = 900, 100
TRUTH = 0.9 * 4.5 + 0.1 * 1.5


def base_file(tmp_path: Path) -> Path:
    lines = ["external_id,name,segment,language"]
    lines += [f"R-{k},Shop {k},retail,nl" for k in range(1, RETAIL + 1)]
    lines += [f"W-{k},Trader {k},wholesale,en" for k in range(1, WHOLESALE + 1)]
    path = tmp_path / "base.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def enrol_and_answer(db: Database, *, join: bool) -> None:
    """Ten enrolled customers per segment, each answering this week's check-in: retail
    5, 4, 5, 4, ... and wholesale 1, 2, 1, 2, ...; joined to base records when `join`."""

    def enrol_answered(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO segments (name, created_at) VALUES ('retail', 0), ('wholesale', 0)"
            " ON CONFLICT DO NOTHING"
        )
        ids = {str(r[0]): int(r[1]) for r in fetch_all(conn, "SELECT name, id FROM segments")}
        conn.execute(
            "INSERT INTO rounds (id, schedule, scheduled_for, started_at, sample_size, target,"
            " seed) VALUES (1, 'checkin', ?, ?, '20', 20, 1)",
            (ASKED, ASKED),
        )
        for k in range(20):
            user_id = 100 + k
            retail = k < 10
            segment = ids["retail" if retail else "wholesale"]
            score = (5 if k % 2 == 0 else 4) if retail else (1 if k % 2 == 0 else 2)
            conn.execute(
                "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id,"
                " status, consented_at, enrolled_at, updated_at)"
                " VALUES (?, ?, 'C', 'en', ?, 'active', 0, 0, 0)",
                (user_id, user_id, segment),
            )
            conn.execute(
                "INSERT INTO invitations (round_id, user_id, chat_id, segment_id, language,"
                " state, delivery, score, created_at, send_after, expires_at, answered_at)"
                " VALUES (1, ?, ?, ?, 'en', 'done', 'sent', ?, ?, 0, 0, ?)",
                (user_id, user_id, segment, score, ASKED, ASKED + 60),
            )
            if join:
                external_id = f"R-{k + 1}" if retail else f"W-{k - 9}"
                record = customer_base.find_by_external_id(conn, external_id)
                assert record is not None
                customer_base.join(conn, record.id, user_id, ASKED)

    await db.write(enrol_answered)


async def import_base(db: Database, path: Path) -> None:
    report = await run_import(
        db, path, skip_bad=False, mark_gone=False, actor_id=None, now=0, source="base.csv"
    )
    assert report.applied
    assert report.new == RETAIL + WHOLESALE


async def test_without_a_base_the_pulse_is_weighted_by_the_enrolled(db: Database) -> None:
    await enrol_and_answer(db, join=False)
    found = await assembly.collect(db, PERIOD, ZONE)
    assert found.weighted is not None
    assert found.weighted.mean == pytest.approx(3.0)
    assert found.base == ()


async def test_with_a_base_the_pulse_is_weighted_by_the_base_and_finds_the_truth(
    db: Database, tmp_path: Path
) -> None:
    await import_base(db, base_file(tmp_path))
    await enrol_and_answer(db, join=True)

    found = await assembly.collect(db, PERIOD, ZONE)

    assert found.weighted is not None
    assert found.weighted.mean == pytest.approx(TRUTH)
    assert found.weighted.low < TRUTH < found.weighted.high
    shown = {b.name: (b.base, b.enrolled, b.answered, b.thin) for b in found.base}
    assert shown == {"retail": (900, 10, 10, True), "wholesale": (100, 10, 10, False)}
    text = "\n".join(render(Catalog.load(), "en", found, ZONE))
    assert "• retail: 10 of 900 enrolled (1 %), 10 answered (1 %)" in text
    assert "⚠️ retail: only 1 % of its customers are enrolled" in text


async def test_enrolled_customers_without_a_record_count_in_their_segments_base(
    db: Database, tmp_path: Path
) -> None:
    await import_base(db, base_file(tmp_path))
    await enrol_and_answer(db, join=False)

    found = await assembly.collect(db, PERIOD, ZONE)

    shown = {b.name: (b.base, b.enrolled) for b in found.base}
    assert shown == {"retail": (910, 10), "wholesale": (110, 10)}
    assert found.weighted is not None
    expected = (910 * 4.5 + 110 * 1.5) / 1020
    assert found.weighted.mean == pytest.approx(expected)


async def test_gone_customers_leave_the_frame(db: Database, tmp_path: Path) -> None:
    await import_base(db, base_file(tmp_path))
    only_wholesale = tmp_path / "wholesale.csv"
    only_wholesale.write_text(
        "external_id,name,segment,language\n"
        + "".join(f"W-{k},Trader {k},wholesale,en\n" for k in range(1, WHOLESALE + 1)),
        encoding="utf-8",
    )
    report = await run_import(
        db, only_wholesale, skip_bad=False, mark_gone=True, actor_id=None, now=1, source="w"
    )
    assert (report.unchanged, report.marked_gone) == (WHOLESALE, RETAIL)
    coverage = await db.read(lambda conn: customer_base.segment_coverage(conn, 0, epoch(END)))
    assert [(c.base, c.enrolled) for c in coverage] == [(WHOLESALE, 0)]


async def test_follow_ups_show_the_external_id_and_forget_takes_it_out_of_stored_digests(
    db: Database, tmp_path: Path
) -> None:
    await import_base(db, base_file(tmp_path))
    await enrol_and_answer(db, join=True)
    found = await assembly.collect(db, PERIOD, ZONE)
    text = "\n".join(render(Catalog.load(), "en", found, ZONE))
    # Wholesale's first customer (user 110, record W-1) scored 1: a follow-up.
    assert "• <b>C</b> · id W-1 · wholesale" in text
    await db.write(
        lambda conn: conn.execute(
            "INSERT INTO digests (period_start, period_end, language, figures, text, created_at)"
            " VALUES (?, ?, 'en', '{}', ?, 0)",
            (epoch(PERIOD.start), epoch(PERIOD.end), text),
        )
    )

    await privacy.forget(db, 110, now=epoch(END))

    rows = await db.read(lambda conn: fetch_all(conn, "SELECT text FROM digests"))
    stored = str(next(iter(rows))[0])
    assert "W-1 " not in stored
    assert "W-2 " in stored  # the others stay
