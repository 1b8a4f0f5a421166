"""The digest's statistics on small fixtures whose figures were worked out by hand."""

from __future__ import annotations

import pytest

from bot.digest.statistics import (
    SegmentHistory,
    Stratum,
    change,
    low_response_segments,
    mean,
    post_stratified,
    rate,
    raw_estimate,
    silent_segments,
    variance,
)


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
    estimate = post_stratified(strata)
    assert estimate is not None
    assert estimate.mean == pytest.approx(3.5)
    margin = 1.959964 * 0.110333**0.5
    assert estimate.low == pytest.approx(3.5 - margin, abs=1e-4)
    assert estimate.high == pytest.approx(3.5 + margin, abs=1e-4)


def test_a_segment_with_one_answer_takes_the_pooled_variance() -> None:
    # A: 50 customers, 3,4,4,5 (s² 2/3, 3 degrees of freedom); C: 50 customers, one 5.
    # Pooled s² = 2/3. Mean .5 × 4 + .5 × 5 = 4.5;
    # Var = .25 × .92 × (2/3) / 4 + .25 × .98 × (2/3) / 1 = 0.201667.
    estimate = post_stratified([Stratum(50, (0, 0, 1, 2, 1)), Stratum(50, (0, 0, 0, 0, 1))])
    assert estimate is not None
    assert estimate.mean == pytest.approx(4.5)
    assert estimate.low == pytest.approx(4.5 - 1.959964 * 0.201667**0.5, abs=1e-4)
    assert estimate.high == 5


def test_a_segment_that_did_not_answer_does_not_drag_the_weighted_mean() -> None:
    # Weights are renormalised over the segments that answered: an empty one is a coverage
    # warning, not a score of zero.
    answered = Stratum(30, (0, 0, 1, 2, 2))
    alone = post_stratified([answered])
    with_silent = post_stratified([answered, Stratum(70, (0, 0, 0, 0, 0))])
    assert alone is not None
    assert with_silent is not None
    assert with_silent.mean == pytest.approx(alone.mean)


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
