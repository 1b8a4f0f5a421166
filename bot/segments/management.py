"""Segments as admins manage them: figures per segment, renaming, and removing one that
nothing refers to (a segment with customers or history is never removed)."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from bot.common.parsing import InvalidArgument, WrongUsage
from bot.common.segment_names import InvalidSegmentName, clean_segment_name
from storage import audit, segment_stats, segments
from storage.db import REPEATED, Database
from storage.segment_stats import SegmentFigures, SegmentUse
from storage.segments import DEFAULT_SEGMENT_ID, Segment

# How far back /segments counts the response to check-ins.
RESPONSE_PERIOD = timedelta(days=90)
_ARROW = re.compile(r"\s*(?:->|→|=>)\s*")


class SegmentInUse(ValueError):
    """The segment still has customers, consent questions out, or check-in history."""

    def __init__(self, segment: Segment, use: SegmentUse) -> None:
        super().__init__(segment.name)
        self.segment = segment
        self.use = use


class DefaultSegment(ValueError):
    """The default segment (for /start without a link) cannot be removed."""


@dataclass(frozen=True)
class Renamed:
    old: str
    new: str


async def overview(db: Database, now: int) -> list[SegmentFigures]:
    """Every segment with its customers, invite code and response in the recent period."""
    since = now - int(RESPONSE_PERIOD.total_seconds())
    return await db.scan(lambda conn: segment_stats.figures(conn, since))


def split_rename(text: str, names: list[str]) -> tuple[str, str]:
    """`<old> -> <new>`, or without the arrow `<old> <new>` where <old> is an existing
    segment's name (the longest that fits, so names with spaces work too)."""
    parts = _ARROW.split(text.strip(), maxsplit=1)
    if len(parts) == 2:
        if not parts[0] or not parts[1]:
            raise WrongUsage(text)
        return parts[0], parts[1]
    words = text.split()
    known = {" ".join(name.split()).lower() for name in names}
    for cut in range(len(words) - 1, 0, -1):
        if " ".join(words[:cut]).lower() in known:
            return " ".join(words[:cut]), " ".join(words[cut:])
    if len(words) == 2:
        return words[0], words[1]
    raise WrongUsage(text)


async def rename(
    db: Database, old_name: str, new_name: str, *, actor_id: int, now: int
) -> Renamed | None:
    """Renames a segment (its invite links keep working); None when already done."""
    try:
        name = clean_segment_name(new_name)
    except InvalidSegmentName:
        raise InvalidArgument("segment_name", value=new_name) from None

    def rename_and_audit(conn: sqlite3.Connection) -> Renamed:
        segment = segments.find_by_name(conn, " ".join(old_name.split()))
        if segment is None:
            raise InvalidArgument("unknown_segment", value=old_name)
        taken = segments.find_by_name(conn, name)
        if taken is not None and taken.id != segment.id:
            raise InvalidArgument("segment_taken", value=name)
        if segment.name == name:
            return Renamed(segment.name, name)
        segments.rename(conn, segment.id, name)
        audit.record(
            conn,
            at=now,
            actor_id=actor_id,
            action="segment.rename",
            subject=segment.name,
            old_value=segment.name,
            new_value=name,
        )
        return Renamed(segment.name, name)

    done = await db.write_once(rename_and_audit)
    return None if done is REPEATED else done


async def remove(db: Database, name: str, *, actor_id: int, now: int) -> Segment | None:
    """Removes a segment nothing refers to, and its invite links; None when already done."""

    def delete_and_audit(conn: sqlite3.Connection) -> Segment:
        segment = segments.find_by_name(conn, " ".join(name.split()))
        if segment is None:
            raise InvalidArgument("unknown_segment", value=name)
        if segment.id == DEFAULT_SEGMENT_ID:
            raise DefaultSegment(segment.name)
        use = segment_stats.use_of(conn, segment.id)
        if use.in_use:
            raise SegmentInUse(segment, use)
        segments.delete(conn, segment.id)
        audit.record(
            conn,
            at=now,
            actor_id=actor_id,
            action="segment.remove",
            subject=segment.name,
            old_value=segment.name,
        )
        return segment

    done = await db.write_once(delete_and_audit)
    return None if done is REPEATED else done
