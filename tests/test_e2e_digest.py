"""End to end: after a round, the scheduled digest reaches a staff member of `pulsebot run`
(a real process) with its chart at the minute it was set for, exactly once across a
restart; /digest and /export work for the team and not for a customer."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sandbox import ChatMessage, Sandbox, SimUser
from tests.process import BotProcess, bot_process, clock_at
from tests.test_e2e_rounds import (
    ADMIN_ID,
    WAIT,
    answer,
    configure,
    count,
    enroll_all,
    finished,
    next_message,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How long before the scheduled minute the bot that sends it starts: time to start up, so
# that the schedule's job sends it, not the start-up's catch-up.
LEAD = timedelta(seconds=12)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


def digest_minute(now: datetime) -> datetime:
    """A whole minute ten minutes away: the running bot must not reach it."""
    return (now + timedelta(minutes=10)).replace(second=0, microsecond=0)


def photos(user: SimUser) -> list[ChatMessage]:
    return [m for m in user.messages if m.kind == "photo"]


async def logged(sandbox: Sandbox, bot: BotProcess, text: str) -> None:
    await sandbox.wait_until(lambda: text in bot.output(), timeout=WAIT)


async def test_the_scheduled_digest_reaches_staff_once_and_only_the_team_sees_answers(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    admin = sandbox.user(ADMIN_ID, "Anne", language_code="en")
    sam = sandbox.user(21, "Sam", username="sam", language_code="nl")
    await configure(tmp_path / "pulse.db", checkins_paused=True, quiet_start=None, quiet_end=None)
    async with bot_process(sandbox, tmp_path, str(ADMIN_ID), name="first"):
        people = await enroll_all(sandbox, 6)
        link = await next_message(admin, admin.send("/staff invite"))
        code = link.text.split("?start=", 1)[1].split()[0]
        await next_message(sam, sam.send(f"/start {code}"))
        report = await next_message(admin, admin.send("/checkin_now"))
        assert "6 invited" in report.text
        await asyncio.gather(
            *(p.wait_for(lambda m: bool(m.buttons), WAIT, since_last_action=False) for p in people)
        )
        for _ in range(4):  # score, challenge, improvement, and contact when asked
            await asyncio.gather(*(answer(p, i) for i, p in enumerate(people) if not finished(p)))
        assert all(finished(p) for p in people)

        # Ten minutes from now; the next bot's clock starts just before it.
        at = digest_minute(datetime.now(ZoneInfo("Europe/Amsterdam")))
        await admin.send(f"/schedule digest {WEEKDAYS[at.weekday()]} {at:%H:%M}")
        # Alerts about the low scores may still be arriving for the admin in between.
        moved = await admin.wait_for(lambda m: "Digest:" in m.text, WAIT)
        assert f"at {at:%H:%M}" in moved.text

    async with bot_process(
        sandbox, tmp_path, str(ADMIN_ID), name="scheduled", env=clock_at(at - LEAD)
    ) as scheduled:
        chart = await sam.wait_for(lambda m: m.kind == "photo", WAIT, since_last_action=False)
        await admin.wait_for(lambda m: m.kind == "photo", WAIT, since_last_action=False)
        digest = "\n".join(m.text for m in sam.messages if "Pulse-samenvatting" in m.text)
        assert "Uitgenodigd 6 · geantwoord 6 · respons 100 %" in digest
        assert "Gemiddelde score" in digest
        assert "Opvolgen" in digest
        assert chart.file is not None
        assert chart.file.data.startswith(b"\x89PNG")
        await logged(sandbox, scheduled, "digest of ")
    # Sent by the schedule's own job at its minute, not by the catch-up at start-up: the
    # log's times are the bot's clock, in UTC.
    line = next(x for x in scheduled.output().splitlines() if "digest of " in x)
    sent_at = datetime.strptime(line[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert at <= sent_at < at + LEAD, line

    database = tmp_path / "pulse.db"
    assert count(database, "SELECT COUNT(*) FROM digest_deliveries WHERE status = 'sent'") == 2

    async with bot_process(
        sandbox, tmp_path, str(ADMIN_ID), name="second", env=clock_at(at + LEAD)
    ) as second:
        # The start-up catch-up finds the period's deliveries claimed and sends nothing.
        await logged(sandbox, second, "sent to 0, failed for 0, 2 had it already")
        assert len(photos(sam)) == 1

        shown = await next_message(sam, sam.send("/digest"))
        assert "Pulse-samenvatting" in shown.text
        await sam.wait_for(lambda m: m.kind == "photo", WAIT)
        exported = await next_message(sam, sam.send("/export"))
        assert exported.kind == "document"
        assert exported.file is not None
        rows = list(csv.DictReader(io.StringIO(exported.file.data.decode("utf-8-sig"))))
        assert len(rows) == count(database, "SELECT COUNT(*) FROM answers")

        customer = people[0]
        for command in ("/digest", "/export"):
            refused = await next_message(customer, customer.send(command))
            assert refused.text == "Sorry, that command is only for our team."
        assert [m for m in customer.messages if m.kind in ("photo", "document")] == []
