"""End to end: `pulsebot run --webhook` killed with SIGKILL mid-stream, then restarted.

The sandbox delivers by webhook as Telegram does: one update at a time, each posted again
until the bot answers 2xx. What must hold after the restart: every answer given stored
once and as given, nothing left open, and a later `pulsebot run` (polling) takes the
webhook down and goes on.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from sandbox import Sandbox
from tests.process import bot_process, free_port
from tests.test_cli import pulsebot
from tests.test_e2e_crash import (
    INVITED,
    assert_answers_as_given,
    configure_for_answers,
    existing_customers,
    invitations_received,
    start_round,
)
from tests.test_e2e_rounds import ADMIN_ID, WAIT, count

SECRET = "e2e-webhook-secret-0123456789abcdef"


async def test_a_kill_mid_stream_by_webhook_loses_nothing_and_handles_each_update_once(
    tmp_path: Path,
) -> None:
    database = tmp_path / "pulse.db"
    number = 60
    await configure_for_answers(database, number)
    port = free_port()
    health = free_port()
    webhook = {
        "PULSE_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "PULSE_WEBHOOK_SECRET": SECRET,
        "PULSE_WEBHOOK_PORT": str(port),
        "PULSE_HEALTH_PORT": str(health),
    }
    async with Sandbox() as sandbox:
        people = await existing_customers(sandbox, database, number)
        sandbox.user(ADMIN_ID, "Anne", language_code="en", started=True)
        args = ("--webhook",)
        async with bot_process(
            sandbox, tmp_path, str(ADMIN_ID), name="first", args=args, env=webhook
        ) as first:
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{health}/healthz") as response,
            ):
                assert response.status == 200
                assert (await response.json())["mode"] == "webhook"
            await start_round(sandbox, people)
            await asyncio.gather(
                *(p.wait_for(lambda m: any(x in m.text for x in INVITED), WAIT) for p in people)
            )

            async def answer_all() -> None:
                # Spread out, so the kill comes while customers are still answering.
                for i, person in enumerate(people):
                    score = 1 + i % 5
                    labels = [label for row in person.last.buttons for label in row]
                    await person.press(next(x for x in labels if x.endswith(f" {score}")))
                    await person.send(f"challenge of {person.name}")
                    await person.send(f"improvement of {person.name}")
                    await asyncio.sleep(0.02)

            answering = asyncio.create_task(answer_all())
            await sandbox.wait_until(
                lambda: count(database, "SELECT COUNT(*) FROM answers") >= number // 2,
                timeout=WAIT,
            )
            first.process.send_signal(signal.SIGKILL)
            await first.process.wait()
            open_at_kill = count(database, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL")
            await answering
        stored_at_kill = count(database, "SELECT COUNT(*) FROM answers")
        pending_at_kill = sandbox.pending_updates

        async with bot_process(
            sandbox, tmp_path, str(ADMIN_ID), name="second", args=args, env=webhook
        ) as second:
            await sandbox.wait_until(
                lambda: count(database, "SELECT COUNT(*) FROM answers") == 3 * number,
                timeout=WAIT,
            )
            await sandbox.wait_quiet(timeout=WAIT)
        assert second.process.returncode == 0, second.output()
        assert sandbox.count("getUpdates") == 0
        failed_posts = sandbox.webhook.stats.failed

        # Back to polling: the webhook is taken down, what comes next is still handled.
        async with bot_process(sandbox, tmp_path, str(ADMIN_ID), name="polling") as third:
            assert sandbox.webhook.webhook is None
            admin = sandbox.user(ADMIN_ID, "Anne", language_code="en")
            seen = len(admin.messages)
            await admin.send("/help")
            await admin.wait_for(lambda m: len(admin.messages) > seen, WAIT)
        assert third.process.returncode == 0, third.output()

    assert stored_at_kill < 3 * number, "the kill came too late to test anything"
    assert pending_at_kill > 0, "nothing was left for the restart"
    assert_answers_as_given(database, people)
    assert all(invitations_received(person) == 1 for person in people)
    assert count(database, "SELECT COUNT(*) FROM inbox WHERE done_at IS NULL") == 0
    # Every update the customers and the admin made is recorded once (ids are unique).
    assert count(database, "SELECT COUNT(*) FROM inbox") == 3 * number + 2
    print(
        f"webhook kill: {stored_at_kill} of {3 * number} answers stored at the kill,"
        f" {open_at_kill} recorded and not yet handled, {pending_at_kill} waiting at"
        f" Telegram, {failed_posts} posts unanswered while the bot was down"
    )


async def test_run_webhook_without_its_settings_or_refused_by_telegram_ends_in_one_line(
    tmp_path: Path,
) -> None:
    async with Sandbox() as sandbox:
        env = {
            "PULSE_BOT_TOKEN": sandbox.token,
            "PULSE_ADMIN_IDS": str(ADMIN_ID),
            "PULSE_TELEGRAM_BASE_URL": sandbox.base_url,
            "PULSE_HEALTH_PORT": "0",
        }
        missing = await asyncio.to_thread(pulsebot, tmp_path, "run", "--webhook", **env)
        assert missing.returncode == 2
        assert missing.stderr.strip() == (
            "pulsebot: PULSE_WEBHOOK_URL is missing: set PULSE_WEBHOOK_URL to the public"
            " https:// URL Telegram posts updates to."
        )
        refused = await asyncio.to_thread(
            pulsebot,
            tmp_path,
            "run",
            "--webhook",
            # Telegram takes only HTTPS (the sandbox, like it, refuses this).
            PULSE_WEBHOOK_URL="http://pulse.example.com/telegram",
            PULSE_WEBHOOK_SECRET=SECRET,
            PULSE_WEBHOOK_PORT=str(free_port()),
            **env,
        )
        assert sandbox.webhook.webhook is None
    assert refused.returncode == 2  # a setting to fix: a supervisor should not restart it
    # The log goes to stderr too; its last line is the one that says why.
    assert "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines()[-1] == (
        "pulsebot: Telegram refused the webhook http://pulse.example.com/telegram:"
        " Bad webhook: an https url must be provided for webhook"
    )
