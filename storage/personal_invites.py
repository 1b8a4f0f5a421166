"""Personal invite links: one-time deep-link tokens for customers of the base, of which only
a hash is stored, and the record each one opens."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from storage.customer_base import join
from storage.db import fetch_one


def new_token() -> str:
    """An unguessable deep-link payload (Telegram's alphabet; 144 random bits)."""
    return secrets.token_urlsafe(18)


def token_hash(token: str) -> str:
    """What is stored of a token: its SHA-256 (a random token needs no salt or stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class PersonalInvite:
    """A personal link and the record it is for, as /start and consent need them."""

    id: int
    base_id: int
    expires_at: int
    used_at: int | None
    used_by: int | None
    joined_user_id: int | None  # the account the record is joined to now
    gone: bool
    segment_id: int
    language: str


def create_invites(
    conn: sqlite3.Connection,
    base_ids: Sequence[int],
    *,
    created_by: int | None,
    now: int,
    expires_at: int,
) -> list[str]:
    """A new personal link token for each record, in order; only their hashes are stored."""
    tokens = [new_token() for _ in base_ids]
    conn.executemany(
        "INSERT INTO personal_invites (token_hash, base_id, created_by, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [
            (token_hash(token), base_id, created_by, now, expires_at)
            for token, base_id in zip(tokens, base_ids, strict=True)
        ],
    )
    return tokens


_INVITE = (
    "SELECT p.id, p.base_id, p.expires_at, p.used_at, p.used_by, b.user_id,"
    " b.gone_at IS NOT NULL, b.segment_id, b.language"
    " FROM personal_invites p JOIN base_customers b ON b.id = p.base_id"
)


def _invite(row: sqlite3.Row) -> PersonalInvite:
    return PersonalInvite(
        int(row[0]),
        int(row[1]),
        int(row[2]),
        row[3],
        row[4],
        row[5],
        bool(row[6]),
        int(row[7]),
        str(row[8]),
    )


def find_invite(conn: sqlite3.Connection, token: str) -> PersonalInvite | None:
    """The personal link this token opens, or None."""
    row = fetch_one(conn, f"{_INVITE} WHERE p.token_hash = ?", (token_hash(token),))
    return None if row is None else _invite(row)


def get_invite(conn: sqlite3.Connection, invite_id: int) -> PersonalInvite | None:
    """The personal link with this id, or None."""
    row = fetch_one(conn, f"{_INVITE} WHERE p.id = ?", (invite_id,))
    return None if row is None else _invite(row)


def use_invite(conn: sqlite3.Connection, invite: PersonalInvite, user_id: int, now: int) -> None:
    """Marks a link used by this account and joins the account to its record."""
    conn.execute(
        "UPDATE personal_invites SET used_at = ?, used_by = ? WHERE id = ?",
        (now, user_id, invite.id),
    )
    join(conn, invite.base_id, user_id, now)
