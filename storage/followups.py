"""Follow-up threads: one per check-in that alerted the team, the thread's state (open,
alerted, replied to, done) and the facts its alert shows. Its alert deliveries live in
followup_alerts.py, its messages and drafts in followup_messages.py."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from storage.db import fetch_all, fetch_one
from storage.invitations import OPEN_STATES, CheckinState


class FollowupStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class SendStatus(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class FollowupNotFound(LookupError):
    """No follow-up has that id."""


@dataclass(frozen=True)
class Followup:
    id: int
    invitation_id: int
    user_id: int
    reason: str  # "score" or "contact": what raised it first
    status: FollowupStatus
    created_at: int
    alert_after: int
    alerted_at: int | None
    shown_answers: int
    replier_id: int | None
    last_activity_at: int
    closed_at: int | None
    closed_by: int | None


@dataclass(frozen=True)
class Facts:
    """What the alert and /followups show about a thread's customer and check-in."""

    first_name: str
    last_name: str | None
    username: str | None
    language: str
    segment: str
    score: int | None
    # question -> stored value (None when skipped): score, challenge, improvement,
    # hypothesis, why, contact
    answers: dict[str, str | None]
    checked_in_at: int
    still_open: bool
    probe_nl: str | None
    probe_en: str | None
    # The customer-base record's id, so staff can open the account in their own system.
    external_id: str | None = None

    @property
    def wants_contact(self) -> bool:
        """Whether the customer answered yes to "May someone contact you?"."""
        return self.answers.get("contact") == "yes"


@dataclass(frozen=True)
class AlertState:
    """A check-in as alerts see it: its score, its contact answer, how many answers it
    has, and the thread it opened (if any)."""

    invitation_id: int
    score: int | None
    contact: str | None
    answers: int
    followup: Followup | None


_COLUMNS = (
    "id, invitation_id, user_id, reason, status, created_at, alert_after, alerted_at,"
    " shown_answers, replier_id, last_activity_at, closed_at, closed_by"
)


def _followup(row: sqlite3.Row) -> Followup:
    values = dict(row)
    values["status"] = FollowupStatus(values["status"])
    return Followup(**values)


def _select(conn: sqlite3.Connection, where: str, params: tuple[object, ...]) -> list[Followup]:
    return [
        _followup(row)
        for row in fetch_all(conn, f"SELECT {_COLUMNS} FROM followups WHERE {where}", params)
    ]


# --- threads ----------------------------------------------------------------------------


def create(
    raw: sqlite3.Connection,
    *,
    invitation_id: int,
    user_id: int,
    reason: str,
    now: int,
    alert_after: int,
) -> bool:
    """Opens the thread of a check-in; False when it has one already (nothing changes).

    A short write, like the alerts' other writes: a burst of unhappy answers makes them
    the busiest writes after the answers."""
    cursor = raw.execute(
        "INSERT INTO followups (invitation_id, user_id, reason, created_at, alert_after,"
        " last_activity_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (invitation_id) DO NOTHING",
        (invitation_id, user_id, reason, now, alert_after, now),
    )
    return cursor.rowcount == 1


def find(conn: sqlite3.Connection, followup_id: int) -> Followup | None:
    """The thread with this id, or None."""
    found = _select(conn, "id = ?", (followup_id,))
    return found[0] if found else None


def get(conn: sqlite3.Connection, followup_id: int) -> Followup:
    """The thread with this id; raises FollowupNotFound."""
    found = find(conn, followup_id)
    if found is None:
        raise FollowupNotFound(followup_id)
    return found


def find_for_invitation(conn: sqlite3.Connection, invitation_id: int) -> Followup | None:
    """The thread a check-in opened, or None."""
    found = _select(conn, "invitation_id = ?", (invitation_id,))
    return found[0] if found else None


def waiting_for_customer(conn: sqlite3.Connection, user_id: int) -> Followup | None:
    """The customer's open thread that a team member wrote in most recently, or None: where
    the customer's own messages go."""
    found = _select(
        conn,
        "user_id = ? AND status = 'open' AND replier_id IS NOT NULL"
        " ORDER BY last_activity_at DESC, id DESC LIMIT 1",
        (user_id,),
    )
    return found[0] if found else None


def held(conn: sqlite3.Connection, now: int) -> list[Followup]:
    """Open threads whose alert is due and not yet sent (held for staff quiet hours, or
    interrupted before it went out), oldest first."""
    return _select(
        conn, "alerted_at IS NULL AND alert_after <= ? AND status = 'open' ORDER BY id", (now,)
    )


