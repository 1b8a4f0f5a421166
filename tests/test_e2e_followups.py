"""End to end: `pulsebot run` (a real process) against the sandbox closes the loop with an
unhappy customer: low score → staff alert → staff reply → the customer's answer reaches
that staff member → the thread is marked done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import Sandbox
from tests.process import bot_process
from tests.test_e2e_rounds import ADMIN_ID, WAIT, configure, count, enroll_all, next_message


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def test_a_low_score_reaches_staff_who_reply_and_close_the_thread(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    admin = sandbox.user(ADMIN_ID, "Anne", language_code="en")
    sam = sandbox.user(21, "Sam", username="sam", language_code="en")
    database = tmp_path / "pulse.db"
    # Only /checkin_now starts a round, and nothing waits for quiet hours, whatever the
    # hour the test runs at (staff quiet hours are off by default).
    await configure(
        database, checkins_paused=True, quiet_start=None, quiet_end=None, alert_quiet=None
    )
    async with bot_process(sandbox, tmp_path, str(ADMIN_ID)) as bot:
        (customer,) = await enroll_all(sandbox, 1)
        link = await next_message(admin, admin.send("/staff invite"))
        code = link.text.split("?start=", 1)[1].split()[0]
        await next_message(sam, sam.send(f"/start {code}"))
        assert "1 invited" in (await next_message(admin, admin.send("/checkin_now"))).text
        await customer.wait_for(lambda m: bool(m.buttons), WAIT, since_last_action=False)

        await next_message(customer, customer.press("😞 1"))
        alert = await sam.wait_for(lambda m: "Follow-up #1" in m.text, WAIT)
        assert "C0" in alert.text
        assert "Score: 😞 1" in alert.text
        await admin.wait_for(lambda m: "Follow-up #1" in m.text, WAIT, since_last_action=False)
        await next_message(customer, customer.send("Deliveries are always late"))
        await next_message(customer, customer.press("Skip"))
        thanks = await next_message(customer, customer.press("Yes, please"))
        assert "Thank you" in thanks.text
        # The same alert, brought up to date: no second one.
        await sam.wait_for(
            lambda m: "Asks to be contacted" in m.text and "Deliveries are always" in m.text,
            WAIT,
            since_last_action=False,
        )
        assert sum(1 for m in sam.messages if "Follow-up #1" in m.text) == 1

        prompt = await next_message(sam, sam.press("💬 Reply", message=alert))
        assert "Write your message to C0" in prompt.text
        sent = await next_message(sam, sam.send("So sorry! Can I call you today?"))
        assert "Sent to C0" in sent.text
        relayed = await customer.wait_for(lambda m: "From our team (Sam)" in m.text, WAIT)
        assert "So sorry! Can I call you today?" in relayed.text

        passed = await next_message(customer, customer.send("Yes, after 3 pm please"))
        assert "passed that on to Sam" in passed.text
        back = await sam.wait_for(lambda m: "Yes, after 3 pm please" in m.text, WAIT)
        assert "answers" in back.text

        done = await next_message(sam, sam.press("✅ Mark done", message=back))
        assert "is marked done" in done.text
        listed = await next_message(sam, sam.send("/followups"))
        assert listed.text == "No open follow-ups."
        assert "Done: Sam" in (await next_message(sam, sam.send("/followups done"))).text
        assert sandbox.token not in bot.output()

    assert count(database, "SELECT COUNT(*) FROM followups WHERE status = 'done'") == 1
    assert count(database, "SELECT COUNT(*) FROM followup_messages WHERE status = 'sent'") == 2
    assert count(database, "SELECT COUNT(*) FROM followup_alerts WHERE status = 'sent'") == 2
