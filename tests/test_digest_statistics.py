"""The digest's statistics on small fixtures whose figures were worked out by hand."""

from __future__ import annotations

import pytest

from bot.digest.statistics import (
    SegmentHistory,
    change,
    low_response_segments,
    mean,
    rate,
    raw_estimate,
    silent_segments,
    variance,
)
from bot.digest.student_t import quantile_975
from bot.digest.weighting import Interval, Stratum, post_stratified


def test_mean_and_variance_of_a_distribution() -> None:
    # Scores 3, 3, 4, 4, 5: mean 3.8; squared deviations .64+.64+.04+.04+1.44 = 2.8 over 4.
    scores = (0, 0, 2, 2, 1)
    assert mean(scores) == pytest.approx(3.8)
    assert variance(scores) == pytest.approx(0.7)


def test_no_scores_have_no_mean_and_one_score_no_variance() -> None:
    assert mean((0, 0, 0, 0, 0)) is None
    assert variance((0, 0, 0, 0, 1)) is None


def test_the_raw_estimate_has_a_normal_95_percent_interval() -> None:
    # SE = sqrt(0.7 / 5) = 0.374166; margin = 1.959964 × SE = 0.733352.
    estimate = raw_estimate((0, 0, 2, 2, 1))
    assert estimate is not None
    assert estimate.mean == pytest.approx(3.8)
    assert estimate.low == pytest.approx(3.066648, abs=1e-5)
    assert estimate.high == pytest.approx(4.533352, abs=1e-5)


def test_fewer_than_five_scores_give_no_estimate_at_all() -> None:
    assert raw_estimate((0, 0, 2, 2, 0)) is None
    assert post_stratified([Stratum(10, (0, 0, 2, 2, 0))]) is None


def test_the_interval_is_clipped_to_the_scale() -> None:
    estimate = raw_estimate((0, 0, 0, 1, 4))
    assert estimate is not None
    assert estimate.high == 5


def test_post_stratification_weights_each_segment_by_its_share_of_the_base() -> None:
    # A: 80 customers, scores 3,4,4,5 (mean 4, s² 2/3); B: 20 customers, scores 1,2 (mean
    # 1.5, s² 0.5). Weighted: .8 × 4 + .2 × 1.5 = 3.5 (the raw mean would be 19/6).
    # Var = .64 × (1 − 4/80) × (2/3) / 4 + .04 × (1 − 2/20) × .5 / 2 = 0.110333.
    strata = [Stratum(80, (0, 0, 1, 2, 1)), Stratum(20, (1, 1, 0, 0, 0))]
    weighted = post_stratified(strata, interval=Interval.NORMAL)
    assert weighted is not None
    estimate = weighted.estimate
    assert weighted.answered_only == estimate
    assert estimate.mean == pytest.approx(3.5)
    margin = 1.959964 * 0.110333**0.5
    assert estimate.low == pytest.approx(3.5 - margin, abs=1e-4)
    assert estimate.high == pytest.approx(3.5 + margin, abs=1e-4)


def test_a_segment_with_one_answer_takes_the_pooled_variance() -> None:
    # A: 50 customers, 3,4,4,5 (s² 2/3, 3 degrees of freedom); C: 50 customers, one 5.
    # Pooled s² = 2/3. Mean .5 × 4 + .5 × 5 = 4.5;
    # Var = .25 × .92 × (2/3) / 4 + .25 × .98 × (2/3) / 1 = 0.201667.
    weighted = post_stratified(
        [Stratum(50, (0, 0, 1, 2, 1)), Stratum(50, (0, 0, 0, 0, 1))], interval=Interval.NORMAL
    )
    assert weighted is not None
    estimate = weighted.estimate
    assert estimate.mean == pytest.approx(4.5)
    assert estimate.low == pytest.approx(4.5 - 1.959964 * 0.201667**0.5, abs=1e-4)
    assert estimate.high == 5


def test_a_silent_segment_is_named_and_its_share_may_take_any_score_in_the_interval() -> None:
    # A: 30 customers, scores 3,4,4,5,5 (mean 4.2, s² 0.7); B: 70 customers, no score and no
    # earlier weeks. The centre counts B at 3 (the middle): .3 × 4.2 + .7 × 3 = 3.36. The
    # sampling margin is 1.96 × sqrt(.09 × (1 − 5/30) × .7 / 5) = 0.2013 (normal), and the
    # bounds let B score 1 to 5: .3 × 4.2 + .7 × [1, 5] ∓ margin = [1.7587, 4.8613].
    answered = Stratum(30, (0, 0, 1, 2, 2), key=1)
    weighted = post_stratified(
        [answered, Stratum(70, (0, 0, 0, 0, 0), key=2)], interval=Interval.NORMAL
    )
    assert weighted is not None
    assert [(m.key, m.from_earlier) for m in weighted.missing] == [(2, False)]
    assert weighted.missing_share == pytest.approx(0.7)
    assert weighted.estimate.mean == pytest.approx(3.36)
    assert weighted.estimate.low == pytest.approx(1.26 + 0.7 - 0.2013, abs=1e-3)
    assert weighted.estimate.high == pytest.approx(1.26 + 3.5 + 0.2013, abs=1e-3)
    # The answered segments alone, labelled so: renormalised, as the digest once showed it.
    alone = post_stratified([answered], interval=Interval.NORMAL)
    assert alone is not None
    assert weighted.answered_only.mean == pytest.approx(alone.estimate.mean)
    assert weighted.answered_only.low == pytest.approx(alone.estimate.low)
    assert weighted.answered_only.high == pytest.approx(alone.estimate.high)


