"""How a round's invitations are split over segments so that the answers that come back are
representative: each segment's *expected answers* (invitations × its response rate) follow
its share of the customer base, with a minimum of expected answers per segment where the
sample and the segment's due customers allow. The sample size stays the number invited;
the cool-down rules stay absolute (a segment is never asked beyond its due customers)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from storage.segment_stats import ResponseCounts

# Response rates are read over the check-ins of the last 90 days (as /segments shows them)
# that have settled: a day past their expiry, as quiet hours can hold the first question.
RESPONSE_DAYS = 90
SETTLE_HOURS = 24
# A segment's own history weighs as much as the prior after this many settled invitations;
# the prior is the rate of all segments together, itself drawn towards 50 % while young.
PRIOR_INVITATIONS = 10
FIRST_RATE = 0.5
# No rate is taken as lower than this: a segment that never answered is asked at most
# 1 / MIN_RATE times its share, and its due customers cap that anyway.
MIN_RATE = 0.02
# Where the sample and the due customers allow, every segment is asked enough customers
# to expect this many answers (two: a segment's own spread needs two scores).
MIN_EXPECTED_ANSWERS = 2.0


@dataclass(frozen=True)
class ResponseRates:
    """Each segment's expected response rate; `default` for a segment without history."""

    by_segment: Mapping[int, float] = field(default_factory=lambda: MappingProxyType({}))
    default: float = FIRST_RATE

    def of(self, segment_id: int) -> float:
        """The rate to expect from a segment."""
        return self.by_segment.get(segment_id, self.default)


def settled_hours(expiry_hours: int) -> int:
    """How old a check-in must be to count in the response rate: answered or expired."""
    return expiry_hours + SETTLE_HOURS


def estimate_rates(history: Iterable[ResponseCounts]) -> ResponseRates:
    """Each segment's response rate, shrunk towards the rate of all segments together: a new
    or little-asked segment starts at the overall rate and moves to its own as it is asked.
    """
    rows = list(history)
    invited = sum(r.invited for r in rows)
    scored = sum(r.scored for r in rows)
    overall = (scored + PRIOR_INVITATIONS * FIRST_RATE) / (invited + PRIOR_INVITATIONS)
    overall = max(MIN_RATE, overall)
    return ResponseRates(
        MappingProxyType(
            {
                r.segment_id: max(
                    MIN_RATE,
                    (r.scored + PRIOR_INVITATIONS * overall) / (r.invited + PRIOR_INVITATIONS),
                )
                for r in rows
            }
        ),
        overall,
    )


def _fill(
    weights: Mapping[int, float], low: Mapping[int, int], high: Mapping[int, int], size: int
) -> dict[int, float]:
    """x_h = clip(λ·w_h, low_h, high_h) with Σ x_h = size (water-filling, λ by bisection)."""

    def at(scale: float) -> dict[int, float]:
        return {s: min(high[s], max(low[s], scale * w)) for s, w in weights.items()}

    top = 1.0
    while sum(at(top).values()) < size and top < 1e18:
        top *= 2
    bottom = 0.0
    for _ in range(200):
        middle = (bottom + top) / 2
        if sum(at(middle).values()) < size:
            bottom = middle
        else:
            top = middle
    return at(top)


def allocate_by_answers(
    population: Mapping[int, int],
    eligible: Mapping[int, int],
    rates: ResponseRates,
    size: int,
    minimum: float = MIN_EXPECTED_ANSWERS,
) -> dict[int, int]:
    """Splits `size` invitations over the segments of `eligible` (due customers by segment)
    so that invitations × rate follow each segment's `population` share, never more than a
    segment's due customers; the seats a capped segment cannot use go to the others in the
    same proportion.

    Every segment gets at least enough to expect `minimum` answers (at least one invitation)
    when those minimums fit in `size` together; otherwise at least one each where `size`
    allows, as before. Whole seats by largest remainder (ties: the larger claim, then the
    smaller id).
    """
    if any(n < 0 for n in eligible.values()):
        raise ValueError(f"negative eligible count in {dict(eligible)}")
    size = max(0, min(size, sum(eligible.values())))
    if size == 0:
        return dict.fromkeys(eligible, 0)
    # Customers who are due belong to the base, whatever the base's own count says.
    weights = {
        s: max(population.get(s, 0), n) / rates.of(s) if n else 0.0 for s, n in eligible.items()
    }
    low = {s: min(n, max(1, math.ceil(minimum / rates.of(s)))) for s, n in eligible.items()}
    if sum(low.values()) > size:
        low = {s: min(n, 1) for s, n in eligible.items()}
        if sum(low.values()) > size:
            low = dict.fromkeys(eligible, 0)
    return _whole_seats(_fill(weights, low, dict(eligible), size), weights, eligible, size)


def _whole_seats(
    exact: Mapping[int, float], weights: Mapping[int, float], caps: Mapping[int, int], size: int
) -> dict[int, int]:
    """Exact shares as whole seats, by largest remainder (ties: the larger weight, then the
    smaller key), none above its cap."""
    seats = {s: min(caps[s], math.floor(x + 1e-9)) for s, x in exact.items()}
    order = sorted(
        (s for s in caps if seats[s] < caps[s]),
        key=lambda s: (-(exact[s] - seats[s]), -weights[s], s),
    )
    for key in order[: max(0, size - sum(seats.values()))]:
        seats[key] += 1
    return seats


def split_in_proportion(weights: Sequence[int], caps: Sequence[int], size: int) -> list[int]:
    """Splits `size` over positions in proportion to `weights` (their counts in the base),
    none above its cap (its due customers): the seats a capped one cannot use go to the
    others in the same proportion. Whole seats by largest remainder (ties: the larger
    weight, then the earlier position). No minimum: a small stratum may get none."""
    if any(n < 0 for n in caps):
        raise ValueError(f"negative cap in {list(caps)}")
    size = max(0, min(size, sum(caps)))
    if size == 0:
        return [0] * len(caps)
    # As in the segments' split: customers who are due belong to the base they are drawn from.
    pairs = enumerate(zip(weights, caps, strict=True))
    weight = {k: float(max(w, n)) if n else 0.0 for k, (w, n) in pairs}
    cap = dict(enumerate(caps))
    exact = _fill(weight, dict.fromkeys(cap, 0), cap, size)
    seats = _whole_seats(exact, weight, cap, size)
    return [seats[k] for k in range(len(caps))]
