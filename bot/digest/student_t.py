"""Student's t quantile for intervals from few answers, with fractional degrees of freedom
(Satterthwaite's), computed from the regularised incomplete beta function: no SciPy."""

from __future__ import annotations

import math

# Below one degree of freedom the quantile runs off to infinity; no estimate here has so few.
MIN_DF = 1.0
# Past this many degrees of freedom t and the normal quantile agree to 4 decimals.
NORMAL_DF = 1e6
_Z975 = 1.959964


def _continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), for a, b > 0 and 0 ≤ x ≤ 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    # The fraction converges fast only on its own side of the mean; the symmetry covers the other.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _continued_fraction(a, b, x) / a
    return 1.0 - front * _continued_fraction(b, a, 1.0 - x) / b


def upper_tail(t: float, df: float) -> float:
    """P(T > t) for t ≥ 0 under Student's t with `df` degrees of freedom."""
    return 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))


def quantile_975(df: float) -> float:
    """The 97.5 % quantile of Student's t (two-sided 95 %), `df` clamped to at least 1."""
    df = max(MIN_DF, df)
    if df >= NORMAL_DF:
        return _Z975
    low, high = _Z975, 13.0  # t(1) = 12.706: every quantile lies between these
    for _ in range(60):
        middle = (low + high) / 2.0
        if upper_tail(middle, df) > 0.025:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0
