"""Runs `pulsebot run` as a real OS process against a sandbox, for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.settings import Settings
from sandbox import Sandbox


@dataclass
class BotProcess:
    process: asyncio.subprocess.Process
    log: Path
    database: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


# libfaketime (Debian's faketime package; .ci/run installs it): a bot process whose wall
# clock starts at a given moment, so a test need not wait for a scheduled minute.
FAKETIME_LIBRARIES = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))


def clock_at(moment: datetime) -> dict[str, str]:
    """The environment that starts a process's wall clock at `moment`, then lets it run at
    the normal pace (the monotonic clock stays real: timeouts and backoffs are unchanged).
    """
    if not FAKETIME_LIBRARIES:
        if os.environ.get("CI"):
            raise RuntimeError("libfaketime is missing: .ci/run installs Debian's faketime")
        pytest.skip("libfaketime is not installed (apt-get install faketime)")
    utc = moment.astimezone(UTC)
    return {
        "LD_PRELOAD": str(FAKETIME_LIBRARIES[0]),
        "FAKETIME": f"@{utc:%Y-%m-%d %H:%M:%S}",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "TZ": "UTC",  # the time above is read in the process's zone
    }


def free_port() -> int:
    """A loopback port free now, for a server a test starts and must know in advance."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_settings(sandbox: Sandbox, database: Path, admin_id: int) -> Settings:
    """Settings of a Pulse run in the test's own process against `sandbox`."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(sandbox.token),
        admin_ids=(admin_id,),
        database_path=database,
        telegram_base_url=sandbox.base_url,
        log_level="WARNING",
    )


def bot_env(sandbox: Sandbox, database: Path, admin_ids: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    env.update(
        PULSE_BOT_TOKEN=sandbox.token,
        PULSE_ADMIN_IDS=admin_ids,
        PULSE_DATABASE_PATH=str(database),
        PULSE_TELEGRAM_BASE_URL=sandbox.base_url,
        # DEBUG logs the most; the token must still never appear.
        PULSE_LOG_LEVEL="DEBUG",
        # Any free port for /healthz and /metrics: bots run side by side in the suite.
        PULSE_HEALTH_PORT="0",
    )
    return env


async def start_bot(
    sandbox: Sandbox,
    tmp_path: Path,
    admin_ids: str,
    *,
    name: str = "bot",
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> BotProcess:
    """Starts `python -m bot run [args]` against the sandbox and returns at once; `env`
    adds settings."""
    database = tmp_path / "pulse.db"
    log = tmp_path / f"{name}.log"
    with log.open("wb") as sink:
        # asyncio's subprocess, so waiting for the bot never blocks the sandbox it talks to.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            *args,
            cwd=tmp_path,
            env={**bot_env(sandbox, database, admin_ids), **(env or {})},
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
    sandbox: Sandbox,
    tmp_path: Path,
    admin_ids: str,
    *,
    name: str = "bot",
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> AsyncIterator[BotProcess]:
    """Starts `python -m bot run [args]`, waits until it polls (or, with `--webhook`, has
    set its webhook), and stops it with SIGTERM after."""
    ready = "setWebhook" if "--webhook" in args else "getUpdates"
    calls_before = sandbox.count(ready)
    running = await start_bot(sandbox, tmp_path, admin_ids, name=name, args=args, env=env)
    try:
        await sandbox.wait_until(
            lambda: sandbox.count(ready) > calls_before or running.process.returncode is not None,
            timeout=30,
        )
        assert running.process.returncode is None, running.output()
        yield running
    finally:
        await stop_bot(running)
