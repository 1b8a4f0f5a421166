"""The digest's chart: a PNG of the expected size for any mix of weeks, rendered without
pyplot's global state."""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from bot.digest.chart import HEIGHT, WIDTH, ChartLabels, ChartWeek, render_chart

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
LABELS = ChartLabels("Pulse, last 12 weeks", "Mean score (95 % interval)", "Answers", MONTHS)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """The width and height in a PNG's header (its first chunk, IHDR)."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def weeks(*rows: tuple[int, float | None]) -> list[ChartWeek]:
    """Consecutive weeks from 6 January 2025, each (answers, mean) with a ±0.3 interval."""
    first = date(2025, 1, 6)
    return [
        ChartWeek(
            first + timedelta(weeks=index),
            answers,
            mean,
            None if mean is None else mean - 0.3,
            None if mean is None else mean + 0.3,
        )
        for index, (answers, mean) in enumerate(rows)
    ]


# Twelve weeks as the digest sends them: two without a mean (3 answers, and none at all).
TWELVE = weeks(
    *zip(
        (42, 51, 3, 38, 60, 55, 0, 47, 12, 66, 71, 58),
        (3.9, 4.0, None, 3.6, 3.8, 4.1, None, 3.7, 3.2, 3.9, 4.2, 4.3),
        strict=True,
    )
)


def test_twelve_weeks_render_as_a_png_of_the_expected_size() -> None:
    assert png_size(render_chart(TWELVE, LABELS)) == (WIDTH, HEIGHT)


def test_weeks_without_a_mean_still_render() -> None:
    only_counts = weeks(*[(answers, None) for answers in (4, 0, 2, 1)])

    assert png_size(render_chart(only_counts, LABELS)) == (WIDTH, HEIGHT)


def test_a_lone_week_with_a_mean_renders() -> None:
    lone = weeks((2, None), (9, 2.1), (1, None))

    assert png_size(render_chart(lone, LABELS)) == (WIDTH, HEIGHT)


def test_a_mean_without_an_interval_renders() -> None:
    bare = [ChartWeek(date(2025, 1, 6), 5, 4.0), ChartWeek(date(2025, 1, 13), 6, 3.5)]

    assert png_size(render_chart(bare, LABELS)) == (WIDTH, HEIGHT)


def test_no_weeks_render_an_empty_chart() -> None:
    assert png_size(render_chart([], LABELS)) == (WIDTH, HEIGHT)


def test_weeks_across_a_year_end_render() -> None:
    december = [
        ChartWeek(date(2024, 12, 2) + timedelta(weeks=index), 10, 3.5, 3.0, 4.0)
        for index in range(12)
    ]

    assert png_size(render_chart(december, LABELS)) == (WIDTH, HEIGHT)


def test_the_month_names_must_be_twelve() -> None:
    with pytest.raises(ValueError, match="twelve month names"):
        render_chart(TWELVE, ChartLabels("t", "m", "a", MONTHS[:11]))


def test_charts_rendered_in_parallel_threads_equal_one_rendered_alone() -> None:
    alone = render_chart(TWELVE, LABELS)

    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda _: render_chart(TWELVE, LABELS), range(4)))

    assert parallel == [alone] * 4
