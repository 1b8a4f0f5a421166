"""A period's digest figures: one plain, JSON-ready record of everything a digest says,
stored beside its text and read back to draw a stored digest's chart again. They are read
from the check-ins by reading.py and assembled by assembly.py."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.digest.period import Period
from bot.digest.statistics import Estimate, Scores
from bot.hypotheses.evidence import Evidence
from storage import vectors


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
