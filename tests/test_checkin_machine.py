"""The check-in transitions as pure functions: every state against every event."""

from __future__ import annotations

from dataclasses import replace

import pytest

from conversations.checkin import (
    MAX_ANSWER_CHARS,
    Event,
    Pressed,
    Typed,
    parse_press,
    step,
)
from storage.invitations import CheckinState, Delivery, Invitation

NOW = 1_000_000
S = CheckinState


def invitation(
    state: CheckinState,
    *,
    score: int | None = None,
    challenge: bool = False,
    expires_at: int = NOW + 100,
    prompted: bool = True,
) -> Invitation:
    queued = state is CheckinState.QUEUED
    return Invitation(
        id=9,
        round_id=1,
        user_id=7,
        chat_id=7,
        segment_id=1,
        language="en",
        state=state,
        # Queued: recorded, and sent or not; the send was never recorded.
        delivery=Delivery.PENDING if queued else Delivery.SENT,
        score=score,
        gave_challenge=challenge,
        created_at=0,
        send_after=0,
        sent_at=None if queued else 0,
        message_id=None if queued else 1,
        attempts=1,
        reminded_at=None,
        expires_at=expires_at,
        answered_at=None,
        finished_at=None,
        prompted_state=(state if prompted else CheckinState.ASKED_SCORE) if not queued else None,
    )


def press(question: str, value: str, user_id: int = 7) -> Pressed:
    return Pressed(user_id, 9, question, value)  # type: ignore[arg-type]


def run(inv: Invitation, event: Event) -> tuple[CheckinState, str | None, str | None]:
    result = step(inv, event, now=NOW, next_date="1 January")
    answer = result.answer
    keys = [r.key for r in result.outcome.replies]
    notice = result.outcome.notice.key if result.outcome.notice else None
    return (
        result.state,
        (f"{answer.question}={answer.value}" if answer else None),
        (keys[0] if keys else notice),
    )


# (state, event, expected state, stored answer, first reply or notice key)
TABLE = [
    # Queued: the first question may have arrived without its send being recorded; a press
    # on its buttons proves it did.
    (S.QUEUED, press("score", "4"), S.ASKED_CHALLENGE, "score=4", "checkin.ask_challenge"),
    (S.QUEUED, press("score", "notnow"), S.DECLINED, None, "checkin.declined"),
    (S.QUEUED, Typed("great!"), S.QUEUED, None, "checkin.use_score_buttons"),
    (S.QUEUED, press("challenge", "skip"), S.QUEUED, None, "checkin.already_answered"),
    (S.QUEUED, press("contact", "yes"), S.QUEUED, None, "checkin.already_answered"),
    (S.ASKED_SCORE, press("score", "4"), S.ASKED_CHALLENGE, "score=4", "checkin.ask_challenge"),
    (S.ASKED_SCORE, press("score", "notnow"), S.DECLINED, None, "checkin.declined"),
    (S.ASKED_SCORE, Typed("great!"), S.ASKED_SCORE, None, "checkin.use_score_buttons"),
    (S.ASKED_SCORE, press("challenge", "skip"), S.ASKED_SCORE, None, "checkin.already_answered"),
    (S.ASKED_SCORE, press("contact", "yes"), S.ASKED_SCORE, None, "checkin.already_answered"),
    (
        S.ASKED_CHALLENGE,
        Typed("hiring"),
        S.ASKED_IMPROVEMENT,
        "challenge=hiring",
        "checkin.ask_improvement",
    ),
    (
        S.ASKED_CHALLENGE,
        press("challenge", "skip"),
        S.ASKED_IMPROVEMENT,
        "challenge=None",
        "checkin.ask_improvement",
    ),
    (S.ASKED_CHALLENGE, press("score", "5"), S.ASKED_CHALLENGE, None, "checkin.already_answered"),
    (S.ASKED_CHALLENGE, Typed("   "), S.ASKED_CHALLENGE, None, "checkin.type_or_skip"),
    (
        S.ASKED_IMPROVEMENT,
        press("improvement", "skip"),
        S.DONE,
        "improvement=None",
        "checkin.thanks",
    ),
    (S.ASKED_IMPROVEMENT, Typed("faster"), S.DONE, "improvement=faster", "checkin.thanks"),
    (
        S.ASKED_IMPROVEMENT,
        press("challenge", "skip"),
        S.ASKED_IMPROVEMENT,
        None,
        "checkin.already_answered",
    ),
    (S.ASKED_CONTACT, press("contact", "yes"), S.DONE, "contact=yes", "checkin.thanks"),
    (S.ASKED_CONTACT, press("contact", "no"), S.DONE, "contact=no", "checkin.thanks"),
    (S.ASKED_CONTACT, Typed("call me"), S.ASKED_CONTACT, None, "checkin.use_contact_buttons"),
    (S.DONE, press("score", "3"), S.DONE, None, "checkin.already_answered"),
    (S.DECLINED, press("score", "3"), S.DECLINED, None, "checkin.already_answered"),
    (S.EXPIRED, press("score", "3"), S.EXPIRED, None, "checkin.expired"),
    (S.STOPPED, press("score", "3"), S.STOPPED, None, "checkin.already_answered"),
    (S.FAILED, press("score", "3"), S.FAILED, None, "checkin.already_answered"),
]


