"""What Pulse keeps about one customer, read out in full (/mydata), erased on request
(/forget, leaving an anonymous record behind), and free text dropped after its retention."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage import customer_base, customers, enrollments, invitations
from storage.customer_base import BaseCustomer
from storage.customers import Customer
from storage.db import fetch_all, fetch_one
from storage.enrollments import PendingEnrollment
from storage.invitations import Answer, CheckinState

# The answers customers type in their own words; the others are buttons.
FREE_TEXT_QUESTIONS = ("challenge", "improvement", "why")
_FREE_TEXT_SQL = "(" + ", ".join(f"'{q}'" for q in FREE_TEXT_QUESTIONS) + ")"


@dataclass(frozen=True)
class CheckinRecord:
    """One check-in of the customer with every answer they gave to it."""

    id: int
    created_at: int
    state: str
    score: int | None
    answered_at: int | None
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class ThreadMessage:
    """A message of a follow-up thread: the team's to the customer, or theirs back."""

    followup_id: int
    direction: str
    text: str
    created_at: int


@dataclass(frozen=True)
class CustomerData:
    """Everything stored about one Telegram user as a customer."""

    user_id: int
    customer: Customer | None
    segment: str | None
    pending: PendingEnrollment | None
    refusals: tuple[int, ...]  # when they said no to consent
    checkins: tuple[CheckinRecord, ...]
    messages: tuple[ThreadMessage, ...]
    # The company's record of them in the customer base, when their account is joined to one.
    base: BaseCustomer | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing at all is stored about them."""
        return (
            self.customer is None
            and self.pending is None
            and not self.refusals
            and not self.checkins
            and not self.messages
        )


@dataclass(frozen=True)
class Erased:
    """What /forget did: check-ins kept as anonymous, free-text answers erased."""

    kept_checkins: int
    erased_answers: int


@dataclass(frozen=True)
class StoredDigest:
    id: int
    figures: str
    text: str


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {
        str(row[0])
        for row in fetch_all(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
    }


def gather(conn: sqlite3.Connection, user_id: int) -> CustomerData:
    """Everything stored about this user as a customer, oldest check-in first."""
    customer = customers.find(conn, user_id)
    segment = None
    if customer is not None:
        row = fetch_one(conn, "SELECT name FROM segments WHERE id = ?", (customer.segment_id,))
        segment = None if row is None else str(row[0])
    refusals = tuple(
        int(row[0])
        for row in fetch_all(
            conn,
            "SELECT refused_at FROM consent_refusals WHERE user_id = ? ORDER BY refused_at",
            (user_id,),
        )
    )
    rows = fetch_all(
        conn,
        "SELECT id, created_at, state, score, answered_at FROM invitations"
        " WHERE user_id = ? ORDER BY id",
        (user_id,),
    )
    checkins: list[CheckinRecord] = []
    for r in rows:
        answers = tuple(invitations.answers_for(conn, int(r[0])))
        checkins.append(CheckinRecord(int(r[0]), int(r[1]), str(r[2]), r[3], r[4], answers))
    messages: tuple[ThreadMessage, ...] = ()
    if "followup_messages" in _tables(conn):
        messages = tuple(
            ThreadMessage(int(r[0]), str(r[1]), str(r[2]), int(r[3]))
            for r in fetch_all(
                conn,
                "SELECT m.followup_id, m.direction, m.text, m.created_at FROM followup_messages m"
                " JOIN followups f ON f.id = m.followup_id WHERE f.user_id = ? ORDER BY m.id",
                (user_id,),
            )
        )
    return CustomerData(
        user_id,
        customer,
        segment,
        enrollments.find_for_user(conn, user_id),
        refusals,
        tuple(checkins),
        messages,
        customer_base.find_for_user(conn, user_id),
    )


def erase(conn: sqlite3.Connection, user_id: int, *, now: int) -> Erased:
    """Erases the customer's personal data; their check-ins stay, re-pointed at a new
    anonymous record that nothing links back to them, so past figures do not change.

    Gone: the profile (name, handle, chat id), their free-text answers, pending consent
    and refusals, follow-up threads, deliveries of team updates, any handled inbox update
    of their chat, and the link between their account and a customer-base record.
    """
    invitations.close_open_for_user(conn, user_id, CheckinState.STOPPED, now)
    row = fetch_one(conn, "SELECT COUNT(*) FROM invitations WHERE user_id = ?", (user_id,))
    kept = int(row[0]) if row else 0
    cursor = conn.execute(
        f"UPDATE answers SET value = NULL WHERE question IN {_FREE_TEXT_SQL}"
        " AND value IS NOT NULL"
        " AND invitation_id IN (SELECT id FROM invitations WHERE user_id = ?)",
        (user_id,),
    )
    erased_answers = cursor.rowcount
    tables = _tables(conn)
    if "followups" in tables:
        thread = "followup_id IN (SELECT id FROM followups WHERE user_id = ?)"
        for table in ("followup_drafts", "followup_messages", "followup_alerts"):
            if table in tables:
                # Table names from the tuple above, never input.
                conn.execute(f"DELETE FROM {table} WHERE {thread}", (user_id,))
        conn.execute("DELETE FROM followups WHERE user_id = ?", (user_id,))
    if "tell_deliveries" in tables:
        conn.execute("DELETE FROM tell_deliveries WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM pending_enrollments WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM consent_refusals WHERE user_id = ?", (user_id,))
    # The company's record of them stays (it is the company's), joined to no account.
    customer_base.unlink_user(conn, user_id)
    # The update being handled (and any after it) is cleared as soon as it is handled.
    conn.execute(
        "UPDATE inbox SET chat_id = NULL, payload = NULL"
        " WHERE chat_id = ? AND done_at IS NOT NULL",
        (user_id,),
    )
    customer = customers.find(conn, user_id)
    if kept:
        # Negative ids are never Telegram's; taken in order, they say nothing about whom.
        anonymous = int(
            (
                fetch_one(conn, "SELECT MIN(COALESCE(MIN(user_id), 0), 0) - 1 FROM customers")
                or (-1,)
            )[0]
        )
        conn.execute(
            "INSERT INTO customers (user_id, chat_id, first_name, language, segment_id, status,"
            " consented_at, enrolled_at, updated_at)"
            " SELECT ?, ?, '', language, segment_id, 'stopped', 0, 0, 0 FROM invitations"
            " WHERE user_id = ? ORDER BY id DESC LIMIT 1",
            (anonymous, anonymous, user_id),
        )
        conn.execute(
            "UPDATE invitations SET user_id = ?, chat_id = ?, message_id = NULL,"
            " last_error = NULL WHERE user_id = ?",
            (anonymous, anonymous, user_id),
        )
    if customer is not None:
        conn.execute("DELETE FROM customers WHERE user_id = ?", (user_id,))
    return Erased(kept, erased_answers)


def erase_free_text(conn: sqlite3.Connection, before: int) -> int:
    """Erases free-text answers given before `before` (the retention limit); returns how
    many. The answer row stays, so it still counts as answered."""
    cursor = conn.execute(
        f"UPDATE answers SET value = NULL WHERE answered_at < ? AND question IN {_FREE_TEXT_SQL}"
        " AND value IS NOT NULL",
        (before,),
    )
    return cursor.rowcount


def stored_digests(conn: sqlite3.Connection) -> list[StoredDigest]:
    """Every stored digest's figures and text (to take a forgotten customer out of them)."""
    return [
        StoredDigest(int(r[0]), str(r[1]), str(r[2]))
        for r in fetch_all(conn, "SELECT id, figures, text FROM digests ORDER BY id")
    ]


def rewrite_digest(conn: sqlite3.Connection, digest_id: int, *, figures: str, text: str) -> None:
    """Replaces a stored digest's figures and text with a redacted copy."""
    conn.execute(
        "UPDATE digests SET figures = ?, text = ? WHERE id = ?", (figures, text, digest_id)
    )
