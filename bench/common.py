"""What the benchmarks share: existing customers, bot processes, and the results file.

Benchmarks run from the repository root (`python -m bench.<name>`); bots run as their own
OS processes against a sandbox served by the benchmark, as they would against Telegram.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.catalog import Catalog
from sandbox import Sandbox, SimUser
from storage import customers, runtime_settings, segments
from storage.customers import Profile
from storage.db import Database
from tests.process import bot_env

README = Path(__file__).with_name("README.md")
SEGMENTS = ("retail", "wholesale", "online")
ADMIN_ID = 700
FIRST_CUSTOMER = 10_000


def _invitation_question(catalog: Catalog, language: str) -> str:
    """The invitation's question as a customer reads it: the last line of `checkin.invite`,
    without its markup, so a rewording in the catalog cannot leave a bench waiting."""
    text = catalog.text(language, "checkin.invite", name="")
    return re.sub(r"<[^>]+>", "", text.splitlines()[-1])


# What the first question of a check-in (the invitation) says, in English and in Dutch.
INVITED = tuple(_invitation_question(Catalog.load(), language) for language in ("en", "nl"))


def machine() -> str:
    """The machine the figures were measured on, in one line."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPU(s), {cpu}, Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}"
    )


def write_results(name: str, lines: Sequence[str]) -> None:
    """Replaces the section `name` of bench/README.md with `lines`, dated and with the machine."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join([f"_Measured {stamp} on {machine()}._", "", *lines])
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = README.read_text(encoding="utf-8")
    section = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + f"\n\n{section}\n"
    README.write_text(text, encoding="utf-8")


async def configure(database: Path, **values: object) -> None:
    """Sets runtime settings before the bot starts, as an admin's commands would."""
    db = await Database.open(database)

    def change(conn: sqlite3.Connection) -> None:
        for name, value in values.items():
            runtime_settings.change(conn, name, value, actor_id=None, now=0)

    await db.write(change)
    await db.close()


async def existing_customers(sandbox: Sandbox, database: Path, number: int) -> list[SimUser]:
    """`number` enrolled customers over the segments, as enrollment leaves them."""
    db = await Database.open(database)

    def enroll(conn: sqlite3.Connection) -> None:
        made = [segments.create(conn, name, now=0) for name in SEGMENTS]
        for i in range(number):
            user_id = FIRST_CUSTOMER + i
            customers.enroll(
                conn,
                Profile(user_id, user_id, f"C{i}", None, None),
                language="nl" if i % 2 else "en",
                segment_id=made[i % len(made)].id,
                now=0,
            )

    # Thousands of customers: on a worker thread; the sandbox's people on the loop, after.
    await db.write(enroll, long=True)
    await db.close()
    people = []
    for i in range(number):
        user_id = FIRST_CUSTOMER + i
        language = "nl" if i % 2 else "en"
        people.append(sandbox.user(user_id, f"C{i}", language_code=language, started=True))
    return people


class Everyone:
    """Whether `check` holds for every person: a condition to wait on, cheap to ask at every
    change of the sandbox (a person it held for is not asked again, so it must stay true).

    A scan of every chat at each change would slow the sandbox down, and a sandbox slow
    to answer is what a benchmark would then measure.
    """

    def __init__(self, people: Sequence[SimUser], check: Callable[[SimUser], bool]) -> None:
        self.waiting = list(people)
        self.check = check

    def __call__(self) -> bool:
        while self.waiting and self.check(self.waiting[-1]):
            self.waiting.pop()
        return not self.waiting


@dataclass
class Process:
    process: asyncio.subprocess.Process
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@asynccontextmanager
async def process(
    sandbox: Sandbox, argv: Sequence[str], workdir: Path, name: str, env: dict[str, str]
) -> AsyncIterator[Process]:
    """Runs a bot process until the block ends (SIGTERM, then SIGKILL after 30 s)."""
    log = workdir / f"{name}.log"
    polls = sandbox.count("getUpdates")
    with log.open("wb") as sink:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    running = Process(proc, log)
    try:
        await sandbox.wait_until(
            lambda: sandbox.count("getUpdates") > polls or proc.returncode is not None,
            timeout=60,
        )
        if proc.returncode is not None:
            raise RuntimeError(f"{name} stopped at start:\n{running.tail()}")
        yield running
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=30)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def pulse(
    sandbox: Sandbox, workdir: Path, name: str = "pulse"
) -> AbstractAsyncContextManager[Process]:
    """`pulsebot run` against the sandbox, logging warnings only (as in production)."""
    env = bot_env(sandbox, workdir / "pulse.db", str(ADMIN_ID))
    env["PULSE_LOG_LEVEL"] = "WARNING"
    return process(sandbox, [sys.executable, "-m", "bot", "run"], workdir, name, env)


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` percentile (0..1) by nearest rank."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[rank]
