"""Starting a check-in round: draw the sample and record the round and its invitations.

Everything is committed before anything is sent (invariant 2); `bot.sending.delivery` sends.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.checkins.allocation import RESPONSE_DAYS, estimate_rates, settled_hours
from bot.checkins.sampling import Sample, SkipReason, draw_sample
from bot.clock import epoch
from bot.common.quiet_hours import quiet_until
from bot.common.sample_size import parse_sample_size
from bot.hypotheses import book as hypothesis_book
from bot.hypotheses.evidence import Candidate as HypothesisCandidate
from bot.hypotheses.evidence import rotate
from storage import (
    customers,
    hypotheses,
    invitations,
    rounds,
    runtime_settings,
    segment_stats,
    segments,
)
from storage.db import REPEATED, Database
from storage.invitations import NewInvitation
from storage.rounds import Round, StratumRow

SCHEDULED = "checkin"


class AlreadyHandled(Exception):
    """The update that asks for this round started one before the bot restarted."""


@dataclass(frozen=True)
class RoundStarted:
    """A round that was just recorded, with its sample and the segment names for a report."""

    round: Round
    sample: Sample
    segment_names: dict[int, str]
    # With nobody reachable at all (no strata): how many stopped or blocked the bot, to
    # tell "nobody enrolled yet" from "everyone left".
    gone: int = 0


def seed_for(schedule: str, scheduled_for: int) -> int:
    """A seed fixed by the round's identity, so the same round always draws the same sample."""
    digest = hashlib.sha256(f"{schedule}@{scheduled_for}".encode()).digest()
    return int.from_bytes(digest[:7], "big")  # 56 bits: fits SQLite's signed integers


async def start_round(
    db: Database,
    *,
    schedule: str,
    scheduled_for: int,
    now: datetime,
    zone_name: str,
    started_by: int | None = None,
    segment_id: int | None = None,
    by_answers: bool = True,
) -> RoundStarted | None:
    """Draws and records a round; None when that (schedule, time) already has one.

    The sample is split by expected answers, each segment's response rate read from the
    check-ins of the last `RESPONSE_DAYS` (`by_answers=False`: by due customers alone, as
    the old split, kept for bench.pulse's comparison).

    Started from an update (/checkin_now), the round is that update's effect: handled again
    after a crash, it raises AlreadyHandled rather than starting a second round (the key
    of a manual round is the time it was asked, which a replay does not repeat).
    """
    stamp = epoch(now)

    def draw_and_record(conn: sqlite3.Connection) -> RoundStarted | None:
        if rounds.find(conn, schedule, scheduled_for) is not None:
            return None
        config = runtime_settings.load(conn)
        # An admin's /timezone overrides the zone the caller was configured with.
        zone = config.zone(zone_name)
        seed = seed_for(schedule, scheduled_for)
        history = segment_stats.response_history(
            conn, stamp, RESPONSE_DAYS, settled_hours(config.expiry_hours)
        )
        # Counted in SQL; chat and language are read for the sampled customers only, below.
        sample = draw_sample(
            conn,
            size=parse_sample_size(config.sample_size),
            now=stamp,
            cooldown_seconds=config.cooldown_days * 86400,
            seed=seed,
            segment_id=segment_id,
            notnow_seconds=config.notnow_days * 86400,
            rates=estimate_rates(history) if by_answers else None,
            stratify_by=config.sample_by,
        )
        recorded = rounds.create(
            conn,
            schedule=schedule,
            scheduled_for=scheduled_for,
            started_at=stamp,
            started_by=started_by,
            segment_id=segment_id,
            sample_size=config.sample_size,
            target=sample.target,
            seed=seed,
            skipped=(
                sample.skipped[SkipReason.PAUSED],
                sample.skipped[SkipReason.OPEN_INVITATION],
                sample.skipped[SkipReason.COOLDOWN],
            ),
            strata=[
                StratumRow(s.segment_id, s.population, s.eligible, s.invited)
                for s in sample.strata
            ],
        )
        assert recorded is not None  # checked above, inside the same transaction
        # Quiet hours hold the first question until the morning; expiry counts from then.
        quiet_end = quiet_until(now, zone, config.quiet_start, config.quiet_end)
        send_after = epoch(quiet_end) if quiet_end else stamp
        to = customers.contacts(conn, sample.user_ids)
        invitations.create_many(
            conn,
            recorded.id,
            [
                NewInvitation(u, to[u].chat_id, to[u].segment_id, to[u].language)
                for u in sample.user_ids
            ],
            now=stamp,
            send_after=send_after,
            expires_at=send_after + int(timedelta(hours=config.expiry_hours).total_seconds()),
        )
        _assign_hypotheses(conn, recorded.id, stamp)
        names = {s.id: s.name for s in segments.list_all(conn)}
        gone = 0 if sample.strata else customers.count_gone(conn, segment_id)
        return RoundStarted(recorded, sample, names, gone)

    # Thousands of invitations: on a worker thread, so the loop goes on meanwhile.
    started = await db.write_once(draw_and_record, long=True)
    if started is REPEATED:
        raise AlreadyHandled(schedule)
    return started


def _assign_hypotheses(conn: sqlite3.Connection, round_id: int, now: int) -> None:
    """Gives each invitation the active hypothesis for its segment asked least so far, so
    the third question probes it (in the same transaction as the invitations); one that
    has gathered the answers it was to retire at is retired first."""
    hypothesis_book.retire_answered(conn, now)
    active = hypotheses.active(conn)
    if not active:
        return
    asked = hypotheses.assignments(conn)
    candidates = [HypothesisCandidate(h.id, h.segment_id, asked.get(h.id, 0)) for h in active]
    recorded = invitations.for_round(conn, round_id)
    hypotheses.assign(conn, rotate([(i.id, i.segment_id) for i in recorded], candidates))
