"""Importing the customer base: a CSV of 100,000 customers imported into a fresh database,
imported again unchanged, again with 1 % changed and 1 % missing marked gone, and personal
links written for all of them; each step in a fresh process, with its time and peak memory
(and the first at 10,000 rows too, to show the memory stays flat as the file grows).

`python -m bench.customers [--rows N]`
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import write_results
from storage.db import Database

SEGMENTS = ("retail", "wholesale", "online", "horeca", "public")


def write_file(path: Path, rows: int, *, changed_every: int = 0, drop_every: int = 0) -> None:
    """A base file: every `changed_every`-th customer on another plan, every `drop_every`-th
    left out (0: none)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "name", "segment", "language", "plan", "region", "size"])
        for k in range(1, rows + 1):
            if drop_every and k % drop_every == 0:
                continue
            changed = changed_every and k % changed_every == changed_every // 2
            plan = "pro" if changed else ("basic", "plus")[k % 2]
            writer.writerow(
                [
                    f"C-{k:07d}",
                    f"Customer {k} B.V.",
                    SEGMENTS[k % len(SEGMENTS)],
                    "nl" if k % 3 else "en",
                    plan,
                    ("north", "south", "east", "west")[k % 4],
                    str(k % 250),
                ]
            )


async def _measure(database: Path, step: str, source: Path) -> dict[str, float]:
    """Runs in a fresh process: one import (or the links), timed, and the peak memory."""
    from bot.customer_base.importing import run_import
    from bot.customer_base.links import write_links

    db = await Database.open(database)
    try:
        began = time.perf_counter()
        if step == "links":
            written = await write_links(
                db, source, segment=None, bot_username="pulse_bot", actor_id=None, now=1
            )
            counts = {"written": float(written.written)}
        else:
            report = await run_import(
                db,
                source,
                skip_bad=False,
                mark_gone=step == "gone",
                actor_id=None,
                now=int(time.time()),
                source=source.name,
            )
            counts = {
                "new": float(report.new),
                "changed": float(report.changed),
                "unchanged": float(report.unchanged),
                "gone": float(report.marked_gone),
            }
        seconds = time.perf_counter() - began
    finally:
        await db.close()
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        **counts,
    }


def _run(database: Path, step: str, source: Path) -> dict[str, float]:
    measured = subprocess.run(
        [sys.executable, "-m", "bench.customers", "--measure", str(database), step, str(source)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(measured.stdout.strip().splitlines()[-1]))


def _baseline() -> float:
    """The peak memory of a fresh process that loads the same code and imports nothing."""
    measured = subprocess.run(
        [
            sys.executable,
            "-c",
            "import resource, bot.customer_base.importing, bot.customer_base.links;"
            " print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(measured.stdout.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        database, step, source = args.measure
        print(json.dumps(asyncio.run(_measure(Path(database), step, Path(source)))))
        return 0
    work = Path(tempfile.mkdtemp(prefix="pulse-bench-customers-"))
    rows = args.rows
    small = max(rows // 10, 1)
    write_file(work / "small.csv", small)
    write_file(work / "base.csv", rows)
    write_file(work / "next.csv", rows, changed_every=100, drop_every=100)
    megabytes = (work / "base.csv").stat().st_size / 1024 / 1024
    asyncio.run(_create(work / "small.db"))
    asyncio.run(_create(work / "pulse.db"))
    steps = [
        (f"first import, {small:,} rows", _run(work / "small.db", "import", work / "small.csv")),
        (f"first import, {rows:,} rows", _run(work / "pulse.db", "import", work / "base.csv")),
        ("the same file again", _run(work / "pulse.db", "import", work / "base.csv")),
        (
            "1 % changed, 1 % missing marked gone",
            _run(work / "pulse.db", "gone", work / "next.csv"),
        ),
        ("personal links for everyone", _run(work / "pulse.db", "links", work / "links.csv")),
    ]
    baseline = _baseline()
    lines = [
        f"Command: `python -m bench.customers` ({rows:,} customers, {megabytes:.1f} MB of CSV"
        f" with three attribute columns, over {len(SEGMENTS)} segments); each step in a fresh"
        " process on a file database, as `pulsebot customers import` and `links` run it.",
        "",
        "| step | time | peak memory | what it did |",
        "|---|---|---|---|",
    ]
    for name, m in steps:
        if "written" in m:
            did = f"{int(m['written']):,} links written"
        else:
            did = (
                f"{int(m['new']):,} new, {int(m['changed']):,} changed,"
                f" {int(m['unchanged']):,} unchanged, {int(m['gone']):,} gone"
            )
        lines.append(f"| {name} | {m['seconds']:.2f} s | {m['peak_mb']:.0f} MB | {did} |")
    lines += [
        "",
        f"A process that loads the same code and imports nothing peaks at {baseline:.0f} MB:"
        " the rows are streamed from the file and staged in chunks of 5,000 (executemany),"
        " so ten times the rows costs a few MB more, not ten times the memory.",
    ]
    print("\n".join(lines))
    write_results("customers", lines)
    return 0


async def _create(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


if __name__ == "__main__":
    sys.exit(main())
