"""Invite links: one per segment, creating the segment on first use, audited."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.common.segment_names import clean_segment_name
from storage import audit, segments
from storage.db import Database
from storage.segments import Segment


@dataclass(frozen=True)
class Invite:
    segment: Segment
    code: str
    segment_created: bool

    def link(self, bot_username: str) -> str:
        """The deep link a customer opens: it sends `/start <code>` to the bot."""
        return f"https://t.me/{bot_username}?start={self.code}"


async def invite_for(db: Database, raw_name: str, *, actor_id: int, now: int) -> Invite:
    """The segment's invite code, creating the segment and the code when they are new."""
    name = clean_segment_name(raw_name)

    def find_or_create(conn: sqlite3.Connection) -> Invite:
        segment = segments.find_by_name(conn, name)
        created = segment is None
        if segment is None:
            segment = segments.create(conn, name, now=now)
            audit.record(
                conn,
                at=now,
                actor_id=actor_id,
                action="segment.create",
                subject=segment.name,
                new_value=segment.name,
            )
        code = segments.find_active_code(conn, segment.id)
        if code is None:
            code = segments.create_code(conn, segment.id, created_by=actor_id, now=now)
            audit.record(
                conn, at=now, actor_id=actor_id, action="invite.create", subject=segment.name
            )
        return Invite(segment=segment, code=code.code, segment_created=created)

    return await db.write(find_or_create)