def test_a_silent_segment_stands_in_at_its_mean_of_earlier_weeks() -> None:
    silent = Stratum(50, (0, 0, 0, 0, 0), earlier=((0, 2, 0, 0, 0), (1, 1, 0, 0, 0)), key=7)
    weighted = post_stratified([Stratum(50, (0, 0, 2, 2, 1)), silent])
    assert weighted is not None
    (missing,) = weighted.missing
    # Scores 2, 2, 1, 2 in earlier weeks: 1.75. Centre .5 × 3.8 + .5 × 1.75.
    assert (missing.key, missing.from_earlier) == (7, True)
    assert missing.stand_in == pytest.approx(1.75)
    assert weighted.estimate.mean == pytest.approx(2.775)
    assert weighted.estimate.low <= 1.9 + 0.5
    assert weighted.estimate.high >= 1.9 + 2.5


def test_a_small_segment_takes_students_t_on_its_few_degrees_of_freedom() -> None:
    # One segment, 100 customers, scores 2, 3, 3, 4, 4 this week: s² = 0.7 on 4 degrees of
    # freedom, SE = sqrt((1 − 5/100) × 0.7 / 5) = 0.364692. t(4) = 2.776445, not 1.96.
    strata = [Stratum(100, (0, 1, 2, 2, 0))]
    student = post_stratified(strata, interval=Interval.STUDENT)
    normal = post_stratified(strata, interval=Interval.NORMAL)
    assert student is not None
    assert normal is not None
    assert student.estimate.high - student.estimate.mean == pytest.approx(
        2.776445 * 0.364692, abs=1e-4
    )
    assert normal.estimate.high - normal.estimate.mean == pytest.approx(
        1.959964 * 0.364692, abs=1e-4
    )


def test_a_small_segment_pools_its_spread_over_the_weeks_of_the_window() -> None:
    # Two answers this week that agree (5, 5) say nothing of the spread: on their own the
    # segment would look certain. Pooled with its earlier weeks (3,5 and 4,4,5,5: squares
    # about each week's mean 2 and 1, on 1 + 3 df) its variance is 3/5 on 5 df.
    small = Stratum(10, (0, 0, 0, 0, 2), earlier=((0, 0, 1, 0, 1), (0, 0, 0, 2, 2)))
    big = Stratum(90, (0, 0, 3, 3, 3))
    own = post_stratified([small, big], interval=Interval.STUDENT)
    pooled = post_stratified([small, big], interval=Interval.POOLED)
    assert own is not None
    assert pooled is not None
    assert pooled.estimate.high - pooled.estimate.low > own.estimate.high - own.estimate.low
    # The small segment's term: .01 × (1 − 2/10) × .6 / 2; the big one's, with no earlier
    # weeks, its own: .81 × (1 − 9/90) × .75 / 9 (3,3,3,4,4,4,5,5,5: s² = 6/8 on 8 df).
    small_term = 0.01 * 0.8 * 0.6 / 2
    big_term = 0.81 * 0.9 * 0.75 / 9
    df = (small_term + big_term) ** 2 / (small_term**2 / 5 + big_term**2 / 8)
    margin = quantile_975(df) * (small_term + big_term) ** 0.5
    assert pooled.estimate.high - pooled.estimate.mean == pytest.approx(margin, abs=1e-6)


def test_rates_and_changes_are_none_without_a_base() -> None:
    assert rate(3, 4) == pytest.approx(0.75)
    assert rate(0, 0) is None
    assert change(3.8, 3.5) == pytest.approx(0.3)
    assert change(3.8, None) is None
    assert change(None, 3.5) is None


def history(
    segment_id: int, answered: list[int], *, created_week: int = 0, population: int = 10
) -> SegmentHistory:
    return SegmentHistory(segment_id, population, created_week, (5,) * 12, tuple(answered))


def test_a_segment_silent_for_three_weeks_or_more_is_warned_about() -> None:
    found = silent_segments(
        [
            history(1, [1] * 8 + [0] * 4),  # last answered in week 7: 4 silent weeks
            history(2, [1] * 10 + [0] * 2),  # 2 weeks: not yet
            history(3, [0] * 12),  # never answered in the window
            history(4, [0] * 12, created_week=10),  # new: only 2 weeks old
            history(5, [0] * 12, population=0),  # no customers: nothing to cover
        ]
    )
    assert [(s.segment_id, s.weeks, s.whole_window) for s in found] == [
        (1, 4, False),
        (3, 12, True),
    ]


def test_a_segment_answering_at_under_half_the_others_rate_is_warned_about() -> None:
    def period(segment_id: int, invited: int, answered: int) -> SegmentHistory:
        return SegmentHistory(segment_id, 50, 0, (invited,), (answered,))

    found = low_response_segments(
        [period(1, 10, 8), period(2, 10, 2), period(3, 3, 0)]  # 3: too few invited to judge
    )
    assert [s.segment_id for s in found] == [2]
    assert found[0].rate == pytest.approx(0.2)
    assert found[0].rest_rate == pytest.approx(8 / 13)


@pytest.mark.parametrize(
    ("df", "quantile"),
    # The tables' values; 2.5 degrees of freedom checked by integrating the density.
    [
        (1, 12.706205),
        (2, 4.302653),
        (4, 2.776445),
        (10, 2.228139),
        (30, 2.042272),
        (2.5, 3.574655),
    ],
)
def test_students_t_quantile_matches_the_tables(df: float, quantile: float) -> None:
    assert quantile_975(df) == pytest.approx(quantile, abs=1e-5)


def test_students_t_quantile_tends_to_the_normal_one() -> None:
    assert quantile_975(1e7) == pytest.approx(1.959964)
    assert quantile_975(0.2) == quantile_975(1)  # clamped: no estimate has so few
