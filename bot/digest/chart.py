"""The digest's chart: the pulse over recent weeks (mean score with its 95 % interval, and the
answers per week) as a PNG sized for a phone screen, rendered headless."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Figure and the Agg canvas directly, never pyplot: pyplot keeps global state (its figure
# manager, the current figure), which is neither thread-safe nor needed to make a PNG.
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

WIDTH, HEIGHT, DPI = 1200, 800, 100
SCORE_MIN, SCORE_MAX = 1, 5

# Sizes in points at DPI 100, chosen to stay legible when a phone shrinks the image to its
# width (about a third).
TITLE_SIZE = 30
LABEL_SIZE = 22
TICK_SIZE = 20

LINE = "#1f5fa8"
BAND = "#9cc0e8"
BARS = "#c9ced6"
BAR_TEXT = "#5b6470"
GRID = "#e4e7eb"

# Bars fill at most this share of the plot's height, so the score line above them stays clear.
BAR_SHARE = 0.4
# Every second week is labelled, counted back from the newest, so twelve weeks get six labels.
LABEL_EVERY = 2


@dataclass(frozen=True)
class ChartWeek:
    """One week of the chart: the day it starts, its number of answers, and its mean score with
    the 95 % interval (None where the week has too few answers for a mean)."""

    start: date
    answers: int
    mean: float | None = None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class ChartLabels:
    """The chart's words in the reader's language: its title, the two axis names and the
    twelve month names (January first)."""

    title: str
    mean: str
    answers: str
    months: tuple[str, ...]


def render_chart(weeks: Sequence[ChartWeek], labels: ChartLabels) -> bytes:
    """`weeks` (oldest first) as a WIDTH × HEIGHT PNG: bars for the answers, a line with a
    band for the mean and its interval, with a gap where a week has no mean."""
    if len(labels.months) != 12:
        raise ValueError(f"twelve month names are needed, got {len(labels.months)}")
    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    bars = figure.add_subplot()
    line = bars.twinx()
    # The score is what staff read first, so it takes the left axis and is drawn on top; the
    # answers' bars go behind it on the right axis.
    bars.yaxis.tick_right()
    bars.yaxis.set_label_position("right")
    line.yaxis.tick_left()
    line.yaxis.set_label_position("left")

    positions = list(range(len(weeks)))
    counts = [week.answers for week in weeks]
    bars.bar(positions, counts, width=0.6, color=BARS, zorder=1)
    top = max(counts, default=0)
    bars.set_ylim(0, max(top, 1) / BAR_SHARE)
    bars.set_yticks(_count_ticks(top))
    bars.set_ylabel(labels.answers, fontsize=LABEL_SIZE, color=BAR_TEXT)
    bars.tick_params(axis="y", labelsize=TICK_SIZE, colors=BAR_TEXT, length=0)

    nan = math.nan
    means = [nan if week.mean is None else week.mean for week in weeks]
    lows = [nan if week.mean is None or week.low is None else week.low for week in weeks]
    highs = [nan if week.mean is None or week.high is None else week.high for week in weeks]
    line.fill_between(positions, lows, highs, color=BAND, alpha=0.55, linewidth=0, zorder=2)
    # A band needs two neighbouring weeks; a week with a mean between two without one shows
    # its interval as an error bar instead.
    alone = [i for i in positions if not _has_mean(weeks, i - 1) and not _has_mean(weeks, i + 1)]
    if alone:
        line.vlines(
            alone,
            [lows[i] for i in alone],
            [highs[i] for i in alone],
            color=BAND,
            alpha=0.55,
            linewidth=10,
            zorder=2,
        )
    line.plot(positions, means, color=LINE, linewidth=4, marker="o", markersize=11, zorder=3)
    line.set_ylim(SCORE_MIN - 0.2, SCORE_MAX + 0.2)
    line.set_yticks(range(SCORE_MIN, SCORE_MAX + 1))
    line.set_ylabel(labels.mean, fontsize=LABEL_SIZE, color=LINE)
    line.tick_params(axis="y", labelsize=TICK_SIZE, colors=LINE, length=0)
    line.grid(axis="y", color=GRID, linewidth=1.5)
    line.set_axisbelow(True)

    bars.set_xlim(-0.6, max(len(weeks), 1) - 0.4)
    ticks, names = _week_ticks(weeks, labels.months)
    bars.set_xticks(ticks, names)
    bars.tick_params(axis="x", labelsize=TICK_SIZE, length=0, pad=8)
    for axes in (bars, line):
        for side in ("top", "left", "right"):
            axes.spines[side].set_visible(False)
    bars.spines["bottom"].set_color(BARS)
    figure.suptitle(labels.title, fontsize=TITLE_SIZE, fontweight="bold")

    output = io.BytesIO()
    figure.savefig(output, format="png", dpi=DPI, facecolor="white")
    return output.getvalue()


def _has_mean(weeks: Sequence[ChartWeek], index: int) -> bool:
    return 0 <= index < len(weeks) and weeks[index].mean is not None


def _count_ticks(top: int) -> list[int]:
    """At most three round ticks up to the busiest week: 0, a middle one, the top one."""
    if top <= 0:
        return [0]
    magnitude = 10 ** max(len(str(top)) - 1, 0)
    step = next(s * magnitude for s in (1, 2, 5, 10) if top / (s * magnitude) <= 2 or s == 10)
    return list(range(0, top + 1, step))


def _week_ticks(weeks: Sequence[ChartWeek], months: Sequence[str]) -> tuple[list[int], list[str]]:
    """Every LABEL_EVERY-th week's day of the month, counted back from the newest, with the
    month's name below it when the month changes."""
    chosen = list(range(len(weeks) - 1, -1, -LABEL_EVERY))[::-1]
    names = []
    previous = None
    for index in chosen:
        start = weeks[index].start
        if start.month == previous:
            names.append(str(start.day))
        else:
            names.append(f"{start.day}\n{months[start.month - 1]}")
        previous = start.month
    return chosen, names
