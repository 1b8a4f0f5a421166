"""Segments (groups of customers sampled separately) and the invite codes that enroll into them."""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass

from storage.db import fetch_all, fetch_one

DEFAULT_SEGMENT_ID = 1


class SegmentNotFound(LookupError):
    """No segment has that id or name."""


@dataclass(frozen=True)
class Segment:
    id: int
    name: str
    created_at: int


@dataclass(frozen=True)
class InviteCode:
    code: str
    segment_id: int
    created_by: int
    created_at: int


def new_code() -> str:
    """An unguessable deep-link payload (Telegram allows A–Z, a–z, 0–9, _ and -)."""
    return secrets.token_urlsafe(12)


def find_by_name(conn: sqlite3.Connection, name: str) -> Segment | None:
    """The segment with this name (case-insensitive), or None."""
    row = fetch_one(conn, "SELECT id, name, created_at FROM segments WHERE name = ?", (name,))
    return None if row is None else Segment(**dict(row))


def get(conn: sqlite3.Connection, segment_id: int) -> Segment:
    """The segment with this id; raises SegmentNotFound."""
    row = fetch_one(conn, "SELECT id, name, created_at FROM segments WHERE id = ?", (segment_id,))
    if row is None:
        raise SegmentNotFound(segment_id)
    return Segment(**dict(row))


def create(conn: sqlite3.Connection, name: str, *, now: int) -> Segment:
    """Creates a segment; the caller has checked the name is free."""
    cursor = conn.execute("INSERT INTO segments (name, created_at) VALUES (?, ?)", (name, now))
    assert cursor.lastrowid is not None
    return get(conn, cursor.lastrowid)


def list_all(conn: sqlite3.Connection) -> list[Segment]:
    """Every segment, by name."""
    return [
        Segment(**dict(row))
        for row in fetch_all(conn, "SELECT id, name, created_at FROM segments ORDER BY name")
    ]


def find_by_code(conn: sqlite3.Connection, code: str) -> Segment | None:
    """The segment an unrevoked invite code enrolls into, or None."""
    row = fetch_one(
        conn,
        "SELECT s.id, s.name, s.created_at FROM invite_codes c"
        " JOIN segments s ON s.id = c.segment_id"
        " WHERE c.code = ? AND c.revoked_at IS NULL",
        (code,),
    )
    return None if row is None else Segment(**dict(row))


def find_active_code(conn: sqlite3.Connection, segment_id: int) -> InviteCode | None:
    """The segment's current invite code, or None."""
    row = fetch_one(
        conn,
        "SELECT code, segment_id, created_by, created_at FROM invite_codes"
        " WHERE segment_id = ? AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1",
        (segment_id,),
    )
    return None if row is None else InviteCode(**dict(row))


def create_code(
    conn: sqlite3.Connection, segment_id: int, *, created_by: int, now: int
) -> InviteCode:
    """Creates a new invite code for the segment."""
    code = InviteCode(new_code(), segment_id, created_by, now)
    conn.execute(
        "INSERT INTO invite_codes (code, segment_id, created_by, created_at) VALUES (?, ?, ?, ?)",
        (code.code, code.segment_id, code.created_by, code.created_at),
    )
    return code


def rename(conn: sqlite3.Connection, segment_id: int, name: str) -> None:
    """Gives a segment a new name; the caller has checked the name is free."""
    conn.execute("UPDATE segments SET name = ? WHERE id = ?", (name, segment_id))


def delete(conn: sqlite3.Connection, segment_id: int) -> None:
    """Deletes a segment and its invite codes; the caller has checked nothing refers to it."""
    conn.execute("DELETE FROM segments WHERE id = ?", (segment_id,))
