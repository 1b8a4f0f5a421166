"""Invitations (one customer's check-in in one round: its state and delivery) and answers.
Sending the first question and its reminder is invitation_delivery.py's."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.db import fetch_all


class CheckinState(StrEnum):
    QUEUED = "queued"
    ASKED_SCORE = "asked_score"
    ASKED_CHALLENGE = "asked_challenge"
    ASKED_IMPROVEMENT = "asked_improvement"
    # Instead of the improvement question when a hypothesis is active for the customer.
    ASKED_HYPOTHESIS = "asked_hypothesis"
    ASKED_WHY = "asked_why"
    ASKED_CONTACT = "asked_contact"
    DONE = "done"
    DECLINED = "declined"
    EXPIRED = "expired"
    STOPPED = "stopped"
    FAILED = "failed"


# The questions that follow an answer (the first is the invitation itself, sent by delivery).
FOLLOW_UPS = (
    CheckinState.ASKED_CHALLENGE,
    CheckinState.ASKED_IMPROVEMENT,
    CheckinState.ASKED_HYPOTHESIS,
    CheckinState.ASKED_WHY,
    CheckinState.ASKED_CONTACT,
)
OPEN_STATES = (CheckinState.QUEUED, CheckinState.ASKED_SCORE, *FOLLOW_UPS)
_FOLLOW_UPS_SQL = "(" + ", ".join(f"'{state.value}'" for state in FOLLOW_UPS) + ")"
_OPEN_SQL = "(" + ", ".join(f"'{state.value}'" for state in OPEN_STATES) + ")"


class Delivery(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    # The send timed out: Telegram may have delivered it, so it is not sent again.
    UNCERTAIN = "uncertain"
    FAILED = "failed"


class InvitationNotFound(LookupError):
    """No invitation has that id."""


@dataclass(frozen=True)
class Invitation:
    id: int
    round_id: int
    user_id: int
    chat_id: int
    segment_id: int
    language: str
    state: CheckinState
    delivery: Delivery
    score: int | None
    gave_challenge: bool
    created_at: int
    send_after: int
    sent_at: int | None
    message_id: int | None
    attempts: int
    reminded_at: int | None
    expires_at: int
    answered_at: int | None
    finished_at: int | None
    # The state whose question last reached the customer; behind `state` while the question
    # of `state` is committed but not (yet) sent.
    prompted_state: CheckinState | None = None
    # The hypothesis its third question probes (None: "what could we do better?"), and its
    # wording in the invitation's language.
    hypothesis_id: int | None = None
    probe: str | None = None

    @property
    def is_open(self) -> bool:
        """Whether the conversation can still go on (before expiry)."""
        return self.state in OPEN_STATES

    @property
    def unasked(self) -> bool:
        """Whether the question of the current state was committed but never sent."""
        return self.state in FOLLOW_UPS and self.prompted_state is not self.state


@dataclass(frozen=True)
class NewInvitation:
    user_id: int
    chat_id: int
    segment_id: int
    language: str


@dataclass(frozen=True)
class Answer:
    invitation_id: int
    question: str
    value: str | None
    skipped: bool
    answered_at: int


_COLUMNS = (
    "id, round_id, user_id, chat_id, segment_id, language, state, delivery, score,"
    " gave_challenge, created_at, send_after, sent_at, message_id, attempts, reminded_at,"
    " expires_at, answered_at, finished_at, prompted_state, hypothesis_id,"
    # The probe's wording in the customer's language, read with the invitation because the
    # question it asks is built from it.
    " (SELECT CASE WHEN invitations.language = 'nl' THEN h.text_nl ELSE h.text_en END"
    " FROM hypotheses h WHERE h.id = invitations.hypothesis_id) AS probe"
)


_LATEST = "user_id = ? ORDER BY id DESC LIMIT 1"


def _invitation(row: sqlite3.Row) -> Invitation:
    values = dict(row)
    values["state"] = CheckinState(values["state"])
    values["delivery"] = Delivery(values["delivery"])
    values["gave_challenge"] = bool(values["gave_challenge"])
    prompted = values["prompted_state"]
    values["prompted_state"] = None if prompted is None else CheckinState(prompted)
    return Invitation(**values)


def select(conn: sqlite3.Connection, where: str, params: Sequence[object]) -> list[Invitation]:
    """The invitations matching `where` (a module constant, never user input)."""
    return [
        _invitation(row)
        for row in fetch_all(conn, f"SELECT {_COLUMNS} FROM invitations WHERE {where}", params)
    ]


def create_many(
    conn: sqlite3.Connection,
    round_id: int,
    people: Sequence[NewInvitation],
    *,
    now: int,
    send_after: int,
    expires_at: int,
) -> None:
    """Records a round's invitations (before anything is sent) and when each was asked."""
    conn.executemany(
        "INSERT INTO invitations (round_id, user_id, chat_id, segment_id, language, state,"
        " created_at, send_after, expires_at) VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
        [
            (round_id, p.user_id, p.chat_id, p.segment_id, p.language, now, send_after, expires_at)
            for p in people
        ],
    )
    conn.executemany(
        "UPDATE customers SET last_asked_at = ? WHERE user_id = ?",
        [(now, p.user_id) for p in people],
    )


