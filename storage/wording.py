"""Check-in question wording that admins changed, kept beside the runtime settings.

Stored in the `settings` table under `question.<question>.<language>` with a JSON string
value; a question without a row is worded as the language catalog words it.
"""

from __future__ import annotations

import json
import sqlite3

from storage import audit
from storage.db import fetch_all

PREFIX = "question."


def _key(question: str, language: str) -> str:
    return f"{PREFIX}{question}.{language}"


def load(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    """Every changed wording, by (question, language)."""
    rows = fetch_all(conn, "SELECT key, value FROM settings WHERE key LIKE 'question.%'")
    wording: dict[tuple[str, str], str] = {}
    for key, value in rows:
        question, _, language = str(key).removeprefix(PREFIX).partition(".")
        wording[question, language] = str(json.loads(value))
    return wording


def change(
    conn: sqlite3.Connection,
    question: str,
    language: str,
    text: str | None,
    *,
    actor_id: int,
    now: int,
    old: str,
    new: str,
) -> None:
    """Stores a wording (None: back to the catalog's) and audits it as old → new."""
    key = _key(question, language)
    if text is None:
        conn.execute("DELETE FROM settings WHERE key = ?", (key,))
    else:
        conn.execute(
            "INSERT INTO settings (key, value, updated_by, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
            (key, json.dumps(text, ensure_ascii=False), actor_id, now),
        )
    audit.record(
        conn,
        at=now,
        actor_id=actor_id,
        action="question.reset" if text is None else "question.set",
        subject=f"{question}/{language}",
        old_value=old,
        new_value=new,
    )
