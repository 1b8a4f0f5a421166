"""The check-in conversation as pure transitions: score, challenge, improvement (or the
probe of a hypothesis and why), contact.

`step()` takes an invitation and an event and returns the new state, the answer to store
and what to say; `conversations.checkin_service` commits the first two before the bot says
the third.
"""

from __future__ import annotations

import re
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
# "ci:<invitation id>:<action>[:<argument>]"; the handler's pattern and the parser agree.
PRESS_DATA = re.compile(r"^ci:(\d{1,18}):(score|notnow|skip|contact|hyp)(?::([a-z0-9]+))?$")
VERDICTS = ("yes", "partly", "no")

Question = Literal["score", "challenge", "improvement", "hypothesis", "why", "contact"]
QUESTION_OF_STATE: dict[CheckinState, Question] = {
    CheckinState.ASKED_SCORE: "score",
    CheckinState.ASKED_CHALLENGE: "challenge",
    CheckinState.ASKED_IMPROVEMENT: "improvement",
    CheckinState.ASKED_HYPOTHESIS: "hypothesis",
    CheckinState.ASKED_WHY: "why",
    CheckinState.ASKED_CONTACT: "contact",
}
# The questions answered in free text (or skipped).
FREE_TEXT: tuple[Question, ...] = ("challenge", "improvement", "why")


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
    if action == "score" and argument in {str(s) for s in SCORES}:
        return Pressed(user_id, invitation_id, "score", argument)
    if action == "notnow" and not argument:
        return Pressed(user_id, invitation_id, "score", "notnow")
    if action == "skip" and argument in ("challenge", "improvement", "hypothesis", "why"):
        return Pressed(user_id, invitation_id, argument, "skip")  # type: ignore[arg-type]
    if action == "hyp" and argument in VERDICTS:
        return Pressed(user_id, invitation_id, "hypothesis", argument)
    if action == "contact" and argument in ("yes", "no"):
        return Pressed(user_id, invitation_id, "contact", argument)
    return None


# --- what to say ----------------------------------------------------------------------


def score_buttons(invitation_id: int) -> tuple[tuple[Button, ...], ...]:
    """1–5 with faces on one row, "Not now" beneath."""
    scores = tuple(Button(f"checkin.score_{s}", f"ci:{invitation_id}:score:{s}") for s in SCORES)
    return (scores, (Button("checkin.not_now", f"ci:{invitation_id}:notnow"),))


def skip_button(invitation_id: int, question: Question) -> tuple[tuple[Button, ...], ...]:
    return ((Button("checkin.skip", f"ci:{invitation_id}:skip:{question}"),),)


def contact_buttons(invitation_id: int) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button("checkin.contact_yes", f"ci:{invitation_id}:contact:yes"),
            Button("checkin.contact_no", f"ci:{invitation_id}:contact:no"),
        ),
    )


def hypothesis_buttons(invitation_id: int) -> tuple[tuple[Button, ...], ...]:
    """Yes / partly / no on one row, Skip beneath."""
    verdicts = tuple(
        Button(f"checkin.hyp_{v}", f"ci:{invitation_id}:hyp:{v}") for v in VERDICTS
    )
    return (verdicts, *skip_button(invitation_id, "hypothesis"))


def first_question(invitation: Invitation, first_name: str) -> Reply:
    """The message that opens a check-in."""
    return Reply(
        "checkin.invite",
        invitation.language,
        {"name": first_name},
        score_buttons(invitation.id),
    )


def reminder(invitation: Invitation) -> Reply:
    """The one reminder, with the same buttons."""
    return Reply("checkin.reminder", invitation.language, buttons=score_buttons(invitation.id))


def question_reply(invitation: Invitation, state: CheckinState | None = None) -> Reply:
    """The question asked in `state` (by default the invitation's own)."""
    state = state or invitation.state
    invitation_id, language = invitation.id, invitation.language
    if state is CheckinState.ASKED_HYPOTHESIS:
        return Reply(
            "checkin.ask_hypothesis",
            language,
            {"text": invitation.probe or ""},
            hypothesis_buttons(invitation_id),
        )
    if state is CheckinState.ASKED_WHY:
        return Reply("checkin.ask_why", language, buttons=skip_button(invitation_id, "why"))
    if state is CheckinState.ASKED_CHALLENGE:
        return Reply(
            "checkin.ask_challenge", language, buttons=skip_button(invitation_id, "challenge")
        )
    if state is CheckinState.ASKED_IMPROVEMENT:
        return Reply(
            "checkin.ask_improvement", language, buttons=skip_button(invitation_id, "improvement")
        )
    if state is CheckinState.ASKED_CONTACT:
        return Reply("checkin.ask_contact", language, buttons=contact_buttons(invitation_id))
    raise ValueError(f"no question is asked in state {state}")


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


