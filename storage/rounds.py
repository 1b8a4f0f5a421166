"""Check-in rounds and the composition of their samples."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import fetch_all, fetch_one


@dataclass(frozen=True)
class Round:
    id: int
    schedule: str
    scheduled_for: int
    started_at: int
    started_by: int | None
    segment_id: int | None
    sample_size: str
    target: int
    seed: int
    skipped_paused: int
    skipped_open: int
    skipped_cooldown: int


@dataclass(frozen=True)
class StratumRow:
    segment_id: int
    population: int
    eligible: int
    invited: int


_COLUMNS = (
    "id, schedule, scheduled_for, started_at, started_by, segment_id, sample_size, target, seed,"
    " skipped_paused, skipped_open, skipped_cooldown"
)


def find(conn: sqlite3.Connection, schedule: str, scheduled_for: int) -> Round | None:
    """The round of a schedule at a scheduled time, or None."""
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM rounds WHERE schedule = ? AND scheduled_for = ?",
        (schedule, scheduled_for),
    )
    return None if row is None else Round(**dict(row))


def create(
    conn: sqlite3.Connection,
    *,
    schedule: str,
    scheduled_for: int,
    started_at: int,
    started_by: int | None,
    segment_id: int | None,
    sample_size: str,
    target: int,
    seed: int,
    skipped: tuple[int, int, int],
    strata: list[StratumRow],
) -> Round | None:
    """Records a round and its strata; None when that (schedule, time) already has one."""
    cursor = conn.execute(
        "INSERT INTO rounds (schedule, scheduled_for, started_at, started_by, segment_id,"
        " sample_size, target, seed, skipped_paused, skipped_open, skipped_cooldown)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (schedule, scheduled_for) DO NOTHING",
        (
            schedule,
            scheduled_for,
            started_at,
            started_by,
            segment_id,
            sample_size,
            target,
            seed,
            *skipped,
        ),
    )
    if cursor.rowcount == 0:
        return None
    round_id = cursor.lastrowid
    conn.executemany(
        "INSERT INTO round_strata (round_id, segment_id, population, eligible, invited)"
        " VALUES (?, ?, ?, ?, ?)",
        [(round_id, s.segment_id, s.population, s.eligible, s.invited) for s in strata],
    )
    found = find(conn, schedule, scheduled_for)
    assert found is not None
    return found


def strata(conn: sqlite3.Connection, round_id: int) -> list[StratumRow]:
    """A round's sample composition, by segment id."""
    return [
        StratumRow(**dict(row))
        for row in fetch_all(
            conn,
            "SELECT segment_id, population, eligible, invited FROM round_strata WHERE round_id = ?"
            " ORDER BY segment_id",
            (round_id,),
        )
    ]
