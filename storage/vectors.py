"""Sentence vectors of free-text answers and the themes' identities across weeks.

Vectors are float16 bytes, L2-normalised by whoever made them; this module only stores and
finds them. A vector is erased with its answer's words by a trigger (migration 0011).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import fetch_all
from storage.privacy import FREE_TEXT_QUESTIONS

_FREE_TEXT_SQL = "(" + ", ".join(f"'{q}'" for q in FREE_TEXT_QUESTIONS) + ")"


@dataclass(frozen=True)
class Unembedded:
    """A free-text answer that has no vector of the current model yet."""

    answer_id: int
    text: str


@dataclass(frozen=True)
class StoredTheme:
    """A theme a weekly digest found: its centroid and its counts by week."""

    id: int
    question: str
    centroid: bytes
    counts: dict[int, int]  # week start -> answers


def missing(
    conn: sqlite3.Connection, model: str, limit: int, *, since: int | None = None
) -> list[Unembedded]:
    """Free-text answers with words and no vector of `model`, oldest first (only those given
    at or after `since` when it is set)."""
    rows = fetch_all(
        conn,
        "SELECT a.id, a.value FROM answers a"
        " LEFT JOIN answer_vectors v ON v.answer_id = a.id AND v.model = ?"
        f" WHERE a.question IN {_FREE_TEXT_SQL} AND a.value IS NOT NULL AND v.answer_id IS NULL"
        " AND a.answered_at >= ? ORDER BY a.id LIMIT ?",
        (model, since if since is not None else 0, limit),
    )
    return [Unembedded(int(r[0]), str(r[1])) for r in rows]


def store(raw: sqlite3.Connection, model: str, vectors: Sequence[tuple[int, bytes]]) -> int:
    """Stores vectors of answers that still have these words (a short write); an answer
    erased meanwhile gets none. Returns how many were stored."""
    before = raw.total_changes
    raw.executemany(
        "INSERT OR REPLACE INTO answer_vectors (answer_id, model, vector)"
        " SELECT id, ?, ? FROM answers WHERE id = ? AND value IS NOT NULL",
        [(model, vector, answer_id) for answer_id, vector in vectors],
    )
    return raw.total_changes - before


def recent_themes(
    conn: sqlite3.Connection, question: str, model: str, since: int
) -> list[StoredTheme]:
    """The themes of `question` with answers in a week starting at or after `since`."""
    rows = fetch_all(
        conn,
        "SELECT t.id, t.centroid, w.week_start, w.count FROM themes t"
        " JOIN theme_weeks w ON w.theme_id = t.id"
        " WHERE t.question = ? AND t.model = ? AND w.week_start >= ?"
        " ORDER BY t.id, w.week_start",
        (question, model, since),
    )
    themes: dict[int, StoredTheme] = {}
    for r in rows:
        theme = themes.setdefault(int(r[0]), StoredTheme(int(r[0]), question, bytes(r[1]), {}))
        theme.counts[int(r[2])] = int(r[3])
    return list(themes.values())


@dataclass(frozen=True)
class WeekTheme:
    """A theme found in a week, to be recorded: the identity it matched (None: a new one),
    its centroid now, and its count."""

    theme_id: int | None
    centroid: bytes
    count: int


def record_week(
    raw: sqlite3.Connection,
    question: str,
    model: str,
    week_start: int,
    found: Sequence[WeekTheme],
    now: int,
) -> list[int]:
    """Records a week's themes of a question (a short write), replacing what an earlier run
    for the same week wrote; returns their ids in order."""
    raw.execute(
        "DELETE FROM theme_weeks WHERE week_start = ?"
        " AND theme_id IN (SELECT id FROM themes WHERE question = ?)",
        (week_start, question),
    )
    ids: list[int] = []
    for theme in found:
        if theme.theme_id is None:
            cursor = raw.execute(
                "INSERT INTO themes (question, model, centroid, created_at) VALUES (?, ?, ?, ?)",
                (question, model, theme.centroid, now),
            )
            theme_id = int(cursor.lastrowid or 0)
        else:
            theme_id = theme.theme_id
            raw.execute("UPDATE themes SET centroid = ? WHERE id = ?", (theme.centroid, theme_id))
        raw.execute(
            "INSERT INTO theme_weeks (theme_id, week_start, count) VALUES (?, ?, ?)",
            (theme_id, week_start, theme.count),
        )
        ids.append(theme_id)
    return ids
