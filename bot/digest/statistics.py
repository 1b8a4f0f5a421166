"""The digest's statistics as pure functions: means and their 95 % interval, changes against
the previous period, and coverage warnings (the weighted score is `bot.digest.weighting`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The normal quantile of a two-sided 95 % interval.
Z95 = 1.959964
# Fewer answers than this and the digest says there are too few to draw a conclusion.
MIN_ANSWERS = 5
SCORE_MIN, SCORE_MAX = 1, 5

Scores = tuple[int, int, int, int, int]  # how many answered 1, 2, 3, 4 and 5
NO_SCORES: Scores = (0, 0, 0, 0, 0)


def add_scores(a: Scores, b: Scores) -> Scores:
    """Two distributions added up."""
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4])


def count(scores: Scores) -> int:
    """How many scores there are."""
    return sum(scores)


def mean(scores: Scores) -> float | None:
    """The mean score, or None without scores."""
    n = count(scores)
    if n == 0:
        return None
    return sum(score * k for score, k in zip(range(1, 6), scores, strict=True)) / n


def variance(scores: Scores) -> float | None:
    """The sample variance (n − 1), or None with fewer than two scores."""
    n = count(scores)
    average = mean(scores)
    if n < 2 or average is None:
        return None
    squares = sum(k * (score - average) ** 2 for score, k in zip(range(1, 6), scores, strict=True))
    return squares / (n - 1)


@dataclass(frozen=True)
class Estimate:
    """A mean score with its 95 % interval (clipped to the 1–5 scale)."""

    mean: float
    low: float
    high: float


def _interval(centre: float, standard_error: float) -> Estimate:
    margin = Z95 * standard_error
    return Estimate(centre, max(SCORE_MIN, centre - margin), min(SCORE_MAX, centre + margin))


def raw_estimate(scores: Scores, minimum: int = MIN_ANSWERS) -> Estimate | None:
    """The plain mean with a normal 95 % interval; None with fewer than `minimum` scores."""
    n = count(scores)
    average = mean(scores)
    spread = variance(scores)
    if n < minimum or average is None or spread is None:
        return None
    return _interval(average, math.sqrt(spread / n))


def rate(answered: int, invited: int) -> float | None:
    """The response rate (0–1), or None when nobody was invited."""
    return answered / invited if invited else None


def change(current: float | None, previous: float | None) -> float | None:
    """current − previous, or None when either is unknown."""
    if current is None or previous is None:
        return None
    return current - previous


@dataclass(frozen=True)
class SegmentHistory:
    """A segment over the weeks of the window (oldest first); the last week is the period."""

    segment_id: int
    population: int
    created_week: int  # the first week of the window the segment existed in (0: all)
    invited: tuple[int, ...]
    answered: tuple[int, ...]


@dataclass(frozen=True)
class SilentSegment:
    """A segment with customers and no answers for `weeks` weeks (`whole_window`: at least)."""

    segment_id: int
    weeks: int
    whole_window: bool


@dataclass(frozen=True)
class LowResponse:
    """A segment whose response rate this period is far below the other segments'."""

    segment_id: int
    rate: float
    rest_rate: float


# Coverage: silent for this many weeks (the period included), or answering at less than
# this fraction of the others' rate with at least this many invited.
SILENT_WEEKS = 3
LOW_RATE_RATIO = 0.5
LOW_RATE_MIN_INVITED = 4


def silent_segments(
    histories: Sequence[SegmentHistory], weeks: int = SILENT_WEEKS
) -> list[SilentSegment]:
    """Segments with customers that have had no answers in the last `weeks` weeks or more."""
    silent: list[SilentSegment] = []
    for history in histories:
        if history.population == 0:
            continue
        window = len(history.answered)
        quiet = 0
        for week in range(window - 1, history.created_week - 1, -1):
            if history.answered[week]:
                break
            quiet += 1
        if quiet >= weeks:
            whole = quiet == window - history.created_week
            silent.append(SilentSegment(history.segment_id, quiet, whole))
    return silent


def low_response_segments(
    histories: Sequence[SegmentHistory],
    ratio: float = LOW_RATE_RATIO,
    min_invited: int = LOW_RATE_MIN_INVITED,
) -> list[LowResponse]:
    """Segments whose response rate in the period is below `ratio` × the rest's rate."""
    low: list[LowResponse] = []
    invited_all = sum(h.invited[-1] for h in histories)
    answered_all = sum(h.answered[-1] for h in histories)
    for history in histories:
        invited, answered = history.invited[-1], history.answered[-1]
        own = rate(answered, invited)
        rest = rate(answered_all - answered, invited_all - invited)
        if own is None or rest is None or invited < min_invited or rest == 0:
            continue
        if own < ratio * rest:
            low.append(LowResponse(history.segment_id, own, rest))
    return low
