"""The team's hypotheses as admins keep them: added, reworded, retired (by hand or once
they have enough answers), each change audited and claimed once per update."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import partial

from bot.common.parsing import InvalidArgument
from bot.hypotheses.evidence import MAX_TEXT, Evidence, evidence
from storage import hypotheses, segments
from storage.db import REPEATED, Database
from storage.hypotheses import Hypothesis, HypothesisStatus, Tally


@dataclass(frozen=True)
class Listed:
    """A hypothesis with its segment's name and its evidence so far."""

    hypothesis: Hypothesis
    segment: str | None
    evidence: Evidence


def _checked(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise InvalidArgument("hypothesis_empty")
    if len(text) > MAX_TEXT:
        raise InvalidArgument("hypothesis_long", length=len(text), limit=MAX_TEXT)
    return text


async def add(
    db: Database, segment_name: str | None, text: str, *, actor_id: int, now: int
) -> Hypothesis | None:
    """Adds an active hypothesis; None when this update already added it."""
    text = _checked(text)

    def record(conn: sqlite3.Connection) -> Hypothesis:
        segment_id = None
        if segment_name is not None:
            segment = segments.find_by_name(conn, segment_name)
            if segment is None:  # a refusal rolls the claim back
                raise InvalidArgument("unknown_segment", value=segment_name)
            segment_id = segment.id
        return hypotheses.create(
            conn, segment_id=segment_id, text=text, actor_id=actor_id, now=now
        )

    added = await db.write_once(record)
    return None if added is REPEATED else added


async def _existing(db: Database, hypothesis_id: int) -> Hypothesis:
    found = await db.read(partial(hypotheses.find, hypothesis_id=hypothesis_id))
    if found is None:
        raise InvalidArgument("unknown_hypothesis", id=hypothesis_id)
    return found


async def reword(
    db: Database, hypothesis_id: int, language: str, text: str, *, actor_id: int, now: int
) -> tuple[str, str] | None:
    """Rewords one language; (old, new), or None when this update already did."""
    text = _checked(text)
    await _existing(db, hypothesis_id)

    def record(conn: sqlite3.Connection) -> str:
        return hypotheses.reword(conn, hypothesis_id, language, text, actor_id=actor_id, now=now)

    old = await db.write_once(record)
    return None if old is REPEATED else (old, text)


async def retire(db: Database, hypothesis_id: int, *, actor_id: int, now: int) -> bool:
    """Retires a hypothesis; False when it was retired already."""
    await _existing(db, hypothesis_id)

    def record(conn: sqlite3.Connection) -> bool:
        return hypotheses.retire(conn, hypothesis_id, actor_id=actor_id, now=now)

    retired = await db.write_once(record)
    return True if retired is REPEATED else retired


async def retire_after(
    db: Database, hypothesis_id: int, answers: int, *, actor_id: int, now: int
) -> Hypothesis:
    """Makes an active hypothesis retire itself once it has `answers` answers."""
    found = await _existing(db, hypothesis_id)
    if found.status is HypothesisStatus.RETIRED:
        raise InvalidArgument("hypothesis_retired", id=hypothesis_id)

    def record(conn: sqlite3.Connection) -> Hypothesis:
        hypotheses.set_retire_after(conn, hypothesis_id, answers, actor_id=actor_id, now=now)
        return hypotheses.get(conn, hypothesis_id)

    changed = await db.write_once(record)
    if changed is REPEATED:  # set by an earlier handling: the hypothesis as it stands
        return await db.read(partial(hypotheses.get, hypothesis_id=hypothesis_id))
    return changed


def retire_answered(conn: sqlite3.Connection, now: int) -> list[int]:
    """Retires the hypotheses that reached the number of answers they were set to retire
    at, inside the caller's transaction; returns their ids."""
    counts = hypotheses.tallies(conn)
    done = [
        h.id
        for h in hypotheses.active(conn)
        if h.retire_after is not None
        and counts.get(h.id, Tally(h.id, 0, 0, 0)).total >= h.retire_after
    ]
    for hypothesis_id in done:
        hypotheses.retire(conn, hypothesis_id, actor_id=None, now=now)
    return done


async def listing(db: Database) -> list[Listed]:
    """Every hypothesis with its evidence, active ones first."""

    def gather(
        conn: sqlite3.Connection,
    ) -> tuple[list[Hypothesis], dict[int, Tally], dict[int, str]]:
        found = hypotheses.list_all(conn)
        counts = hypotheses.tallies(conn)
        return found, counts, {s.id: s.name for s in segments.list_all(conn)}

    found, counts, names = await db.scan(gather)  # tallies every answer to a hypothesis
    return [
        Listed(
            h,
            names.get(h.segment_id) if h.segment_id is not None else None,
            evidence(counts.get(h.id, Tally(h.id, 0, 0, 0))),
        )
        for h in found
    ]
