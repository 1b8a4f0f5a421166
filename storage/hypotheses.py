"""Hypotheses the check-ins probe: their wording per language, their segment, whether they
are active, and the answers they gathered."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from storage import audit
from storage.db import fetch_all, fetch_one


class HypothesisNotFound(LookupError):
    """No hypothesis has that id."""


class HypothesisStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass(frozen=True)
class Hypothesis:
    id: int
    segment_id: int | None
    text_nl: str
    text_en: str
    status: HypothesisStatus
    retire_after: int | None
    created_by: int | None
    created_at: int
    retired_at: int | None

    def text(self, language: str) -> str:
        """The wording in a language (Dutch, or English for every other)."""
        return self.text_nl if language == "nl" else self.text_en


@dataclass(frozen=True)
class Tally:
    """How one hypothesis was answered: yes, partly, no."""

    hypothesis_id: int
    yes: int
    partly: int
    no: int

    @property
    def total(self) -> int:
        """Every answer."""
        return self.yes + self.partly + self.no


@dataclass(frozen=True)
class Why:
    """A free-text "why" given after answering a hypothesis."""

    hypothesis_id: int
    verdict: str
    text: str
    language: str


_COLUMNS = (
    "id, segment_id, text_nl, text_en, status, retire_after, created_by, created_at, retired_at"
)


def _hypothesis(row: sqlite3.Row) -> Hypothesis:
    values = dict(row)
    values["status"] = HypothesisStatus(values["status"])
    return Hypothesis(**values)


def create(
    conn: sqlite3.Connection,
    *,
    segment_id: int | None,
    text: str,
    actor_id: int,
    now: int,
) -> Hypothesis:
    """Records an active hypothesis, worded the same in both languages until reworded."""
    cursor = conn.execute(
        "INSERT INTO hypotheses (segment_id, text_nl, text_en, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (segment_id, text, text, actor_id, now),
    )
    assert cursor.lastrowid is not None
    audit.record(
        conn,
        at=now,
        actor_id=actor_id,
        action="hypothesis.add",
        subject=f"#{cursor.lastrowid}",
        new_value=text,
    )
    return get(conn, cursor.lastrowid)


def find(conn: sqlite3.Connection, hypothesis_id: int) -> Hypothesis | None:
    """The hypothesis with this id, or None."""
    row = fetch_one(conn, f"SELECT {_COLUMNS} FROM hypotheses WHERE id = ?", (hypothesis_id,))
    return None if row is None else _hypothesis(row)


def get(conn: sqlite3.Connection, hypothesis_id: int) -> Hypothesis:
    """The hypothesis with this id; raises HypothesisNotFound."""
    found = find(conn, hypothesis_id)
    if found is None:
        raise HypothesisNotFound(hypothesis_id)
    return found


def list_all(conn: sqlite3.Connection) -> list[Hypothesis]:
    """Every hypothesis, active ones first, oldest first."""
    return [
        _hypothesis(row)
        for row in fetch_all(
            conn, f"SELECT {_COLUMNS} FROM hypotheses ORDER BY status = 'retired', id"
        )
    ]


def reword(
    conn: sqlite3.Connection,
    hypothesis_id: int,
    language: str,
    text: str,
    *,
    actor_id: int,
    now: int,
) -> str:
    """Changes one language's wording; returns the old one."""
    old = (get(conn, hypothesis_id)).text(language)
    column = "text_nl" if language == "nl" else "text_en"
    conn.execute(f"UPDATE hypotheses SET {column} = ? WHERE id = ?", (text, hypothesis_id))
    audit.record(
        conn,
        at=now,
        actor_id=actor_id,
        action="hypothesis.text",
        subject=f"#{hypothesis_id} {language}",
        old_value=old,
        new_value=text,
    )
    return old