def listing(conn: sqlite3.Connection, status: FollowupStatus, limit: int) -> list[Followup]:
    """Threads with this status, the most recently active first."""
    return _select(
        conn,
        "status = ? ORDER BY last_activity_at DESC, id DESC LIMIT ?",
        (status.value, limit),
    )


def count(conn: sqlite3.Connection, status: FollowupStatus) -> int:
    """How many threads have this status."""
    row = fetch_one(conn, "SELECT COUNT(*) FROM followups WHERE status = ?", (status.value,))
    return int(row[0]) if row else 0


def facts(conn: sqlite3.Connection, followup: Followup) -> Facts:
    """The customer and their check-in's answers, as stored now."""
    row = fetch_one(
        conn,
        "SELECT c.first_name, c.last_name, c.username, c.language, s.name AS segment,"
        " i.score, i.created_at, i.state,"
        " h.text_nl AS probe_nl, h.text_en AS probe_en, b.external_id"
        " FROM invitations i JOIN customers c ON c.user_id = i.user_id"
        " JOIN segments s ON s.id = i.segment_id"
        " LEFT JOIN hypotheses h ON h.id = i.hypothesis_id"
        " LEFT JOIN base_customers b ON b.user_id = i.user_id"
        " WHERE i.id = ?",
        (followup.invitation_id,),
    )
    if row is None:
        raise FollowupNotFound(followup.id)
    answers = {
        str(r[0]): r[1]
        for r in fetch_all(
            conn,
            "SELECT question, value FROM answers WHERE invitation_id = ? ORDER BY id",
            (followup.invitation_id,),
        )
    }
    return Facts(
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language=row["language"],
        segment=row["segment"],
        score=row["score"],
        answers=answers,
        checked_in_at=row["created_at"],
        still_open=CheckinState(row["state"]) in OPEN_STATES,
        probe_nl=row["probe_nl"],
        probe_en=row["probe_en"],
        external_id=row["external_id"],
    )


def checkin_question_open(conn: sqlite3.Connection, user_id: int, now: int) -> bool:
    """Whether the customer's newest check-in has a question out that text could answer
    (a check-in answer always goes before a follow-up)."""
    row = fetch_one(
        conn,
        "SELECT state, sent_at, expires_at FROM invitations WHERE user_id = ?"
        " ORDER BY id DESC LIMIT 1",
        (user_id,),
    )
    if row is None or row["sent_at"] is None or row["expires_at"] <= now:
        return False
    return CheckinState(row["state"]) in OPEN_STATES


def alert_state(
    conn: sqlite3.Connection, user_id: int, invitation_id: int | None
) -> AlertState | None:
    """The customer's check-in `invitation_id` (None: their newest), or None when they have
    no such check-in."""
    row = fetch_one(
        conn,
        "SELECT i.id, i.score,"
        " (SELECT value FROM answers a WHERE a.invitation_id = i.id AND a.question = 'contact'),"
        " (SELECT COUNT(*) FROM answers a WHERE a.invitation_id = i.id)"
        " FROM invitations i WHERE i.user_id = ? AND (? IS NULL OR i.id = ?)"
        " ORDER BY i.id DESC LIMIT 1",
        (user_id, invitation_id, invitation_id),
    )
    if row is None:
        return None
    followup = find_for_invitation(conn, int(row[0]))
    return AlertState(int(row[0]), row[1], row[2], int(row[3]), followup)


def show_answers(raw: sqlite3.Connection, followup_id: int, answers: int) -> bool:
    """Records that the alerts now show `answers` answers; False when they showed as many
    already (another handling of the same answer edited them)."""
    cursor = raw.execute(
        "UPDATE followups SET shown_answers = ? WHERE id = ? AND shown_answers < ?",
        (answers, followup_id, answers),
    )
    return cursor.rowcount == 1


def touch(conn: sqlite3.Connection, followup_id: int, now: int) -> None:
    """Records activity in a thread now."""
    conn.execute("UPDATE followups SET last_activity_at = ? WHERE id = ?", (now, followup_id))


def close(conn: sqlite3.Connection, followup_id: int, *, actor_id: int, now: int) -> bool:
    """Marks a thread done; False when it was done already. Its drafts are dropped."""
    cursor = conn.execute(
        "UPDATE followups SET status = 'done', closed_at = ?, closed_by = ?,"
        " last_activity_at = ? WHERE id = ? AND status = 'open'",
        (now, actor_id, now, followup_id),
    )
    if cursor.rowcount != 1:
        return False
    conn.execute("DELETE FROM followup_drafts WHERE followup_id = ?", (followup_id,))
    return True
