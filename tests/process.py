"""Runs `pulsebot run` as a real OS process against a sandbox, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox import Sandbox


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log: Path
    database: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def bot_env(sandbox: Sandbox, database: Path, admin_ids: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update(
        PULSE_BOT_TOKEN=sandbox.token,
        PULSE_ADMIN_IDS=admin_ids,
        PULSE_DATABASE_PATH=str(database),
        PULSE_TELEGRAM_BASE_URL=sandbox.base_url,
        # DEBUG logs the most; the token must still never appear.
        PULSE_LOG_LEVEL="DEBUG",
    )
    return env


async def start_bot(
    sandbox: Sandbox, tmp_path: Path, admin_ids: str, *, name: str = "bot"
) -> BotProcess:
    """Starts `python -m bot run` against the sandbox and returns at once."""
    database = tmp_path / "pulse.db"
    log = tmp_path / f"{name}.log"
    with log.open("wb") as sink:
        # asyncio's subprocess, so waiting for the bot never blocks the sandbox it talks to.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=bot_env(sandbox, database, admin_ids),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return BotProcess(process, log, database)


async def stop_bot(running: BotProcess) -> None:
    """SIGTERM, and SIGKILL if it has not stopped 30 seconds later."""
    process = running.process
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=30)
        except TimeoutError:
            process.kill()
            await process.wait()


@asynccontextmanager
async def bot_process(
    sandbox: Sandbox, tmp_path: Path, admin_ids: str, *, name: str = "bot"
) -> AsyncIterator[BotProcess]:
    """Starts `python -m bot run`, waits until it polls, and stops it with SIGTERM after."""
    polls_before = sandbox.count("getUpdates")
    running = await start_bot(sandbox, tmp_path, admin_ids, name=name)
    try:
        await sandbox.wait_until(
            lambda: sandbox.count("getUpdates") > polls_before
            or running.process.returncode is not None,
            timeout=30,
        )
        assert running.process.returncode is None, running.output()
        yield running
    finally:
        await stop_bot(running)