# What typed text is told when the open question wants something else.
_NOT_TEXT: dict[Question, str] = {
    "score": "checkin.use_score_buttons",
    "challenge": "checkin.type_or_skip",
    "improvement": "checkin.type_or_skip",
    "contact": "checkin.use_contact_buttons",
    "hypothesis": "checkin.use_hypothesis_buttons",
    "why": "checkin.type_or_skip",
}


def _unchanged(
    invitation: Invitation, key: str, *, close: bool = False, reask: bool = False
) -> Step:
    """Nothing to commit; `key` explains why. With `reask`, a question of an open
    invitation that never reached its customer (the send after the answer before it
    failed) is asked now: the customer trying again is the moment they expect it."""
    notice = Reply(key, invitation.language)
    replies = (
        (question_reply(invitation),)
        if reask and invitation.unasked
        else ()
    )
    return Step(
        invitation.state,
        score=invitation.score,
        gave_challenge=invitation.gave_challenge,
        outcome=Outcome(replies, notice=notice, close_buttons=close),
    )


def _after_improvement(
    invitation: Invitation, score: int | None, gave_challenge: bool
) -> CheckinState:
    wants_contact_question = (score is not None and score <= CONTACT_SCORE) or gave_challenge
    return CheckinState.ASKED_CONTACT if wants_contact_question else CheckinState.DONE


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
    asked: Question | None = "score" if queued else QUESTION_OF_STATE.get(invitation.state)
    assert asked is not None  # every open state asks something
    if isinstance(event, Pressed):
        if event.question != asked:
            return _unchanged(invitation, "checkin.already_answered", close=True, reask=True)
        result = _press(invitation, event, now=now, next_date=next_date)
        return replace(result, delivered=queued)
    text = event.text.strip()
    if asked not in FREE_TEXT or not text:
        return _unchanged(invitation, _NOT_TEXT[asked], reask=True)
    if len(text) > MAX_ANSWER_CHARS:
        text = text[: MAX_ANSWER_CHARS - 1] + "…"
    return _advance(invitation, asked, text, now=now, next_date=next_date)


def _closed_key(invitation: Invitation) -> str:
    if invitation.state is CheckinState.EXPIRED:
        return "checkin.expired"
    return "checkin.already_answered"


def _press(invitation: Invitation, event: Pressed, *, now: int, next_date: str) -> Step:
    lang = invitation.language
    if event.question == "score" and event.value == "notnow":
        reply = Reply("checkin.declined", lang)
        return Step(
            CheckinState.DECLINED, outcome=Outcome((reply,), close_buttons=True), finished=True
        )
    if event.question == "score":
        score = int(event.value)
        answer = Answer(invitation.id, "score", event.value, False, now)
        next_state = CheckinState.ASKED_CHALLENGE
        reply = question_reply(invitation, next_state)
        return Step(next_state, answer, score, False, Outcome((reply,), close_buttons=True))
    if event.question == "contact":
        answer = Answer(invitation.id, "contact", event.value, False, now)
        reply = _thanks(lang, next_date)
        return Step(
            CheckinState.DONE,
            answer,
            invitation.score,
            invitation.gave_challenge,
            Outcome((reply,), close_buttons=True),
            finished=True,
        )
    if event.question == "hypothesis" and event.value in VERDICTS:
        answer = Answer(invitation.id, "hypothesis", event.value, False, now)
        reply = question_reply(invitation, CheckinState.ASKED_WHY)
        return Step(
            CheckinState.ASKED_WHY,
            answer,
            invitation.score,
            invitation.gave_challenge,
            Outcome((reply,), close_buttons=True),
        )
    return _advance(invitation, event.question, None, now=now, next_date=next_date)


def _advance(
    invitation: Invitation, question: Question, text: str | None, *, now: int, next_date: str
) -> Step:
    """A free-text question answered (`text`) or skipped (None)."""
    answer = Answer(invitation.id, question, text, text is None, now)
    gave_challenge = invitation.gave_challenge or (question == "challenge" and text is not None)
    score = invitation.score
    if question == "challenge":
        # The third question: the hypothesis the round gave this check-in, if any.
        next_state = (
            CheckinState.ASKED_HYPOTHESIS
            if invitation.hypothesis_id is not None
            else CheckinState.ASKED_IMPROVEMENT
        )
    else:
        next_state = _after_improvement(invitation, score, gave_challenge)
    # Buttons come off the question just answered, whether by text or by Skip.
    if next_state is CheckinState.DONE:
        reply = _thanks(invitation.language, next_date)
        return Step(
            next_state,
            answer,
            score,
            gave_challenge,
            Outcome((reply,), close_buttons=True),
            finished=True,
        )
    reply = question_reply(invitation, next_state)
    return Step(next_state, answer, score, gave_challenge, Outcome((reply,), close_buttons=True))
