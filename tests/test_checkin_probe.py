"""The hypothesis probe: the third question asks whether the customer recognises an active
hypothesis, then why; rounds spread the hypotheses evenly; the digest reads the answers."""

from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.common.context import PulseApplication
from bot.digest.export import write_csv
from bot.digest.sending import run_due_digest
from conversations.checkin import parse_press, question_reply, step
from storage import hypotheses, invitations
from storage.hypotheses import Hypothesis, HypothesisStatus
from storage.invitations import CheckinState, Invitation
from tests import builders
from tests.builders import Person
from tests.conftest import ADMIN, handle, services_of
from tests.team_chat import reply
from tests.test_checkin import TUESDAY_10, enroll_directly, invitation_of, round_now
from tests.test_checkin_machine import NOW, Typed, invitation, press
from tests.transport import FakeTelegram

S = CheckinState


def probed(state: CheckinState, *, score: int | None = None) -> invitations.Invitation:
    return replace(invitation(state, score=score), hypothesis_id=3, probe="Deliveries worry me")


def test_with_a_hypothesis_the_third_question_is_the_probe() -> None:
    result = step(probed(S.ASKED_CHALLENGE, score=4), Typed("Late trucks"), now=NOW, next_date="")
    assert result.state is S.ASKED_HYPOTHESIS
    (asked,) = result.outcome.replies
    assert asked.key == "checkin.ask_hypothesis"
    assert asked.params == {"text": "Deliveries worry me"}
    labels = [[b.label_key for b in row] for row in asked.buttons]
    assert labels == [
        ["checkin.hyp_yes", "checkin.hyp_partly", "checkin.hyp_no"],
        ["checkin.skip"],
    ]
    assert [b.data for b in asked.buttons[0]] == [
        "ci:9:hyp:yes",
        "ci:9:hyp:partly",
        "ci:9:hyp:no",
    ]


def test_without_one_the_third_question_is_what_we_could_do_better() -> None:
    result = step(invitation(S.ASKED_CHALLENGE, score=4), Typed("x"), now=NOW, next_date="")
    assert result.state is S.ASKED_IMPROVEMENT


@pytest.mark.parametrize("verdict", ["yes", "partly", "no"])
def test_a_verdict_is_stored_and_asks_why(verdict: str) -> None:
    result = step(
        probed(S.ASKED_HYPOTHESIS, score=4),
        press("hypothesis", verdict),
        now=NOW,
        next_date="",
    )
    assert result.state is S.ASKED_WHY
    assert result.answer is not None
    assert (result.answer.question, result.answer.value) == ("hypothesis", verdict)
    assert result.outcome.replies[0].key == "checkin.ask_why"


def test_why_or_a_skipped_probe_goes_on_to_contact_or_thanks() -> None:
    low = step(probed(S.ASKED_WHY, score=2), Typed("Always late"), now=NOW, next_date="")
    assert low.state is S.ASKED_CONTACT
    assert low.answer is not None
    assert (low.answer.question, low.answer.value) == ("why", "Always late")
    happy = step(probed(S.ASKED_WHY, score=5), press("why", "skip"), now=NOW, next_date="1 Jan")
    assert happy.state is S.DONE
    skipped = step(
        probed(S.ASKED_HYPOTHESIS, score=5), press("hypothesis", "skip"), now=NOW, next_date=""
    )
    assert skipped.state is S.DONE
    assert skipped.answer is not None
    assert skipped.answer.skipped


def test_text_at_the_probe_is_told_to_use_its_buttons() -> None:
    result = step(probed(S.ASKED_HYPOTHESIS, score=4), Typed("yes!"), now=NOW, next_date="")
    assert result.answer is None
    assert result.outcome.notice is not None
    assert result.outcome.notice.key == "checkin.use_hypothesis_buttons"


def test_probe_buttons_parse_and_odd_ones_do_not() -> None:
    found = parse_press("ci:4:hyp:partly", 7)
    assert found is not None
    assert (found.invitation_id, found.question, found.value) == (4, "hypothesis", "partly")
    assert parse_press("ci:4:hyp:maybe", 7) is None
    assert parse_press("ci:4:skip:why", 7) is not None


def test_a_question_asked_again_carries_the_probe() -> None:
    asked = question_reply(probed(S.ASKED_HYPOTHESIS))
    assert asked.params == {"text": "Deliveries worry me"}


PEOPLE = [Person(300 + i, f"Q{i}", "nl" if i % 2 else "en") for i in range(6)]


