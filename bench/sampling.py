"""Drawing a round's sample from 1,000,000 customers in 20 segments, as a round does it.

`python -m bench.sampling [--customers N] [--repeats N]`

A round (`bot.checkins.rounds.start_round`) counts every segment's reachable customers by the
eligibility rules in SQL (`storage.eligibility.sampling_pool`: one pass over an index, and
the few with an invitation open read on their own), splits the sample over the segments,
reads only the customers it picks (`bot.checkins.sampling.draw_sample`) and records the round and
its invitations, all in one transaction. So the figure that counts is `start_round` on a
real migrated SQLite file holding the customers; the count on its own and `draw_sample`
(count and pick, no recording) are timed next to it, to show where the time goes.

The customers are a mix: mostly active, some paused (some of those pauses over), some
stopped or blocked; a third never asked, a fifth still in the 30-day cool-down, the rest
asked longer ago, with many on the same day (ties for the seeded draw to break); and a
previous round of 10,000 still open. They are written with one `executemany`, as fast
set-up; enrolling a million one by one would take longer than everything measured. The
rounds measured stay open too, so each later one finds more invitations open.

Then a customer base of as many records is added (most joined to their accounts, most with
a `plan`), and `start_round` is timed again: with the shares read from the base, and with
the sample stratified by plan within each segment (`/sample by plan`).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

from bench.common import write_results
from bot.checkins.rounds import start_round
from bot.checkins.sampling import draw_sample
from bot.common.sample_size import parse_sample_size
from storage import eligibility, invitations, runtime_settings, segments
from storage.db import Database, fetch_all
from storage.eligibility import Eligibility

SEGMENT_COUNT = 20
NOW = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)
DAY = 86_400
ZONE = "Europe/Amsterdam"
PREVIOUS_ROUND = 10_000
SIZES = ("20", "10000")
SEED = 20260303


async def build(database: Path, number: int) -> None:
    """A migrated database with `number` customers over the segments and a round still open."""
    db = await Database.open(database)

    def create_segments(conn: sqlite3.Connection) -> list[segments.Segment]:
        return [segments.create(conn, f"segment {i + 1:02}", now=0) for i in range(SEGMENT_COUNT)]

    made = await db.write(create_segments)
    await db.close()
    now = int(NOW.timestamp())
    rng = random.Random(4)
    rows = []
    for i in range(number):
        user_id = 1_000_000 + i
        # Uneven segments: the biggest about four times the smallest.
        segment = made[min(SEGMENT_COUNT - 1, int(rng.triangular(0, SEGMENT_COUNT, 0)))].id
        kind = rng.random()
        status, paused_until = "active", None
        if kind < 0.03:
            status = "stopped"
        elif kind < 0.06:
            status = "blocked"
        elif kind < 0.10:
            status = "paused"
            paused_until = now + rng.choice((-1, 1)) * rng.randrange(DAY, 60 * DAY)
        asked = rng.random()
        last_asked = None
        if asked >= 0.33:
            # Whole days, as rounds go out on schedule: many customers share a moment.
            days = rng.randrange(1, 30) if asked < 0.53 else rng.randrange(30, 400)
            last_asked = now - days * DAY
        language = "nl" if i % 2 else "en"
        profile = (user_id, user_id, f"C{i}", language, segment)
        rows.append((*profile, status, paused_until, 0, 0, last_asked, 0))
    with sqlite3.connect(database) as conn:
        conn.executemany(
            "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id, status,"
            " paused_until, consented_at, enrolled_at, last_asked_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    db = await Database.open(database)

    def configure(conn: sqlite3.Connection) -> None:
        runtime_settings.change(conn, "sample_size", str(PREVIOUS_ROUND), actor_id=None, now=0)
        runtime_settings.change(conn, "quiet_start", None, actor_id=None, now=0)
        runtime_settings.change(conn, "quiet_end", None, actor_id=None, now=0)

    await db.write(configure)
    yesterday = NOW - dt.timedelta(days=1)
    await start_round(
        db, schedule="previous", scheduled_for=now - DAY, now=yesterday, zone_name=ZONE
    )
    await db.close()


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def measure(number: int, repeats: int) -> list[str]:
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "pulse.db"
        started = time.perf_counter()
        await build(database, number)
        print(f"built {number} customers in {time.perf_counter() - started:.1f} s", flush=True)
        db = await Database.open(database)
        try:
            return await measure_on(db, number, repeats)
        finally:
            await db.close()


async def measure_on(db: Database, number: int, repeats: int) -> list[str]:
    now = int(NOW.timestamp())
    rules = Eligibility(now, 30 * DAY, 14 * DAY)
    pool = await db.read(partial(eligibility.sampling_pool, rules=rules))
    busy = len(await db.read(invitations.open_user_ids))
    lines = [
        f"{number} customers in {SEGMENT_COUNT} segments,"
        f" {sum(s.population for s in pool.segments)} of them reachable, {busy} with an"
        " invitation of a previous round still open; a real migrated SQLite file. Each figure"
        f" is the median of {repeats} runs (slowest in brackets).",
        "",
        "| what | sample | seconds | target |",
        "|---|---|---|---|",
    ]

    def row(what: str, size: str, seconds: list[float], target: str = "") -> None:
        line = (
            f"| {what} | {size} | {statistics.median(seconds):.3f} ({max(seconds):.3f}) |"
            f" {target} |"
        )
        print(line, flush=True)
        lines.append(line)

    async def count() -> None:
        await db.read(partial(eligibility.sampling_pool, rules=rules))

    row(
        "counting the segments by the rules (`sampling_pool`, SQL)",
        "",
        [await timed(count) for _ in range(repeats)],
    )
    for size in SIZES:

        async def draw(size: str = size) -> None:
            await db.read(
                partial(
                    draw_sample,
                    size=parse_sample_size(size),
                    now=now,
                    cooldown_seconds=30 * DAY,
                    seed=SEED,
                    notnow_seconds=14 * DAY,
                )
            )

        row("`draw_sample`: count and pick", size, [await timed(draw) for _ in range(repeats)])
    for size in SIZES:
        await db.write(
            partial(runtime_settings.change, name="sample_size", value=size, actor_id=None, now=0)
        )
        seconds = []
        for i in range(repeats):

            async def round_start(schedule: str = f"bench {size}:{i}") -> None:
                # A new schedule each time, or start_round would find the round already there.
                await start_round(
                    db, schedule=schedule, scheduled_for=now, now=NOW, zone_name=ZONE
                )

            seconds.append(await timed(round_start))
        row("a round: `start_round` (count, pick, record)", size, seconds, "≤ 1 s")
    await add_base(db, number)
    lines += [
        "",
        f"Then with a customer base of {number} records imported (one per customer, 9 in 10"
        " joined to its account, a `plan` of basic, plus or pro on 95 in 100), the shares come"
        " from the base (`base_sizes`), and with `/sample by plan` each segment is split by plan:",
        "",
        "| what | sample | seconds | target |",
        "|---|---|---|---|",
    ]
    for sample_by in (None, "plan"):

        def configure_base_round(conn: sqlite3.Connection, sample_by: str | None) -> None:
            runtime_settings.change(conn, "sample_size", "20", actor_id=None, now=0)
            runtime_settings.change(conn, "sample_by", sample_by, actor_id=None, now=0)

        await db.write(partial(configure_base_round, sample_by=sample_by))
        seconds = []
        for i in range(repeats):

            async def base_round(schedule: str = f"bench base {sample_by}:{i}") -> None:
                await start_round(
                    db, schedule=schedule, scheduled_for=now, now=NOW, zone_name=ZONE
                )

            seconds.append(await timed(base_round))
        what = "a round with the base: `start_round`"
        if sample_by is not None:
            what += f", stratified by {sample_by}"
        row(what, "20", seconds, "≤ 1 s")
    return lines


async def add_base(db: Database, number: int) -> None:
    """A base record for every customer, most joined to their account, most with a plan."""
    rng = random.Random(5)
    people = await db.scan(partial(fetch_all, sql="SELECT user_id, segment_id FROM customers"))
    rows = []
    for k, (user_id, segment_id) in enumerate(people):
        plan = rng.choices(("basic", "plus", "pro", None), (60, 25, 10, 5))[0]
        attributes = "{}" if plan is None else f'{{"plan":"{plan}"}}'
        joined = user_id if rng.random() < 0.9 else None
        rows.append((f"X-{k}", f"C{k}", segment_id, "en", attributes, joined))

    def insert(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO base_customers (external_id, name, segment_id, language, attributes,"
            " user_id, imported_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, 0)",
            rows,
        )

    # A million rows: on a worker thread.
    await db.write(insert, long=True)
    assert len(rows) == number


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.sampling", description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    lines = asyncio.run(measure(args.customers, args.repeats))
    command = "python -m bench.sampling"
    if args.customers != 1_000_000:
        command += f" --customers {args.customers}"
    if args.repeats != 3:
        command += f" --repeats {args.repeats}"
    lines = [f"Command: `{command}`.", "", *lines]
    print("\n".join(lines))
    write_results("sampling", lines)


if __name__ == "__main__":
    main()
