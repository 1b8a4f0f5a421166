"""A period's digest figures: read from the check-ins in one pass, then assembled by pure
functions (statistics, coverage, themes) into one plain, JSON-ready record."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from statistics import median
from zoneinfo import ZoneInfo

from bot.checkins.allocation import RESPONSE_DAYS, ResponseRates, estimate_rates, settled_hours
from bot.clock import epoch
from bot.common import excerpts
from bot.digest import embedding, statistics, themes, trends, weighting
from bot.digest.answer_vectors import AnswerVectors
from bot.digest.period import Period, week_bounds
from bot.digest.statistics import NO_SCORES, Estimate, Scores, SegmentHistory
from bot.digest.weighting import DEFAULT_INTERVAL, Interval, Stratum
from bot.hypotheses.evidence import Evidence, evidence
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
from storage.hypotheses import Hypothesis, HypothesisStatus, Tally, Why

# Follow-ups: customers who asked to be contacted or scored at most this.
LOW_SCORE = 2
# The free-text questions whose answers form themes.
QUESTIONS = ("challenge", "improvement")
# How far back "answered" reaches in the digest's comparison with the customer base.
BASE_ANSWER_DAYS = 90
# A segment whose enrolled share of its base is under this part of the median is flagged.
THIN_ENROLMENT = 0.5


@dataclass(frozen=True)
class SegmentFigures:
    """One segment in the period."""

    name: str
    population: int
    invited: int
    answered: int
    mean: float | None
    share: float | None = None  # of the customer base
    # The response rate the period's latest round expected of it when it split the sample
    # by expected answers (None: no such round).
    expected_rate: float | None = None


@dataclass(frozen=True)
class MissingFigures:
    """A segment of the base the weighted score has no score from this period: its share,
    and what the centre counts it at (its earlier weeks' mean, else the scale's middle)."""

    name: str
    share: float
    stand_in: float
    from_earlier: bool


@dataclass(frozen=True)
class WeekFigures:
    """One week of the trend window: its start, answers, and the mean with its interval."""

    start: int
    answered: int
    estimate: Estimate | None


@dataclass(frozen=True)
class SilentFigures:
    """A segment with customers and no answers for `weeks` weeks (`at_least`: the whole
    window, so perhaps longer)."""

    name: str
    weeks: int
    at_least: bool


@dataclass(frozen=True)
class LowResponseFigures:
    """A segment answering far less often than the rest."""

    name: str
    rate: float
    rest_rate: float


@dataclass(frozen=True)
class BaseFigures:
    """A segment against the customer base: its customers there, how many are enrolled, how
    many answered in the last BASE_ANSWER_DAYS days; `thin` when its enrolled share is far
    below a typical segment's (`median`)."""

    name: str
    base: int
    enrolled: int
    answered: int
    thin: bool
    median: float


@dataclass(frozen=True)
class ThemeFigures:
    """A theme: its label per language, how many answers, its most central answer as the
    quote (with the customer's name only when they agreed to be contacted), its trend
    against the four weeks before, and what identifies it from week to week (the theme
    it matched, the unit mean of its answers' vectors as float16 hex; None for themes
    found by words)."""

    labels: dict[str, str]
    count: int
    quote: str
    quoted: str | None
    trend: str | None = None
    theme_id: int | None = None
    centroid: str | None = None

    def label(self, language: str) -> str:
        """The label in the reader's language where the theme has answers in it."""
        return self.labels.get(language) or next(iter(self.labels.values()), "")


@dataclass(frozen=True)
class FollowUp:
    """A customer staff should contact."""

    name: str
    username: str | None
    segment: str
    score: int | None
    contact: bool
    challenge: str | None
    improvement: str | None
    external_id: str | None = None


@dataclass(frozen=True)
class HypothesisFigures:
    """A hypothesis in the period: this week's answers, the evidence of all answers up to
    the period's end, its change since the week before, and one anonymous "why"."""

    id: int
    text_nl: str
    text_en: str
    yes: int
    partly: int
    no: int
    evidence: Evidence
    change: float | None
    quote: str | None