def retire(
    conn: sqlite3.Connection, hypothesis_id: int, *, actor_id: int | None, now: int
) -> bool:
    """Retires an active hypothesis; False when it was retired already."""
    cursor = conn.execute(
        "UPDATE hypotheses SET status = 'retired', retired_at = ?"
        " WHERE id = ? AND status = 'active'",
        (now, hypothesis_id),
    )
    if cursor.rowcount != 1:
        return False
    audit.record(
        conn,
        at=now,
        actor_id=actor_id,
        action="hypothesis.retire",
        subject=f"#{hypothesis_id}",
        old_value="active",
        new_value="retired",
    )
    return True


def set_retire_after(
    conn: sqlite3.Connection,
    hypothesis_id: int,
    answers: int | None,
    *,
    actor_id: int,
    now: int,
) -> None:
    """Makes the hypothesis retire itself once it has `answers` answers (None: never)."""
    old = (get(conn, hypothesis_id)).retire_after
    conn.execute("UPDATE hypotheses SET retire_after = ? WHERE id = ?", (answers, hypothesis_id))
    audit.record(
        conn,
        at=now,
        actor_id=actor_id,
        action="hypothesis.retire_after",
        subject=f"#{hypothesis_id}",
        old_value=None if old is None else str(old),
        new_value=None if answers is None else str(answers),
    )


def tallies(
    conn: sqlite3.Connection, start: int | None = None, end: int | None = None
) -> dict[int, Tally]:
    """Yes / partly / no per hypothesis, for answers given in [start, end) (all by default)."""
    return {
        int(r[0]): Tally(int(r[0]), int(r[1] or 0), int(r[2] or 0), int(r[3] or 0))
        for r in fetch_all(
            conn,
            "SELECT i.hypothesis_id, SUM(a.value = 'yes'), SUM(a.value = 'partly'),"
            " SUM(a.value = 'no') FROM answers a JOIN invitations i ON i.id = a.invitation_id"
            " WHERE a.question = 'hypothesis' AND a.skipped = 0 AND i.hypothesis_id IS NOT NULL"
            " AND a.answered_at >= ? AND a.answered_at < ? GROUP BY i.hypothesis_id",
            (start if start is not None else 0, end if end is not None else 2**62),
        )
    }


def whys(conn: sqlite3.Connection, start: int, end: int) -> list[Why]:
    """The "why" answers given in [start, end), with the verdict they explain."""
    return [
        Why(int(r[0]), str(r[1] or ""), str(r[2]), str(r[3]))
        for r in fetch_all(
            conn,
            "SELECT i.hypothesis_id, v.value, a.value, i.language FROM answers a"
            " JOIN invitations i ON i.id = a.invitation_id"
            " LEFT JOIN answers v ON v.invitation_id = i.id AND v.question = 'hypothesis'"
            " WHERE a.question = 'why' AND a.skipped = 0 AND a.value IS NOT NULL"
            " AND i.hypothesis_id IS NOT NULL AND a.answered_at >= ? AND a.answered_at < ?"
            " ORDER BY a.id",
            (start, end),
        )
    ]


def assignments(conn: sqlite3.Connection) -> dict[int, int]:
    """How many invitations each active hypothesis was given to: rotation evens these out."""
    return {
        int(r[0]): int(r[1])
        for r in fetch_all(
            conn,
            "SELECT h.id, COUNT(i.id) FROM hypotheses h"
            " LEFT JOIN invitations i ON i.hypothesis_id = h.id"
            " WHERE h.status = 'active' GROUP BY h.id",
        )
    }


def active(conn: sqlite3.Connection) -> list[Hypothesis]:
    """The active hypotheses, oldest first."""
    return [
        _hypothesis(row)
        for row in fetch_all(
            conn, f"SELECT {_COLUMNS} FROM hypotheses WHERE status = 'active' ORDER BY id"
        )
    ]


def assign(conn: sqlite3.Connection, pairs: list[tuple[int, int]]) -> None:
    """Gives invitations their hypothesis: (invitation id, hypothesis id) pairs."""
    conn.executemany(
        "UPDATE invitations SET hypothesis_id = ? WHERE id = ?",
        [(hypothesis_id, invitation_id) for invitation_id, hypothesis_id in pairs],
    )
