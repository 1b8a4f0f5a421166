"""The check-in conversation as pure transitions: score, challenge, improvement (or the
probe of a hypothesis and why), contact.

The questions are data (`QUESTIONS`: how each is asked and answered, its buttons, what
comes after it, what its answer means for the contact question); `parse_press`, the
buttons, `question_reply` and `step` interpret them and name no question.

`step()` takes an invitation and an event and returns the new state, the answer to store
and what to say; `conversations.checkin_service` commits the first two before the bot says
the third.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from conversations.replies import Button, Outcome, Reply
from storage.invitations import Answer, CheckinState, Invitation

# Free-text answers longer than this are cut here (and stored, with an ellipsis).
MAX_ANSWER_CHARS = 2000
# Score at or below which (or when a challenge was given) we ask whether someone may call.
CONTACT_SCORE = 3
SCORES = (1, 2, 3, 4, 5)
FACES = {1: "😞", 2: "🙁", 3: "😐", 4: "🙂", 5: "😄"}
VERDICTS = ("yes", "partly", "no")

Question = Literal["score", "challenge", "improvement", "hypothesis", "why", "contact"]


# --- the questions, as data --------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What the next question depends on: the check-in so far, and whether the question
    just left was answered (False: skipped)."""

    invitation: Invitation
    score: int | None
    gave_challenge: bool
    answered: bool


def contact_or_done(asked: Asked) -> CheckinState:
    """The contact question after a low score or a challenge, else the end."""
    low = asked.score is not None and asked.score <= CONTACT_SCORE
    return CheckinState.ASKED_CONTACT if low or asked.gave_challenge else CheckinState.DONE


@dataclass(frozen=True)
class QuestionSpec:
    """One question of the check-in: how it is asked and answered, and what comes next.
    The machine below interprets these; it knows no question by name."""

    name: Question
    state: CheckinState  # the invitation's state while this question waits for its answer
    # Its text (catalog key); empty for the score, which the invitation itself asks.
    ask: str
    # The answers on buttons, on one row (their labels are `label` + value; callback data
    # `ci:<id>:<action>:<value>`); none: answered in free text.
    choices: tuple[str, ...]
    action: str
    label: str
    # What typed text is told while this question waits (a free-text one takes it).
    not_text: str
    then: Callable[[Asked], CheckinState]
    skippable: bool = False  # a Skip button beneath
    # A "Not now" button beneath (catalog key): the customer declines the whole check-in.
    decline: str | None = None
    scored: bool = False  # the answer is the check-in's score
    challenge: bool = False  # a typed answer counts as a challenge (for the contact question)
    probe: bool = False  # the text shows the hypothesis the round gave this check-in

    @property
    def free_text(self) -> bool:
        return not self.choices


def _typed(
    name: Question,
    state: CheckinState,
    then: Callable[[Asked], CheckinState],
    *,
    challenge: bool = False,
) -> QuestionSpec:
    """A question answered in free text, or skipped: asked as `checkin.ask_<name>`."""
    return QuestionSpec(
        name,
        state,
        ask=f"checkin.ask_{name}",
        choices=(),
        action="skip",
        label="",
        not_text="checkin.type_or_skip",
        then=then,
        skippable=True,
        challenge=challenge,
    )