@dataclass(frozen=True)
class DigestFigures:
    """Everything a digest says about a period, in plain values."""

    start: int
    end: int
    invited: int
    answered: int
    previous_invited: int
    previous_answered: int
    scores: Scores
    previous_scores: Scores
    raw: Estimate | None
    weighted: Estimate | None
    previous_raw: Estimate | None
    segments: tuple[SegmentFigures, ...]
    silent: tuple[SilentFigures, ...]
    low_response: tuple[LowResponseFigures, ...]
    challenge_answers: int
    challenges: tuple[ThemeFigures, ...]
    improvement_answers: int
    improvements: tuple[ThemeFigures, ...]
    follow_ups: tuple[FollowUp, ...]
    weeks: tuple[WeekFigures, ...]
    hypotheses: tuple[HypothesisFigures, ...] = ()
    # `weighted` is over the whole base (a silent segment may take any score from 1 to 5 in
    # its interval); this one over the answered segments only, shown when some are missing.
    weighted_answered: Estimate | None = None
    missing: tuple[MissingFigures, ...] = ()
    # Whether the period's latest round split its sample by expected answers.
    by_answers: bool = False
    # Only once a customer base is imported.
    base: tuple[BaseFigures, ...] = ()

    def to_json(self) -> str:
        """The figures as stored beside the digest's text."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)


def weeks_from_json(figures: str) -> tuple[WeekFigures, ...]:
    """The trend weeks of stored figures, to draw a stored digest's chart again."""
    weeks: list[WeekFigures] = []
    for week in json.loads(figures)["weeks"]:
        estimate = week["estimate"]
        weeks.append(
            WeekFigures(
                int(week["start"]),
                int(week["answered"]),
                None if estimate is None else Estimate(**estimate),
            )
        )
    return tuple(weeks)


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
    async with db.scan() as conn:
        counts = await digest_data.week_segment_counts(conn, bounds)
        segments = await digest_data.segments(conn)
        populations = await digest_data.populations(conn, start, end)
        latest = await digest_data.latest_round_start(conn, start, end)
        rates = None
        if latest is not None:
            # The rates that round split its sample by, read again as it read them.
            expiry = (await runtime_settings.load(conn)).expiry_hours
            history = await segment_stats.response_history(
                conn, latest, RESPONSE_DAYS, settled_hours(expiry)
            )
            rates = estimate_rates(history)
        texts = await digest_data.text_answers(conn, start, end, model)
        earlier = {
            question: tuple(
                trends.Earlier(t.id, embedding.from_bytes(t.centroid), t.counts)
                for t in await vectors.recent_themes(conn, question, model, since)
            )
            for question in QUESTIONS
        }
        follow_ups = await digest_data.follow_ups(conn, start, end, LOW_SCORE)
        known = await hypotheses.list_all(conn)
        week = await hypotheses.tallies(conn, start, end)
        to_end = await hypotheses.tallies(conn, None, end)
        to_start = await hypotheses.tallies(conn, None, start)
        whys = await hypotheses.whys(conn, start, end)
        coverage = await customer_base.segment_coverage(conn, end - BASE_ANSWER_DAYS * 86400, end)
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


def week_themes(result: DigestFigures) -> dict[str, list[vectors.WeekTheme]]:
    """The themes found by meaning, per question, as the weekly digest records them."""
    return {
        question: [
            vectors.WeekTheme(t.theme_id, bytes.fromhex(t.centroid), t.count)
            for t in found
            if t.centroid is not None
        ]
        for question, found in (
            ("challenge", result.challenges),
            ("improvement", result.improvements),
        )
    }


def period_of(figures: DigestFigures, zone: ZoneInfo) -> Period:
    """The period figures cover, as timezone-aware instants."""
    return Period(
        datetime.fromtimestamp(figures.start, zone), datetime.fromtimestamp(figures.end, zone)
    )