async def add_hypotheses(app: PulseApplication, telegram: FakeTelegram) -> None:
    await reply(app, telegram, ADMIN, "/hypothesis add Deliveries are our customers' worry")
    await reply(app, telegram, ADMIN, "/hypothesis text 1 nl Leveringen zijn de zorg van klanten")
    await reply(app, telegram, ADMIN, "/hypothesis add general Prices are the real issue")


async def test_a_round_spreads_the_active_hypotheses_evenly(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await add_hypotheses(app, telegram)
    await enroll_directly(app, PEOPLE)
    round_id = await round_now(app, clock)
    given = [
        i.hypothesis_id
        for i in await services_of(app).db.read(lambda conn: invitations.for_round(conn, round_id))
    ]
    assert sorted(h or 0 for h in given) == [1, 1, 1, 2, 2, 2]


async def test_a_customer_answers_the_probe_in_their_language_and_the_digest_counts_it(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await reply(app, telegram, ADMIN, "/hypothesis add Deliveries are our customers' worry")
    await reply(app, telegram, ADMIN, "/hypothesis text 1 nl Leveringen zijn de zorg van klanten")
    await enroll_directly(app, PEOPLE)
    clock._now = TUESDAY_10
    await round_now(app, clock)
    for k, person in enumerate(PEOPLE):
        inv = await invitation_of(app, person.id)
        await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:4"))
        await handle(app, builders.message(app.bot, person, "Planning"))
        if k == 1:
            assert "Leveringen zijn de zorg van klanten" in telegram.last_text(person.id)
        verdict = ("yes", "yes", "partly", "no", "yes", "yes")[k]
        await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:hyp:{verdict}"))
        assert "Why is that?" in telegram.last_text(person.id) or "Waarom?" in telegram.last_text(
            person.id
        )
        if k == 0:
            await handle(app, builders.message(app.bot, person, "Trucks <always> late"))
        else:
            await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:why"))
    tally = (await services_of(app).db.read(hypotheses.tallies))[1]
    assert (tally.yes, tally.partly, tally.no) == (4, 1, 1)
    exported = io.StringIO()
    await write_csv(services_of(app).db, exported, ZoneInfo("Europe/Amsterdam"))
    rows = list(csv.DictReader(io.StringIO(exported.getvalue())))
    probes = [r for r in rows if r["question"] in ("hypothesis", "why")]
    assert len(probes) == 12
    assert {r["hypothesis"] for r in probes} == {"#1"}
    assert {r["hypothesis"] for r in rows if r["question"] == "score"} == {""}

    # Monday 23 November 09:01 in Amsterdam: the weekly digest.
    clock._now = TUESDAY_10 + timedelta(days=5, hours=23, minutes=1)
    before = len(telegram.calls)
    await run_due_digest(services_of(app))
    text = "\n".join(
        str(c.params["text"])
        for c in telegram.calls[before:]
        if c.method == "sendMessage" and int(c.params["chat_id"]) == ADMIN.id
    )
    assert "<b>#1</b> “Deliveries are our customers' worry”: needs more answers" in text
    assert "This week 4 yes · 1 partly · 1 no. Over 6 answers, 75 % recognise it" in text
    assert "Why: “Trucks &lt;always&gt; late”" in text


async def test_a_hypothesis_set_to_retire_after_n_answers_is_not_asked_again(
    app: PulseApplication, telegram: FakeTelegram, clock: ManualClock
) -> None:
    await reply(app, telegram, ADMIN, "/hypothesis add Deliveries worry customers")
    await reply(app, telegram, ADMIN, "/hypothesis retire 1 after 1")
    await enroll_directly(app, PEOPLE[:1])
    clock._now = TUESDAY_10
    await round_now(app, clock)
    person = PEOPLE[0]
    inv = await invitation_of(app, person.id)
    assert inv.hypothesis_id == 1
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:score:4"))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:skip:challenge"))
    await handle(app, builders.press(app.bot, person, f"ci:{inv.id}:hyp:no"))
    await enroll_directly(app, PEOPLE[1:3])
    clock.advance(timedelta(days=1))
    second = await round_now(app, clock)

    def asked(conn: sqlite3.Connection) -> tuple[Hypothesis, list[Invitation]]:
        return hypotheses.get(conn, 1), invitations.for_round(conn, second)

    retired, invited = await services_of(app).db.read(asked)
    assert retired.status is HypothesisStatus.RETIRED
    assert [i.hypothesis_id for i in invited] == [
        None,
        None,
    ]
