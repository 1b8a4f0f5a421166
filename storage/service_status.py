"""What an operator's dashboard reads from the database: backlogs, totals, last runs."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from storage.db import fetch_one
from storage.invitations import OPEN_STATES

# The states of a check-in still waiting for the customer, as the invitations define them.
_OPEN = ", ".join(f"'{state.value}'" for state in OPEN_STATES)


@dataclass(frozen=True)
class ServiceStatus:
    """One reading; times are epoch seconds, None before the first."""

    answers: int
    checkins_open: int
    invitations_queued: int  # not yet sent to Telegram
    inbox_open: int  # updates recorded and not yet handled
    last_round_at: int | None
    last_digest_at: int | None


def read(conn: sqlite3.Connection) -> ServiceStatus:
    """Each figure from an index; about a millisecond each on a year of answers."""
    row = fetch_one(
        conn,
        "SELECT"
        " (SELECT COUNT(*) FROM answers),"
        f" (SELECT COUNT(*) FROM invitations WHERE state IN ({_OPEN})),"
        " (SELECT COUNT(*) FROM invitations WHERE delivery IN ('pending', 'sending')),"
        " (SELECT COUNT(*) FROM inbox WHERE done_at IS NULL),"
        " (SELECT MAX(started_at) FROM rounds),"
        " (SELECT MAX(sent_at) FROM digest_deliveries WHERE status = 'sent')",
    )
    assert row is not None
    return ServiceStatus(
        answers=int(row[0]),
        checkins_open=int(row[1]),
        invitations_queued=int(row[2]),
        inbox_open=int(row[3]),
        last_round_at=None if row[4] is None else int(row[4]),
        last_digest_at=None if row[5] is None else int(row[5]),
    )


def touch(raw: sqlite3.Connection, now: int) -> None:
    """A real write, for /healthz: one row, always the same one."""
    raw.execute(
        "INSERT INTO health (id, checked_at) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at",
        (now,),
    )
