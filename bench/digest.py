"""One week's digest over a year of answers: 1,000,000 answers from 100,000 customers in
20 segments over 52 weekly rounds.

`python -m bench.digest [--answers N] [--keep DB]`

The database is built once (a real migrated Pulse database, filled with plain SQL in bulk:
this is a fixture, not a path the bot takes), then a fresh process computes the latest
week's digest as the scheduled job does: the figures (one read of the trend window's
counts, the texts and the follow-ups), the themes, the rendering in both languages and the
chart. It reports each step's time (best of five runs after a warm-up) and the process's
peak memory. Targets (DESIGN.md): figures ≤ 100 ms, whole digest ≤ 3 s, peak ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.common import write_results
from storage.db import Database

SEGMENTS = 20
CUSTOMERS = 100_000
WEEKS = 52
ZONE = ZoneInfo("Europe/Amsterdam")
# The digest is computed for the week before this Monday 09:00.
DIGEST_AT = datetime(2026, 11, 23, 9, 0, tzinfo=ZONE)
# The free text: the labelled corpus's answers (bench/data/themes_corpus.jsonl), so the
# themes are found among real-style varied answers, not a handful of repeated templates.
_CORPUS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "themes_corpus.jsonl")
    .read_text("utf-8")
    .splitlines()
    if line
]
CHALLENGES = {
    language: tuple(
        r["text"] for r in _CORPUS if r["question"] == "challenge" and r["language"] == language
    )
    for language in ("nl", "en")
}
IMPROVEMENTS = {
    language: tuple(
        r["text"] for r in _CORPUS if r["question"] == "improvement" and r["language"] == language
    )
    for language in ("nl", "en")
}


def _fill(path: Path, answers_wanted: int) -> int:
    """Fills a migrated database; returns how many answers it holds."""
    rng = random.Random(2026)
    start = DIGEST_AT - timedelta(weeks=WEEKS)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executemany(
            "INSERT INTO segments (id, name, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET name = excluded.name",
            [(s, f"segment-{s:02d}", int(start.timestamp())) for s in range(1, SEGMENTS + 1)],
        )
        # Segment sizes from large to small, so the weighting has work to do.
        weights = [1 / s for s in range(1, SEGMENTS + 1)]
        segment_of = rng.choices(range(1, SEGMENTS + 1), weights=weights, k=CUSTOMERS)
        conn.executemany(
            "INSERT INTO customers (user_id, chat_id, first_name, username, language,"
            " segment_id, status, consented_at, enrolled_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'active', 0, 0, 0)",
            (
                (
                    100_000 + c,
                    100_000 + c,
                    f"Customer{c}",
                    f"c{c}",
                    "nl" if c % 3 else "en",
                    segment_of[c],
                )
                for c in range(CUSTOMERS)
            ),
        )
        # 85 % answer; each gives score, challenge and improvement (given or skipped), and
        # three in four are asked about contact: about 3.2 answers per invitation.
        per_week = round(answers_wanted / WEEKS / 3.2)
        invitation_id = 0
        answers = 0
        for week in range(WEEKS):
            at = int((start + timedelta(weeks=week, days=1, hours=1)).timestamp())
            round_id = week + 1
            conn.execute(
                "INSERT INTO rounds (id, schedule, scheduled_for, started_at, sample_size,"
                " target, seed) VALUES (?, 'checkin', ?, ?, '5%', ?, ?)",
                (round_id, at, at, per_week, week),
            )
            population: dict[int, int] = {}
            for s in segment_of:
                population[s] = population.get(s, 0) + 1
            conn.executemany(
                "INSERT INTO round_strata (round_id, segment_id, population, eligible, invited)"
                " VALUES (?, ?, ?, ?, ?)",
                [
                    (round_id, s, n, n, max(1, n * per_week // CUSTOMERS))
                    for s, n in population.items()
                ],
            )
            invitation_rows: list[tuple[object, ...]] = []
            answer_rows: list[tuple[int, str, str | None, int, int]] = []
            for customer in rng.sample(range(CUSTOMERS), per_week):
                invitation_id += 1
                user_id = 100_000 + customer
                language = "nl" if customer % 3 else "en"
                answered = rng.random() < 0.85
                score = rng.choices((1, 2, 3, 4, 5), weights=(1, 2, 4, 6, 4))[0]
                done = at + rng.randint(60, 86_400)
                invitation_rows.append(
                    (
                        invitation_id,
                        round_id,
                        user_id,
                        user_id,
                        segment_of[customer],
                        language,
                        "done" if answered else "expired",
                        score if answered else None,
                        at,
                        at,
                        at,
                        at + 72 * 3600,
                        done if answered else None,
                    )
                )
                if not answered:
                    continue
                answer_rows.append((invitation_id, "score", str(score), 0, done))
                challenge = rng.random() < 0.6
                answer_rows.append(
                    (
                        invitation_id,
                        "challenge",
                        rng.choice(CHALLENGES[language]) if challenge else None,
                        0 if challenge else 1,
                        done,
                    )
                )
                better = rng.random() < 0.45
                answer_rows.append(
                    (
                        invitation_id,
                        "improvement",
                        rng.choice(IMPROVEMENTS[language]) if better else None,
                        0 if better else 1,
                        done,
                    )
                )
                if score <= 3 or challenge:
                    contact = "yes" if rng.random() < 0.2 else "no"
                    answer_rows.append((invitation_id, "contact", contact, 0, done))
            conn.executemany(
                "INSERT INTO invitations (id, round_id, user_id, chat_id, segment_id, language,"
                " state, delivery, score, created_at, send_after, sent_at, expires_at,"
                " answered_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?, ?, ?)",
                invitation_rows,
            )
            conn.executemany(
                "INSERT INTO answers (invitation_id, question, value, skipped, answered_at)"
                " VALUES (?, ?, ?, ?, ?)",
                answer_rows,
            )
            answers += len(answer_rows)
        conn.execute("ANALYZE")
    return answers


async def _build(path: Path, answers: int) -> int:
    db = await Database.open(path)  # the real migrations, so the schema is the bot's own
    await db.close()
    filled = _fill(path, answers)
    _embed_week(path)
    return filled


def _embed_week(path: Path) -> None:
    """The digested week's answers get their vectors, as the bot computes them when each
    answer arrives (so the measured digest reads them, as the scheduled one does)."""
    from bot.clock import epoch
    from bot.digest.embedding import MODEL, shared, to_bytes
    from bot.digest.period import scheduled_period

    period = scheduled_period("mon", "09:00", ZONE, DIGEST_AT)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT a.id, a.value FROM answers a JOIN invitations i ON i.id = a.invitation_id"
            " WHERE i.created_at >= ? AND i.created_at < ? AND a.value IS NOT NULL"
            " AND a.question IN ('challenge', 'improvement')",
            (epoch(period.start), epoch(period.end)),
        ).fetchall()
        texts = sorted({str(text) for _, text in rows})
        vectors = dict(zip(texts, shared().embed(texts), strict=True))
        conn.executemany(
            "INSERT OR REPLACE INTO answer_vectors (answer_id, model, vector) VALUES (?, ?, ?)",
            [(answer_id, MODEL, to_bytes(vectors[str(text)])) for answer_id, text in rows],
        )


async def _measure(path: Path) -> dict[str, float]:
    """Runs in a fresh process: the digest's steps, timed, and the peak memory."""
    from bot.catalog import Catalog
    from bot.clock import epoch
    from bot.digest import assembly, reading, render
    from bot.digest.embedding import MODEL
    from bot.digest.period import scheduled_period, week_bounds
    from bot.digest.sending import chart_png
    from storage import digest_data

    catalog = Catalog.load()
    db = await Database.open(path)
    period = scheduled_period("mon", "09:00", ZONE, DIGEST_AT)
    timings: dict[str, list[float]] = {
        "counts": [],
        "reads": [],
        "build": [],
        "render": [],
        "chart": [],
    }
    bounds = [epoch(moment) for moment in week_bounds(period, ZONE)]

    def count(conn: sqlite3.Connection) -> None:
        digest_data.week_segment_counts(conn, bounds)
        digest_data.segments(conn)
        digest_data.populations(conn, epoch(period.start), epoch(period.end))

    totals: list[float] = []
    try:
        for attempt in range(6):
            # The figures proper: invited, answered and scores per week and segment.
            counted = time.perf_counter()
            await db.read(count)
            began = time.perf_counter()
            timings["counts"].append(began - counted)
            # Everything the digest reads: the figures, the free text, the follow-ups.
            data = await reading.read_input(db, period, ZONE, model=MODEL)
            read = time.perf_counter()
            result = assembly.build(data)
            built = time.perf_counter()
            parts = [render.render(catalog, lang, result, ZONE) for lang in ("nl", "en")]
            rendered = time.perf_counter()
            png = chart_png(catalog, "en", result.weeks, ZONE)
            drawn = time.perf_counter()
            if attempt == 0:
                timings["counts"].clear()
                continue  # warm-up: the page cache and the imports
            timings["reads"].append(read - began)
            timings["build"].append(built - read)
            timings["render"].append(rendered - built)
            timings["chart"].append(drawn - rendered)
            totals.append(drawn - began)
    finally:
        await db.close()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        **{name: min(values) for name, values in timings.items()},
        "total": min(totals),
        "peak_mb": peak_kb / 1024,
        "answers_in_week": float(result.answered),
        "texts": float(result.challenge_answers + result.improvement_answers),
        "themes": float(len(result.challenges) + len(result.improvements)),
        "parts": float(sum(len(p) for p in parts)),
        "png_kb": len(png) / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database here")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(asyncio.run(_measure(args.measure))))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="pulse-bench-digest-"))
    path = args.keep or folder / "pulse.db"
    began = time.perf_counter()
    if path.exists():
        with sqlite3.connect(path) as conn:
            answers = int(conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])
    else:
        answers = asyncio.run(_build(path, args.answers))
    print(f"database: {answers:,} answers, built in {time.perf_counter() - began:.1f} s")
    measured = subprocess.run(
        [sys.executable, "-m", "bench.digest", "--measure", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(measured.stdout)
    lines = [
        f"Command: `python -m bench.digest` ({answers:,} answers, {CUSTOMERS:,} customers,"
        f" {SEGMENTS} segments, {WEEKS} weeks; the week digested has"
        f" {figures['answers_in_week']:,.0f} scored check-ins and {figures['texts']:,.0f}"
        " free-text answers).",
        "",
        "| step | best of 5 | target |",
        "|---|---|---|",
        f"| figures: counts per week and segment, 12 weeks | {figures['counts'] * 1000:.0f} ms"
        " | ≤ 100 ms |",
        f"| every read (figures, free text, follow-ups) | {figures['reads'] * 1000:.0f} ms | |",
        f"| statistics and themes by meaning ({figures['themes']:.0f} themes) |"
        f" {figures['build'] * 1000:.0f} ms | ≤ 2,000 ms for the themes |",
        f"| rendering, both languages | {figures['render'] * 1000:.0f} ms | |",
        f"| chart (PNG, {figures['png_kb']:.0f} KB) | {figures['chart'] * 1000:.0f} ms | |",
        f"| whole digest | {figures['total'] * 1000:.0f} ms | ≤ 3,000 ms |",
        f"| peak memory of the process | {figures['peak_mb']:.0f} MB | ≤ 200 MB |",
    ]
    for line in lines:
        print(line)
    write_results("digest", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
