"""The pulse weighted by each segment's share of the customer base (post-stratification), with
a 95 % interval that keeps its coverage when segments have few answers or none.

A segment with customers and no score this period is never left out silently: the score over
the whole base counts it at a stand-in (its mean over the earlier weeks of the window, else
the middle of the scale), and the interval lets its share take any score from 1 to 5, so it
holds whatever that segment would have said. Beside it, clearly labelled, the score of the
answered segments alone (their weights renormalised, as the digest once did).
`python -m bench.pulse` measures the choices below on simulated weeks with known truths.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.digest.statistics import (
    MIN_ANSWERS,
    SCORE_MAX,
    SCORE_MIN,
    Z95,
    Estimate,
    Scores,
    count,
    mean,
    variance,
)
from bot.digest.student_t import quantile_975

# A missing segment with no earlier answers either stands in at the middle of the scale.
MIDDLE = (SCORE_MIN + SCORE_MAX) / 2


class Interval(StrEnum):
    """How the interval treats the spread within segments that have few answers."""

    # The old interval: the normal quantile, each segment's own variance of the period.
    NORMAL = "normal"
    # Student's t with Satterthwaite's degrees of freedom, the period's own variances.
    STUDENT = "t"
    # Each segment's variance pooled over every week of the window (answers within a week
    # about their week's mean), with Student's t on the degrees of freedom that gives.
    POOLED = "pooled"


# Chosen by bench.pulse (bench/README.md): the one that holds 95 % coverage with the
# narrowest intervals at the default sample and at 3,000 customers with 10 %.
DEFAULT_INTERVAL = Interval.POOLED


@dataclass(frozen=True)
class Stratum:
    """One segment: its size in the customer base, its scores in the period, and its scores
    in each earlier week of the window (for its spread and a stand-in when it is silent)."""

    population: int
    scores: Scores
    earlier: tuple[Scores, ...] = ()
    key: int = 0  # the caller's name for it (a segment id), to say which ones are missing


@dataclass(frozen=True)
class Missing:
    """A segment of the base without a score in the period."""

    key: int
    share: float  # of the base
    stand_in: float  # the score it is counted at in the centre
    from_earlier: bool  # the stand-in is its earlier weeks' mean (else the scale's middle)


@dataclass(frozen=True)
class Weighted:
    """The weighted pulse over the whole base, and over the answered segments only."""

    estimate: Estimate
    answered_only: Estimate
    missing: tuple[Missing, ...] = ()

    @property
    def missing_share(self) -> float:
        """The share of the base the period has no score from."""
        return sum(m.share for m in self.missing)


@dataclass(frozen=True)
class _Spread:
    variance: float
    df: float


def _pooled(samples: Sequence[Scores]) -> _Spread | None:
    """The within-sample variance pooled over `samples`, with its degrees of freedom."""
    df = sum(count(s) - 1 for s in samples if count(s) > 1)
    if df == 0:
        return None
    squares = sum((count(s) - 1) * (variance(s) or 0.0) for s in samples if count(s) > 1)
    return _Spread(squares / df, df)


def _everyone(answered: Sequence[Stratum]) -> _Spread:
    """The variance of all the period's scores together (between segments too, so on the
    safe side), for when no segment has two scores of its own."""
    total: Scores = (0, 0, 0, 0, 0)
    for stratum in answered:
        total = (
            total[0] + stratum.scores[0],
            total[1] + stratum.scores[1],
            total[2] + stratum.scores[2],
            total[3] + stratum.scores[3],
            total[4] + stratum.scores[4],
        )
    return _Spread(variance(total) or 0.0, max(1, count(total) - 1))


def _spreads(answered: Sequence[Stratum], interval: Interval) -> list[_Spread]:
    """Each answered segment's variance and its degrees of freedom, by the method."""
    across = _pooled([s.scores for s in answered]) or _everyone(answered)
    spreads: list[_Spread] = []
    for stratum in answered:
        own = _pooled([stratum.scores])
        if interval is Interval.POOLED:
            own = _pooled([stratum.scores, *stratum.earlier]) or own
        spreads.append(own or across)
    return spreads


def _quantile(terms: Sequence[tuple[float, _Spread]], interval: Interval) -> float:
    """The 97.5 % quantile for a sum of variance terms (coefficient, spread)."""
    if interval is Interval.NORMAL:
        return Z95
    total = sum(c * s.variance for c, s in terms)
    # Satterthwaite: the degrees of freedom of a weighted sum of variance estimates.
    denominator = sum((c * s.variance) ** 2 / s.df for c, s in terms)
    if total <= 0 or denominator <= 0:
        return Z95  # no spread at all: the margin is zero whatever the quantile
    return quantile_975(total**2 / denominator)


def _stand_in(stratum: Stratum) -> tuple[float, bool]:
    earlier = [s for s in stratum.earlier if count(s)]
    if not earlier:
        return MIDDLE, False
    answers = sum(count(s) for s in earlier)
    return sum((mean(s) or 0.0) * count(s) for s in earlier) / answers, True


def _clipped(centre: float, low: float, high: float) -> Estimate:
    return Estimate(centre, max(SCORE_MIN, low), min(SCORE_MAX, high))


def post_stratified(
    strata: Sequence[Stratum],
    minimum: int = MIN_ANSWERS,
    interval: Interval = DEFAULT_INTERVAL,
) -> Weighted | None:
    """The mean weighted by each segment's share of the base, with a 95 % interval; None
    with fewer than `minimum` scores in all.

    ȳ = Σ W_h ȳ_h, W_h = N_h / Σ N over every segment with customers or scores;
    Var = Σ W_h² (1 − n_h/N_h) s_h² / n_h over the answered ones. A silent segment adds
    W_h × its stand-in to the centre and W_h × [1, 5] to the bounds. A segment with a single
    score has no variance of its own and takes the pooled within-segment one.
    """
    answered = [s for s in strata if count(s.scores) > 0]
    silent = [s for s in strata if count(s.scores) == 0 and s.population > 0]
    if sum(count(s.scores) for s in answered) < minimum:
        return None
    # A segment can have more answers than its recorded size (customers who left since).
    sizes = [max(s.population, count(s.scores)) for s in answered]
    base = sum(sizes) + sum(s.population for s in silent)
    spreads = _spreads(answered, interval)
    known = 0.0
    terms: list[tuple[float, _Spread]] = []
    for stratum, size, spread in zip(answered, sizes, spreads, strict=True):
        n = count(stratum.scores)
        average = mean(stratum.scores)
        assert average is not None
        known += size / base * average
        terms.append(((size / base) ** 2 * (1 - n / size) / n, spread))
    missing = []
    for stratum in silent:
        stand_in, from_earlier = _stand_in(stratum)
        missing.append(Missing(stratum.key, stratum.population / base, stand_in, from_earlier))
    margin = _quantile(terms, interval) * math.sqrt(sum(c * s.variance for c, s in terms))
    share = sum(m.share for m in missing)
    centre = known + sum(m.share * m.stand_in for m in missing)
    low, high = known + share * SCORE_MIN - margin, known + share * SCORE_MAX + margin
    whole = _clipped(centre, low, high)
    # Renormalised over the answered segments: the weights scale by 1 / (1 − share).
    kept = 1 - share
    alone = known / kept
    only = _clipped(alone, alone - margin / kept, alone + margin / kept)
    return Weighted(whole, only, tuple(missing))
