"""The sample size admins set for a round: a count or a percentage of the population, parsed
from what they typed and checked."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor

MAX_COUNT = 100_000

_COUNT = re.compile(r"\s*([0-9]{1,9})\s*")
# A comma too: Dutch admins write 12,5%.
_PERCENT = re.compile(r"\s*([0-9]{1,9}(?:[.,][0-9]{1,9})?)\s*%\s*")


class InvalidSampleSize(ValueError):
    """Not a sample size: a whole number from 1 to 100000, or a percentage above 0 up to 100."""


@dataclass(frozen=True)
class SampleSize:
    """How many customers a round asks: a fixed count or a percentage of the population."""

    count: int | None = None
    percent: float | None = None

    def __post_init__(self) -> None:
        if (self.count is None) == (self.percent is None):
            raise InvalidSampleSize("give a count or a percentage, not both or neither")
        if self.count is not None and not 1 <= self.count <= MAX_COUNT:
            raise InvalidSampleSize(str(self.count))
        # Written so that NaN fails too.
        if self.percent is not None and not 0 < self.percent <= 100:
            raise InvalidSampleSize(f"{self.percent}%")

    def target(self, population: int) -> int:
        """The number to ask out of `population`; a percentage asks at least one person."""
        if self.count is not None:
            return self.count
        assert self.percent is not None  # __post_init__ allows nothing else
        if population <= 0:
            return 0
        # Exact decimal arithmetic, halves rounding up: 10% of 25 asks 3, not float's 2.
        exact = Fraction(str(self.percent)) * population / 100
        return max(1, floor(exact + Fraction(1, 2)))

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        # Decimal, not float formatting, so 0.00001% is not written as 1e-05%.
        return f"{Decimal(repr(self.percent)).normalize():f}%"


def parse_sample_size(text: str) -> SampleSize:
    """The sample size an admin typed: `20`, `15%`, `15 %` or `12.5%`; raises InvalidSampleSize."""
    if match := _COUNT.fullmatch(text):
        return SampleSize(count=int(match[1]))
    if match := _PERCENT.fullmatch(text):
        return SampleSize(percent=float(match[1].replace(",", ".")))
    raise InvalidSampleSize(text)
