"""The export of every answer over a year of them: 1,000,000 answers (bench.digest's
database), as CSV and as an Excel workbook, each written the way /export writes it (to a
file, zipped past 45 MB) in a fresh process, with its time, peak memory and sizes.

`python -m bench.export [--answers N] [--keep DB]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import digest
from bench.common import write_results
from storage.db import Database


async def _measure(path: Path, kind: str, folder: Path) -> dict[str, float]:
    """Runs in a fresh process: one export for Telegram, timed, and the peak memory."""
    from bot.digest.export import export_for_telegram

    db = await Database.open(path)
    try:
        began = time.perf_counter()
        exported = await export_for_telegram(
            db, ZoneInfo("Europe/Amsterdam"), kind, folder, "answers"
        )
        seconds = time.perf_counter() - began
    finally:
        await db.close()
    written = exported.path
    unzipped = folder / f"answers.{kind}"
    return {
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "count": float(exported.count),
        "size_mb": written.stat().st_size / 1024 / 1024,
        "zipped": float(exported.zipped),
        "fits": float(exported.fits_telegram),
        "plain": float(unzipped.exists()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the database here")
    parser.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        path, kind, folder = args.measure
        print(json.dumps(asyncio.run(_measure(Path(path), kind, Path(folder)))))
        return 0
    work = Path(tempfile.mkdtemp(prefix="pulse-bench-export-"))
    path = args.keep or work / "pulse.db"
    if path.exists():
        with sqlite3.connect(path) as conn:
            answers = int(conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])
    else:
        answers = asyncio.run(digest._build(path, args.answers))
    lines = [
        f"Command: `python -m bench.export` ({answers:,} answers, bench.digest's database);"
        " each export in a fresh process, written as /export writes it.",
        "",
        "| format | time | peak memory | file sent | fits Telegram's 50 MB |",
        "|---|---|---|---|---|",
    ]
    for kind in ("csv", "xlsx"):
        folder = work / kind
        folder.mkdir()
        measured = subprocess.run(
            [sys.executable, "-m", "bench.export", "--measure", str(path), kind, str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(measured.stdout)
        sent = "zip" if figures["zipped"] else kind
        lines.append(
            f"| {kind} | {figures['seconds']:.1f} s | {figures['peak_mb']:.0f} MB |"
            f" {sent}, {figures['size_mb']:.1f} MB | {'yes' if figures['fits'] else 'no'} |"
        )
        print(lines[-1], flush=True)
    print("\n".join(lines))
    write_results("export", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
