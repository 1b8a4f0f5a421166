"""Assembling a period's digest figures: pure functions over what reading.py read
(`DigestInput`) work out the statistics, the weighted score, the silent and low-response
segments, coverage, themes and hypotheses; `collect` reads and assembles in one call."""

from __future__ import annotations

from statistics import median
from zoneinfo import ZoneInfo

from bot.clock import epoch
from bot.common import excerpts
from bot.digest import embedding, statistics, themes, trends, weighting
from bot.digest.answer_vectors import AnswerVectors
from bot.digest.figures import (
    BaseFigures,
    DigestFigures,
    FollowUp,
    HypothesisFigures,
    LowResponseFigures,
    MissingFigures,
    SegmentFigures,
    SilentFigures,
    ThemeFigures,
    WeekFigures,
)
from bot.digest.period import Period
from bot.digest.reading import DigestInput, read_input
from bot.digest.statistics import NO_SCORES, Scores, SegmentHistory
from bot.digest.weighting import DEFAULT_INTERVAL, Interval, Stratum
from bot.hypotheses.evidence import evidence
from storage.customer_base import SegmentCoverage
from storage.db import Database
from storage.digest_data import WeekSegmentCounts
from storage.hypotheses import HypothesisStatus, Tally

# A segment whose enrolled share of its base is under this part of the median is flagged.
THIN_ENROLMENT = 0.5


def _name(first_name: str | None, username: str | None) -> str | None:
    return first_name or (f"@{username}" if username else None)


def _themes(data: DigestInput, question: str) -> tuple[ThemeFigures, ...]:
    chosen = [a for a in data.texts if a.question == question]
    found = themes.find_themes(
        (
            themes.Answer(
                k,
                a.text,
                a.language,
                a.contact,
                embedding.view(a.vector) if a.vector is not None else None,
            )
            for k, a in enumerate(chosen)
        ),
    )
    by_meaning = [t for t in found if t.centroid is not None]
    matched = (
        trends.match(
            [t.centroid for t in by_meaning if t.centroid is not None],
            [t.count for t in by_meaning],
            data.earlier_themes.get(question, ()),
            data.bounds[-2],
        )
        if len(by_meaning) == len(found)
        else [None] * len(found)
    )
    figures: list[ThemeFigures] = []
    for theme, match in zip(found, matched, strict=True):
        source = chosen[theme.quote.answer_id]
        # Quotes are anonymous unless the customer agreed to be contacted.
        quoted = _name(source.first_name, source.username) if source.contact else None
        figures.append(
            ThemeFigures(
                dict(theme.labels),
                theme.count,
                theme.quote.text,
                quoted,
                match.trend.value if match is not None else None,
                match.theme_id if match is not None else None,
                embedding.to_bytes(theme.centroid).hex() if theme.centroid is not None else None,
            )
        )
    return tuple(figures)


def _hypotheses(data: DigestInput) -> tuple[HypothesisFigures, ...]:
    week = data.tallies_week or {}
    to_end = data.tallies_to_end or {}
    to_start = data.tallies_to_start or {}
    shown: list[HypothesisFigures] = []
    for h in data.hypotheses:
        this_week = week.get(h.id, Tally(h.id, 0, 0, 0))
        # Retired ones stay while they still gather late answers; else they have left.
        if h.status is HypothesisStatus.RETIRED and this_week.total == 0:
            continue
        now = evidence(to_end.get(h.id, Tally(h.id, 0, 0, 0)))
        before = evidence(to_start.get(h.id, Tally(h.id, 0, 0, 0)))
        quote = next(
            (excerpts.trim_quote(w.text) for w in data.whys if w.hypothesis_id == h.id), None
        )
        shown.append(
            HypothesisFigures(
                h.id,
                h.text_nl,
                h.text_en,
                this_week.yes,
                this_week.partly,
                this_week.no,
                now,
                statistics.change(now.share, before.share),
                quote,
            )
        )
    return tuple(shown)


def frame_sizes(data: DigestInput) -> dict[int, int]:
    """Each segment's size in the frame the pulse is weighted against: the imported customer
    base where there is one (with the enrolled customers who have no record there), else
    as the period's rounds recorded it, else its reachable customers now."""
    if data.coverage:
        # Not the enrolled alone: a segment few of whose customers enrolled keeps its weight.
        return {c.segment_id: c.base for c in data.coverage}
    return {s.id: data.populations.get(s.id, s.customers) for s in data.segments}


def weighted(
    data: DigestInput, interval: Interval = DEFAULT_INTERVAL
) -> weighting.Weighted | None:
    """The period's score weighted by each segment's share of the base, over every segment
    with customers or scores (bench.pulse compares the `interval` methods on it)."""
    weeks = len(data.bounds) - 1
    by_segment: dict[int, dict[int, Scores]] = {}
    for row in data.counts:
        by_segment.setdefault(row.segment_id, {})[row.week] = row.scores
    population = frame_sizes(data)
    for segment_id in by_segment:
        population.setdefault(segment_id, 0)
    strata = [
        Stratum(
            size,
            by_segment.get(segment_id, {}).get(weeks - 1, NO_SCORES),
            tuple(
                scores
                for week, scores in sorted(by_segment.get(segment_id, {}).items())
                if week < weeks - 1
            ),
            segment_id,
        )
        for segment_id, size in population.items()
        if size > 0 or segment_id in by_segment
    ]
    return weighting.post_stratified(strata, interval=interval)


