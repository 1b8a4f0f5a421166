"""/healthz and /metrics: in the real Application against the sandbox, and as `pulsebot run`
serves them."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.app import build_application, running
from bot.common.context import PulseApplication
from bot.running.monitoring import API_STALE_SECONDS, Monitor, monitoring_app
from bot.service import listening
from sandbox import Fault, Sandbox
from tests.process import bot_process, free_port, sandbox_settings

ADMIN_ID = 900
WAIT = 20.0


@asynccontextmanager
async def monitored(
    sandbox: Sandbox, database: Path
) -> AsyncIterator[tuple[PulseApplication, Monitor, str]]:
    """Pulse polling the sandbox over its real transport, with its monitoring served."""
    config = sandbox_settings(sandbox, database, ADMIN_ID)
    app: PulseApplication = build_application(config)
    async with running(app, poll_timeout=1) as pipeline:
        monitor = Monitor(app, pipeline, "polling")
        async with listening(monitoring_app(monitor), "127.0.0.1", 0, "monitoring") as port:
            yield app, monitor, f"http://127.0.0.1:{port}"


async def get(url: str) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_running_bot_is_healthy_and_counts_what_it_did(tmp_path: Path) -> None:
    async with Sandbox() as sandbox, monitored(sandbox, tmp_path / "pulse.db") as (_, _m, base):
        status, health = await get(f"{base}/healthz")
        assert status == 200, health
        assert health["status"] == "ok"
        assert health["mode"] == "polling"
        assert set(health["checks"]) == {"database", "bot_api", "updates", "scheduler"}
        assert health["checks"]["database"]["writable"] is True
        assert health["checks"]["scheduler"]["running"] is True
        assert health["checks"]["bot_api"]["last_answer_age_seconds"] is not None

        customer = sandbox.user(5001, "Lotte", language_code="nl")
        await customer.send("/start")
        await customer.wait_for(lambda m: bool(m.buttons), WAIT)
        await sandbox.wait_quiet(timeout=WAIT)
        status, text = await get(f"{base}/metrics")
    assert status == 200
    found = samples(text)
    assert found[("pulse_updates_received_total", ())] == 1
    assert found[("pulse_updates_handled_total", ())] == 1
    sent = ("pulse_messages_sent_total", (("kind", "conversation"), ("method", "sendMessage")))
    assert found[sent] == 1
    assert found[("pulse_answers_stored", ())] == 0
    assert found[("pulse_checkins_open", ())] == 0
    assert found[("pulse_inbox_backlog", ())] == 0
    assert found[("pulse_telegram_429_total", ())] == 0
    assert ("pulse_last_round_timestamp_seconds", ()) not in found


async def test_telegram_failing_for_minutes_makes_the_bot_unhealthy(tmp_path: Path) -> None:
    async with (
        Sandbox() as sandbox,
        monitored(sandbox, tmp_path / "pulse.db") as (_app, monitor, base),
    ):
        contact = monitor.contact
        assert contact is not None
        failures = sandbox.stats.faults_injected
        # Every call fails, the probe's getMe too.
        sandbox.inject("*", Fault.server_error(502), times=None)
        await sandbox.wait_until(lambda: sandbox.stats.faults_injected > failures, WAIT)
        await sandbox.wait_until(lambda: contact.failing_since is not None, WAIT)
        # A passing failure is not unhealthy...
        status, health = await get(f"{base}/healthz")
        assert status == 200, health
        assert health["checks"]["bot_api"]["last_call_failed"] is True
        # ...failing with no answer for longer than API_STALE_SECONDS is.
        real = contact.now
        contact.now = lambda: real() + API_STALE_SECONDS + 1
        status, health = await get(f"{base}/healthz")
        assert status == 503
        assert health["status"] == "failing"
        assert health["checks"]["bot_api"]["ok"] is False
        assert health["checks"]["database"]["ok"] is True
        # Telegram is back: /healthz's own getMe sees it, with no other call made.
        sandbox.clear_faults()
        status, health = await get(f"{base}/healthz")
        assert status == 200, health
        assert health["checks"]["bot_api"]["last_answer_age_seconds"] == 0


async def test_the_database_check_is_a_real_write(tmp_path: Path) -> None:
    database = tmp_path / "pulse.db"
    async with Sandbox() as sandbox, monitored(sandbox, database) as (_, _m, base):
        status, health = await get(f"{base}/healthz")
        assert status == 200, health
        with sqlite3.connect(database) as conn:
            written = conn.execute("SELECT checked_at FROM health").fetchall()
        assert len(written) == 1
        assert abs(written[0][0] - time.time()) < 60


async def test_pulsebot_run_serves_health_and_metrics_on_its_port(tmp_path: Path) -> None:
    port = free_port()
    async with Sandbox() as sandbox:
        env = {"PULSE_HEALTH_PORT": str(port)}
        async with bot_process(sandbox, tmp_path, str(ADMIN_ID), env=env) as bot:
            status, health = await get(f"http://127.0.0.1:{port}/healthz")
            assert status == 200, (health, bot.output())
            assert health["mode"] == "polling"
            status, text = await get(f"http://127.0.0.1:{port}/metrics")
            assert status == 200
            assert ("pulse_updates_handled_total", ()) in samples(text)
            # What the container's HEALTHCHECK runs.
            assert await pulsebot_health(tmp_path, env) == (0, "healthy")
        assert f"serving /healthz and /metrics on http://127.0.0.1:{port}" in bot.output()
        code, said = await pulsebot_health(tmp_path, env)
        assert code == 1
        assert said.startswith(f"pulsebot: no answer from http://127.0.0.1:{port}/healthz")


async def pulsebot_health(cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "health",
        cwd=cwd,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return int(process.returncode or 0), out.decode().strip()