@pytest.mark.parametrize(("state", "event", "expected", "answer", "says"), TABLE)
def test_every_state_and_event(
    state: CheckinState, event: Event, expected: CheckinState, answer: str | None, says: str
) -> None:
    assert run(invitation(state, score=5), event) == (expected, answer, says)


@pytest.mark.parametrize(
    ("event", "delivered"),
    [(press("score", "4"), True), (press("score", "notnow"), True), (Typed("4"), False)],
)
def test_an_answer_to_a_queued_invitation_records_it_as_delivered(
    event: Event, delivered: bool
) -> None:
    assert step(invitation(S.QUEUED), event, now=NOW, next_date="x").delivered is delivered
    assert not step(invitation(S.ASKED_SCORE), event, now=NOW, next_date="x").delivered


# A question committed but never sent (its send failed): what the customer does next.
UNASKED = [
    (S.ASKED_CHALLENGE, press("score", "4"), "checkin.ask_challenge"),
    (S.ASKED_IMPROVEMENT, press("challenge", "skip"), "checkin.ask_improvement"),
    (S.ASKED_CONTACT, press("improvement", "skip"), "checkin.ask_contact"),
    (S.ASKED_CONTACT, Typed("call me"), "checkin.ask_contact"),
]


@pytest.mark.parametrize(("state", "event", "asks"), UNASKED)
def test_the_customer_trying_again_gets_the_question_that_never_arrived(
    state: CheckinState, event: Event, asks: str
) -> None:
    result = step(invitation(state, score=2, prompted=False), event, now=NOW, next_date="x")
    assert (result.state, result.changes) == (state, False)
    assert [r.key for r in result.outcome.replies] == [asks]


@pytest.mark.parametrize(("state", "event", "asks"), UNASKED)
def test_a_question_that_did_arrive_is_not_asked_again(
    state: CheckinState, event: Event, asks: str
) -> None:
    result = step(invitation(state, score=2), event, now=NOW, next_date="x")
    assert result.outcome.replies == ()


@pytest.mark.parametrize(
    ("score", "challenge", "expected"),
    [
        (5, False, S.DONE),
        (4, False, S.DONE),
        (3, False, S.ASKED_CONTACT),
        (1, False, S.ASKED_CONTACT),
        (5, True, S.ASKED_CONTACT),
    ],
)
def test_the_contact_question_comes_for_a_low_score_or_a_challenge(
    score: int, challenge: bool, expected: CheckinState
) -> None:
    result = step(
        invitation(S.ASKED_IMPROVEMENT, score=score, challenge=challenge),
        press("improvement", "skip"),
        now=NOW,
        next_date="x",
    )
    assert result.state is expected


def test_typing_a_challenge_counts_as_giving_one() -> None:
    result = step(
        invitation(S.ASKED_CHALLENGE, score=5), Typed("cash flow"), now=NOW, next_date="x"
    )
    assert result.gave_challenge
    after = step(
        replace(invitation(S.ASKED_IMPROVEMENT, score=5), gave_challenge=True),
        press("improvement", "skip"),
        now=NOW,
        next_date="x",
    )
    assert after.state is S.ASKED_CONTACT


def test_a_press_by_someone_else_changes_nothing() -> None:
    result = step(
        invitation(S.ASKED_SCORE), press("score", "2", user_id=8), now=NOW, next_date="x"
    )
    assert (result.state, result.answer, result.changes) == (S.ASKED_SCORE, None, False)
    assert result.outcome.notice is not None
    assert result.outcome.notice.key == "checkin.not_yours"


def test_a_press_after_expiry_changes_nothing() -> None:
    result = step(
        invitation(S.ASKED_SCORE, expires_at=NOW), press("score", "2"), now=NOW, next_date="x"
    )
    assert not result.changes
    assert result.outcome.notice is not None
    assert result.outcome.notice.key == "checkin.expired"


def test_over_long_text_is_cut_to_the_documented_limit() -> None:
    result = step(invitation(S.ASKED_CHALLENGE), Typed("x" * 5000), now=NOW, next_date="x")
    assert result.answer is not None
    assert result.answer.value is not None
    assert len(result.answer.value) == MAX_ANSWER_CHARS
    assert result.answer.value.endswith("…")


def test_the_thanks_says_when_the_customer_may_hear_from_us_again() -> None:
    result = step(
        invitation(S.ASKED_CONTACT), press("contact", "no"), now=NOW, next_date="22 December"
    )
    assert dict(result.outcome.replies[0].params) == {"date": "22 December"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("ci:9:score:3", Pressed(7, 9, "score", "3")),
        ("ci:9:notnow", Pressed(7, 9, "score", "notnow")),
        ("ci:9:skip:challenge", Pressed(7, 9, "challenge", "skip")),
        ("ci:9:contact:no", Pressed(7, 9, "contact", "no")),
        ("ci:9:score:6", None),
        ("ci:9:score", None),
        ("ci:9:skip:score", None),
        ("ci:x:score:3", None),
        ("ci:9:contact:maybe", None),
    ],
)
def test_callback_data_is_parsed_strictly(data: str, expected: Pressed | None) -> None:
    assert parse_press(data, 7) == expected