def build(data: DigestInput) -> DigestFigures:
    """The period's figures from its rows: the last week of the window is the period."""
    weeks = len(data.bounds) - 1
    names = {s.id: s.name for s in data.segments}
    by_week: list[dict[int, WeekSegmentCounts]] = [{} for _ in range(weeks)]
    for row in data.counts:
        by_week[row.week][row.segment_id] = row

    def week_scores(week: int) -> Scores:
        total = NO_SCORES
        for row in by_week[week].values():
            total = statistics.add_scores(total, row.scores)
        return total

    def week_sum(week: int, field: str) -> int:
        return sum(int(getattr(row, field)) for row in by_week[week].values())

    current, previous = weeks - 1, weeks - 2
    period_rows = by_week[current]
    population = frame_sizes(data)
    base = sum(population.values())
    segment_figures = tuple(
        SegmentFigures(
            s.name,
            population.get(s.id, 0),
            period_rows[s.id].invited if s.id in period_rows else 0,
            period_rows[s.id].answered if s.id in period_rows else 0,
            statistics.mean(period_rows[s.id].scores) if s.id in period_rows else None,
            population.get(s.id, 0) / base if base else None,
            data.rates.of(s.id) if data.rates is not None else None,
        )
        for s in data.segments
        if s.customers or s.id in period_rows
    )
    pulse = weighted(data)
    histories = [
        SegmentHistory(
            s.id,
            s.customers,
            # The first week the segment existed in: it cannot be silent before it was made.
            next((k for k in range(weeks) if data.bounds[k + 1] > s.created_at), weeks),
            tuple(by_week[k][s.id].invited if s.id in by_week[k] else 0 for k in range(weeks)),
            tuple(by_week[k][s.id].answered if s.id in by_week[k] else 0 for k in range(weeks)),
        )
        for s in data.segments
    ]
    scores = week_scores(current)
    previous_scores = week_scores(previous) if previous >= 0 else NO_SCORES
    return DigestFigures(
        start=data.bounds[-2],
        end=data.bounds[-1],
        invited=week_sum(current, "invited"),
        answered=week_sum(current, "answered"),
        previous_invited=week_sum(previous, "invited") if previous >= 0 else 0,
        previous_answered=week_sum(previous, "answered") if previous >= 0 else 0,
        scores=scores,
        previous_scores=previous_scores,
        raw=statistics.raw_estimate(scores),
        weighted=None if pulse is None else pulse.estimate,
        previous_raw=statistics.raw_estimate(previous_scores),
        segments=segment_figures,
        silent=tuple(
            SilentFigures(names[s.segment_id], s.weeks, s.whole_window)
            for s in statistics.silent_segments(histories)
        ),
        low_response=tuple(
            LowResponseFigures(names[s.segment_id], s.rate, s.rest_rate)
            for s in statistics.low_response_segments(histories)
        ),
        challenge_answers=sum(a.question == "challenge" for a in data.texts),
        challenges=_themes(data, "challenge"),
        improvement_answers=sum(a.question == "improvement" for a in data.texts),
        improvements=_themes(data, "improvement"),
        follow_ups=tuple(
            FollowUp(
                # The full name: staff must be able to tell two Milans apart.
                " ".join(n for n in (row.first_name, row.last_name) if n)
                or _name(None, row.username)
                or str(row.user_id),
                row.username,
                names.get(row.segment_id, "?"),
                row.score,
                row.contact,
                row.challenge,
                row.improvement,
                row.external_id,
            )
            for row in data.follow_ups
        ),
        weeks=tuple(
            WeekFigures(
                data.bounds[k], week_sum(k, "answered"), statistics.raw_estimate(week_scores(k))
            )
            for k in range(weeks)
        ),
        hypotheses=_hypotheses(data),
        weighted_answered=None if pulse is None else pulse.answered_only,
        missing=()
        if pulse is None
        else tuple(
            MissingFigures(names.get(m.key, "?"), m.share, m.stand_in, m.from_earlier)
            for m in pulse.missing
        ),
        by_answers=data.rates is not None,
        base=_base(data.coverage, names),
    )


def _base(coverage: tuple[SegmentCoverage, ...], names: dict[int, str]) -> tuple[BaseFigures, ...]:
    """Each segment against the base, flagged where its enrolled share is under
    THIN_ENROLMENT of the median segment's."""
    shares = [c.enrolled / c.base for c in coverage if c.base]
    typical = median(shares) if len(shares) >= 2 else 0.0
    return tuple(
        BaseFigures(
            names.get(c.segment_id, "?"),
            c.base,
            c.enrolled,
            c.answered,
            bool(c.base) and c.enrolled / c.base < THIN_ENROLMENT * typical,
            typical,
        )
        for c in sorted(coverage, key=lambda c: names.get(c.segment_id, ""))
        if c.base
    )


async def collect(
    db: Database, period: Period, zone: ZoneInfo, vectors: AnswerVectors | None = None
) -> DigestFigures:
    """The figures of a period, read from the database; with `vectors`, the answers' missing
    vectors are computed first and the themes found by meaning."""
    if vectors is None:
        return build(await read_input(db, period, zone, model=""))
    await vectors.fill(since=epoch(period.start))
    return build(await read_input(db, period, zone, model=vectors.embedder.model))