QUESTIONS: tuple[QuestionSpec, ...] = (
    QuestionSpec(
        "score",
        CheckinState.ASKED_SCORE,
        ask="",
        choices=tuple(str(s) for s in SCORES),
        action="score",
        label="checkin.score_",
        not_text="checkin.use_score_buttons",
        then=lambda asked: CheckinState.ASKED_CHALLENGE,
        decline="checkin.not_now",
        scored=True,
    ),
    _typed(
        "challenge",
        CheckinState.ASKED_CHALLENGE,
        # The third question: the hypothesis the round gave this check-in, if any.
        lambda asked: (
            CheckinState.ASKED_HYPOTHESIS
            if asked.invitation.hypothesis_id is not None
            else CheckinState.ASKED_IMPROVEMENT
        ),
        challenge=True,
    ),
    _typed("improvement", CheckinState.ASKED_IMPROVEMENT, contact_or_done),
    QuestionSpec(
        "hypothesis",
        CheckinState.ASKED_HYPOTHESIS,
        ask="checkin.ask_hypothesis",
        choices=VERDICTS,
        action="hyp",
        label="checkin.hyp_",
        not_text="checkin.use_hypothesis_buttons",
        # A verdict is followed by why; a skip skips the why too.
        then=lambda asked: CheckinState.ASKED_WHY if asked.answered else contact_or_done(asked),
        skippable=True,
        probe=True,
    ),
    _typed("why", CheckinState.ASKED_WHY, contact_or_done),
    QuestionSpec(
        "contact",
        CheckinState.ASKED_CONTACT,
        ask="checkin.ask_contact",
        choices=("yes", "no"),
        action="contact",
        label="checkin.contact_",
        not_text="checkin.use_contact_buttons",
        then=lambda asked: CheckinState.DONE,
    ),
)
# "ci:<invitation id>:<action>[:<argument>]"; the handler's pattern and the parser agree.
_ACTIONS = dict.fromkeys(["notnow", "skip", *(q.action for q in QUESTIONS if q.choices)])
PRESS_DATA = re.compile(r"^ci:(\d{1,18}):(" + "|".join(_ACTIONS) + r")(?::([a-z0-9]+))?$")
# The question each open state waits for the answer to.
QUESTION_IN: dict[CheckinState, QuestionSpec] = {q.state: q for q in QUESTIONS}


# --- events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pressed:
    """A button press, parsed from callback data; `user_id` is who pressed it."""

    user_id: int
    invitation_id: int
    question: Question
    value: str  # "1".."5", "notnow", "skip", "yes", "partly", "no"


@dataclass(frozen=True)
class Typed:
    """Free text from the customer."""

    text: str


Event = Pressed | Typed


def parse_press(data: str, user_id: int) -> Pressed | None:
    """The press event for callback data, or None when it is not a valid check-in button."""
    match = PRESS_DATA.match(data)
    if match is None:
        return None
    invitation_id, action, argument = int(match[1]), match[2], match[3] or ""
    for question in QUESTIONS:
        if action == "notnow" and question.decline and not argument:
            return Pressed(user_id, invitation_id, question.name, "notnow")
        if action == "skip" and question.skippable and argument == question.name:
            return Pressed(user_id, invitation_id, question.name, "skip")
        if question.choices and action == question.action and argument in question.choices:
            return Pressed(user_id, invitation_id, question.name, argument)
    return None


# --- what to say ----------------------------------------------------------------------


def buttons(invitation_id: int, question: QuestionSpec) -> tuple[tuple[Button, ...], ...]:
    """A question's buttons: its answers on one row, Skip or "Not now" beneath."""
    rows: list[tuple[Button, ...]] = []
    if question.choices:
        rows.append(
            tuple(
                Button(f"{question.label}{value}", f"ci:{invitation_id}:{question.action}:{value}")
                for value in question.choices
            )
        )
    if question.decline:
        rows.append((Button(question.decline, f"ci:{invitation_id}:notnow"),))
    if question.skippable:
        rows.append((Button("checkin.skip", f"ci:{invitation_id}:skip:{question.name}"),))
    return tuple(rows)


def first_question(invitation: Invitation, first_name: str) -> Reply:
    """The message that opens a check-in."""
    return Reply(
        "checkin.invite",
        invitation.language,
        {"name": first_name},
        buttons(invitation.id, QUESTIONS[0]),
    )


def reminder(invitation: Invitation) -> Reply:
    """The one reminder, with the same buttons."""
    return Reply(
        "checkin.reminder", invitation.language, buttons=buttons(invitation.id, QUESTIONS[0])
    )


def question_reply(invitation: Invitation, state: CheckinState | None = None) -> Reply:
    """The question asked in `state` (by default the invitation's own)."""
    state = state or invitation.state
    question = QUESTION_IN.get(state)
    if question is None or not question.ask:
        raise ValueError(f"no question is asked in state {state}")
    params = {"text": invitation.probe or ""} if question.probe else {}
    return Reply(question.ask, invitation.language, params, buttons(invitation.id, question))


