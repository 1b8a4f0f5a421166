"""What a digest reads for one period: the trend window's counts, the free text, follow-ups,
hypotheses' tallies, earlier themes, the latest round's response rates and the coverage of
the customer base, all in one scan so the figures agree with each other."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from bot.checkins.allocation import RESPONSE_DAYS, ResponseRates, estimate_rates, settled_hours
from bot.clock import epoch
from bot.digest import embedding, trends
from bot.digest.period import Period, week_bounds
from storage import (
    customer_base,
    digest_data,
    hypotheses,
    runtime_settings,
    segment_stats,
    vectors,
)
from storage.customer_base import SegmentCoverage
from storage.db import Database
from storage.digest_data import FollowUpRow, SegmentInfo, TextAnswer, WeekSegmentCounts
from storage.hypotheses import Hypothesis, Tally, Why

# Follow-ups: customers who asked to be contacted or scored at most this.
LOW_SCORE = 2
# The free-text questions whose answers form themes.
QUESTIONS = ("challenge", "improvement")
# How far back "answered" reaches in the digest's comparison with the customer base.
BASE_ANSWER_DAYS = 90


@dataclass(frozen=True)
class DigestInput:
    """What the digest reads from the database for one period."""

    bounds: tuple[int, ...]  # the trend window's week bounds, oldest first
    counts: tuple[WeekSegmentCounts, ...]
    segments: tuple[SegmentInfo, ...]
    populations: dict[int, int]  # as the period's rounds recorded them
    texts: tuple[TextAnswer, ...]
    follow_ups: tuple[FollowUpRow, ...]
    hypotheses: tuple[Hypothesis, ...] = ()
    # Yes / partly / no per hypothesis: in the period, up to its end, up to its start.
    tallies_week: dict[int, Tally] | None = None
    tallies_to_end: dict[int, Tally] | None = None
    tallies_to_start: dict[int, Tally] | None = None
    whys: tuple[Why, ...] = ()
    # The themes of the four weeks before, per question, to tell a theme's trend.
    earlier_themes: dict[str, tuple[trends.Earlier, ...]] = field(default_factory=dict)
    # The response rates the period's latest round split its sample by (None: no round).
    rates: ResponseRates | None = None
    # Each segment against the customer base; empty when none is imported.
    coverage: tuple[SegmentCoverage, ...] = ()


async def read_input(
    db: Database, period: Period, zone: ZoneInfo, model: str = embedding.MODEL
) -> DigestInput:
    """Reads a period's rows (one scan: the figures agree with each other)."""
    bounds = tuple(epoch(moment) for moment in week_bounds(period, zone))
    start, end = epoch(period.start), epoch(period.end)
    # An hour early: a week before may have started an hour off across a DST change.
    since = start - trends.WEEKS_BEFORE * trends.WEEK - 3600

    def gather(conn: sqlite3.Connection) -> DigestInput:
        counts = digest_data.week_segment_counts(conn, bounds)
        segments = digest_data.segments(conn)
        populations = digest_data.populations(conn, start, end)
        latest = digest_data.latest_round_start(conn, start, end)
        rates = None
        if latest is not None:
            # The rates that round split its sample by, read again as it read them.
            expiry = runtime_settings.load(conn).expiry_hours
            history = segment_stats.response_history(
                conn, latest, RESPONSE_DAYS, settled_hours(expiry)
            )
            rates = estimate_rates(history)
        texts = digest_data.text_answers(conn, start, end, model)
        earlier = {
            question: tuple(
                trends.Earlier(t.id, embedding.from_bytes(t.centroid), t.counts)
                for t in vectors.recent_themes(conn, question, model, since)
            )
            for question in QUESTIONS
        }
        follow_ups = digest_data.follow_ups(conn, start, end, LOW_SCORE)
        known = hypotheses.list_all(conn)
        week = hypotheses.tallies(conn, start, end)
        to_end = hypotheses.tallies(conn, None, end)
        to_start = hypotheses.tallies(conn, None, start)
        whys = hypotheses.whys(conn, start, end)
        coverage = customer_base.segment_coverage(conn, end - BASE_ANSWER_DAYS * 86400, end)
        return DigestInput(
            bounds,
            tuple(counts),
            tuple(segments),
            populations,
            tuple(texts),
            tuple(follow_ups),
            tuple(known),
            week,
            to_end,
            to_start,
            tuple(whys),
            earlier,
            rates,
            tuple(coverage),
        )

    return await db.scan(gather)