def find(conn: sqlite3.Connection, invitation_id: int) -> Invitation | None:
    """The invitation with this id, or None."""
    found = select(conn, "id = ?", (invitation_id,))
    return found[0] if found else None


def mark_delivered(raw: sqlite3.Connection, invitation_id: int, *, now: int) -> None:
    """The customer pressed a button of the first question: it was delivered, whatever the
    sender recorded (a crash between the send and its record leaves it queued)."""
    raw.execute(
        "UPDATE invitations SET delivery = 'sent', sent_at = COALESCE(sent_at, ?),"
        " prompted_state = COALESCE(prompted_state, 'asked_score'), last_error = NULL"
        " WHERE id = ? AND delivery IN ('pending', 'sending')",
        (now, invitation_id),
    )


def save_step(
    raw: sqlite3.Connection,
    invitation: Invitation,
    *,
    state: CheckinState,
    answer: Answer | None,
    score: int | None,
    gave_challenge: bool,
    now: int,
) -> None:
    """Commits one conversation step: the answer and the new state together."""
    if answer is not None:
        raw.execute(
            "INSERT INTO answers (invitation_id, question, value, skipped, answered_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                answer.invitation_id,
                answer.question,
                answer.value,
                int(answer.skipped),
                answer.answered_at,
            ),
        )
    finished = now if state not in OPEN_STATES else None
    raw.execute(
        "UPDATE invitations SET state = ?, score = ?, gave_challenge = ?,"
        " answered_at = COALESCE(answered_at, ?), finished_at = ? WHERE id = ?",
        (
            state.value,
            score,
            int(gave_challenge),
            now if answer else None,
            finished,
            invitation.id,
        ),
    )
    if state is CheckinState.DECLINED:
        # "Not now" starts a shorter cool-down of its own (storage.eligibility.Eligibility).
        raw.execute(
            "UPDATE customers SET declined_at = ? WHERE user_id = ?", (now, invitation.user_id)
        )


def mark_prompted(raw: sqlite3.Connection, invitation_id: int, state: CheckinState) -> None:
    """The question of `state` reached the customer."""
    raw.execute(
        "UPDATE invitations SET prompted_state = ? WHERE id = ? AND state = ?",
        (state.value, invitation_id, state.value),
    )


def get(conn: sqlite3.Connection, invitation_id: int) -> Invitation:
    """The invitation with this id; raises InvitationNotFound."""
    found = find(conn, invitation_id)
    if found is None:
        raise InvitationNotFound(invitation_id)
    return found


def latest_for_user(conn: sqlite3.Connection, user_id: int) -> Invitation | None:
    """The customer's newest invitation, open or not, or None."""
    found = select(conn, _LATEST, (user_id,))
    return found[0] if found else None


def open_user_ids(conn: sqlite3.Connection) -> set[int]:
    """Customers with an invitation still open."""
    return {
        row[0]
        for row in fetch_all(
            conn, f"SELECT DISTINCT user_id FROM invitations WHERE state IN {_OPEN_SQL}"
        )
    }


def for_round(conn: sqlite3.Connection, round_id: int) -> list[Invitation]:
    """A round's invitations, by id."""
    return select(conn, "round_id = ? ORDER BY id", (round_id,))


def all_invitations(conn: sqlite3.Connection) -> list[Invitation]:
    """Every invitation, oldest first."""
    return select(conn, "1 = 1 ORDER BY id", ())


def unprompted(conn: sqlite3.Connection, now: int) -> list[Invitation]:
    """Open conversations whose current question was committed but never sent."""
    return select(
        conn,
        f"state IN {_FOLLOW_UPS_SQL}"
        " AND (prompted_state IS NULL OR prompted_state != state) AND expires_at > ?"
        " ORDER BY id",
        (now,),
    )


def expire_overdue(conn: sqlite3.Connection, now: int) -> int:
    """Ends every open invitation past its expiry; returns how many."""
    cursor = conn.execute(
        f"UPDATE invitations SET state = 'expired', finished_at = ?,"
        f" delivery = CASE WHEN delivery IN ('pending', 'sending') THEN 'failed' ELSE delivery END"
        f" WHERE state IN {_OPEN_SQL} AND expires_at <= ?",
        (now, now),
    )
    return cursor.rowcount


def close_open_for_user(
    conn: sqlite3.Connection, user_id: int, state: CheckinState, now: int
) -> int:
    """Ends a customer's open invitations (they stopped or blocked the bot)."""
    cursor = conn.execute(
        f"UPDATE invitations SET state = ?, finished_at = ?,"
        f" delivery = CASE WHEN delivery IN ('pending', 'sending') THEN 'failed' ELSE delivery END"
        f" WHERE user_id = ? AND state IN {_OPEN_SQL}",
        (state.value, now, user_id),
    )
    return cursor.rowcount


def answers_for(conn: sqlite3.Connection, invitation_id: int) -> list[Answer]:
    """An invitation's answers in the order given."""
    rows = fetch_all(
        conn,
        "SELECT invitation_id, question, value, skipped, answered_at FROM answers"
        " WHERE invitation_id = ? ORDER BY id",
        (invitation_id,),
    )
    return [
        Answer(r["invitation_id"], r["question"], r["value"], bool(r["skipped"]), r["answered_at"])
        for r in rows
    ]