# --- transitions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """The result of one event: what to commit and what to say afterwards."""

    state: CheckinState
    answer: Answer | None = None
    score: int | None = None
    gave_challenge: bool = False
    outcome: Outcome = field(default_factory=Outcome)
    finished: bool = False
    # A press on a queued invitation's buttons: its first question arrived, though its send
    # was never recorded (the process died in between); record it as sent.
    delivered: bool = False

    @property
    def changes(self) -> bool:
        """Whether anything is to be committed."""
        return self.answer is not None or self.finished


def _unchanged(
    invitation: Invitation, key: str, *, close: bool = False, reask: bool = False
) -> Step:
    """Nothing to commit; `key` explains why. With `reask`, a question of an open
    invitation that never reached its customer (the send after the answer before it
    failed) is asked now: the customer trying again is the moment they expect it."""
    notice = Reply(key, invitation.language)
    replies = (question_reply(invitation),) if reask and invitation.unasked else ()
    return Step(
        invitation.state,
        score=invitation.score,
        gave_challenge=invitation.gave_challenge,
        outcome=Outcome(replies, notice=notice, close_buttons=close),
    )


def _thanks(language: str, next_date: str) -> Reply:
    return Reply("checkin.thanks", language, {"date": next_date})


def step(invitation: Invitation, event: Event, *, now: int, next_date: str) -> Step:
    """Applies one event to an invitation.

    `next_date` is when the customer may hear from Pulse again, already formatted in their
    language, for the closing thank-you.
    """
    if isinstance(event, Pressed) and event.user_id != invitation.user_id:
        return _unchanged(invitation, "checkin.not_yours")
    if not invitation.is_open:
        return _unchanged(invitation, _closed_key(invitation), close=True)
    if invitation.expires_at <= now:
        return _unchanged(invitation, "checkin.expired", close=True)
    queued = invitation.state is CheckinState.QUEUED
    # Queued: the only buttons it can have are the first question's, the score.
    question = QUESTIONS[0] if queued else QUESTION_IN[invitation.state]
    if isinstance(event, Pressed):
        if event.question != question.name:
            return _unchanged(invitation, "checkin.already_answered", close=True, reask=True)
        result = _press(invitation, question, event.value, now=now, next_date=next_date)
        return replace(result, delivered=queued)
    text = event.text.strip()
    if not question.free_text or not text:
        return _unchanged(invitation, question.not_text, reask=True)
    if len(text) > MAX_ANSWER_CHARS:
        text = text[: MAX_ANSWER_CHARS - 1] + "…"
    return _answer(invitation, question, text, now=now, next_date=next_date)


def _closed_key(invitation: Invitation) -> str:
    if invitation.state is CheckinState.EXPIRED:
        return "checkin.expired"
    return "checkin.already_answered"


def _press(
    invitation: Invitation, question: QuestionSpec, value: str, *, now: int, next_date: str
) -> Step:
    if value == "notnow":
        reply = Reply("checkin.declined", invitation.language)
        return Step(
            CheckinState.DECLINED, outcome=Outcome((reply,), close_buttons=True), finished=True
        )
    answered = None if value == "skip" else value
    return _answer(invitation, question, answered, now=now, next_date=next_date)


def _answer(
    invitation: Invitation, question: QuestionSpec, value: str | None, *, now: int, next_date: str
) -> Step:
    """A question answered (`value`: the button's, or the text typed) or skipped (None),
    and the question its spec says comes next."""
    answer = Answer(invitation.id, question.name, value, value is None, now)
    score = int(value) if question.scored and value is not None else invitation.score
    gave_challenge = invitation.gave_challenge or (question.challenge and value is not None)
    next_state = question.then(Asked(invitation, score, gave_challenge, value is not None))
    done = next_state is CheckinState.DONE
    reply = (
        _thanks(invitation.language, next_date) if done else question_reply(invitation, next_state)
    )
    # Buttons come off the question just answered, whether by text, a button or Skip.
    outcome = Outcome((reply,), close_buttons=True)
    return Step(next_state, answer, score, gave_challenge, outcome, finished=done)
