"""Whether a theme is new, growing, steady or fading: this week's themes matched to the ones
the four weeks before found, by their centroids, as pure functions of plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from bot.digest.clustering import Vectors

WEEK = 7 * 24 * 3600
WEEKS_BEFORE = 4
# Two weeks' themes are one theme when their centroids are at least this similar (cosine
# of the unit means of their answers' vectors).
MATCH_SIMILARITY = 0.8
# Growing or fading: this many times the mean of the weeks before (and at least
# MIN_CHANGE answers apart, so 1 → 2 is not "growing").
GROWTH = 1.5
MIN_CHANGE = 2


class Trend(StrEnum):
    """A theme against the four weeks before."""

    NEW = "new"
    GROWING = "growing"
    STEADY = "steady"
    FADING = "fading"


@dataclass(frozen=True)
class Earlier:
    """A theme an earlier week's digest found: its identity, centroid and counts by week
    start."""

    theme_id: int
    centroid: Vectors
    counts: dict[int, int]


@dataclass(frozen=True)
class Matched:
    """This week's theme against the weeks before."""

    theme_id: int | None  # None: a theme not seen before
    trend: Trend


def match(
    centroids: Sequence[Vectors], counts: Sequence[int], earlier: Sequence[Earlier], start: int
) -> list[Matched]:
    """Each of this week's themes (centroid, count) matched one to one to an earlier theme,
    the most similar pairs first, and its trend over the WEEKS_BEFORE weeks before `start`."""
    pairs: list[tuple[float, int, int]] = []
    for i, centroid in enumerate(centroids):
        for j, old in enumerate(earlier):
            similarity = float(np.dot(centroid, old.centroid))
            if similarity >= MATCH_SIMILARITY:
                pairs.append((similarity, i, j))
    taken: dict[int, int] = {}
    used: set[int] = set()
    for _, i, j in sorted(pairs, reverse=True):
        if i not in taken and j not in used:
            taken[i] = j
            used.add(j)
    out = []
    for i, count in enumerate(counts):
        if i not in taken:
            out.append(Matched(None, Trend.NEW))
            continue
        old = earlier[taken[i]]
        out.append(Matched(old.theme_id, trend(count, weekly(old.counts, start))))
    return out


def weekly(counts: dict[int, int], start: int) -> list[int]:
    """The counts of the WEEKS_BEFORE weeks before `start`, most recent first (a week's
    start may be an hour off across a daylight-saving change)."""
    weeks = [0] * WEEKS_BEFORE
    for week_start, count in counts.items():
        back = round((start - week_start) / WEEK)
        if 1 <= back <= WEEKS_BEFORE:
            weeks[back - 1] += count
    return weeks


def trend(count: int, before: Sequence[int]) -> Trend:
    """New when the weeks before had none; growing or fading against their mean."""
    if not any(before):
        return Trend.NEW
    mean = sum(before) / len(before)
    if count >= GROWTH * mean and count - mean >= MIN_CHANGE:
        return Trend.GROWING
    if count * GROWTH <= mean and mean - count >= MIN_CHANGE:
        return Trend.FADING
    return Trend.STEADY
