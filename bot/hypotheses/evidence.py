"""Hypotheses as evidence: the share of customers who recognise one, its 95 % interval, the
status the README's rule gives it, and the rotation that spreads them over a round.
Pure functions of plain data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from storage.hypotheses import Tally

Z95 = 1.959964
# Fewer answers than this and the hypothesis "needs more answers", whatever they say.
MIN_ANSWERS = 10
# "Partly" counts as half a yes.
PARTLY_WEIGHT = 0.5


class Status(StrEnum):
    SUPPORTED = "supported"
    NOT_SUPPORTED = "not_supported"
    MIXED = "mixed"
    NEEDS_MORE = "needs_more"


@dataclass(frozen=True)
class Evidence:
    """What the answers say about one hypothesis."""

    answers: int
    share: float | None  # the recognition share, (yes + ½ partly) / answers
    low: float | None
    high: float | None
    status: Status


def wilson(share: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a share from n answers (sound for small n and for
    shares near 0 or 1, where the normal interval is not)."""
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    margin = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - margin), min(1.0, centre + margin)


def evidence(tally: Tally, minimum: int = MIN_ANSWERS) -> Evidence:
    """The rule written in the README: supported when the whole 95 % interval of the
    recognition share lies above one half, not supported when it lies below, mixed when
    it straddles, and "needs more answers" below `minimum` answers."""
    n = tally.total
    if n == 0:
        return Evidence(0, None, None, None, Status.NEEDS_MORE)
    share = (tally.yes + PARTLY_WEIGHT * tally.partly) / n
    low, high = wilson(share, n)
    if n < minimum:
        status = Status.NEEDS_MORE
    elif low > 0.5:
        status = Status.SUPPORTED
    elif high < 0.5:
        status = Status.NOT_SUPPORTED
    else:
        status = Status.MIXED
    return Evidence(n, share, low, high, status)


@dataclass(frozen=True)
class Candidate:
    """An active hypothesis: its segment (None: all) and how often it was asked so far."""

    hypothesis_id: int
    segment_id: int | None
    asked: int


def rotate(
    invitations: Sequence[tuple[int, int]], candidates: Sequence[Candidate]
) -> list[tuple[int, int]]:
    """(invitation id, hypothesis id) for each (invitation id, segment id) that has a
    hypothesis to ask: the one asked least so far among those for its segment (ties to the
    oldest), counting this round's own choices, so each gathers answers evenly."""
    asked = {c.hypothesis_id: c.asked for c in candidates}
    chosen: list[tuple[int, int]] = []
    for invitation_id, segment_id in invitations:
        fitting = [c.hypothesis_id for c in candidates if c.segment_id in (None, segment_id)]
        if not fitting:
            continue
        pick = min(fitting, key=lambda h: (asked[h], h))
        asked[pick] += 1
        chosen.append((invitation_id, pick))
    return chosen


# --- what admins do with them -------------------------------------------------------

# Shown inside a question on a phone: a sentence, not a paragraph.
MAX_TEXT = 200


def split_segment(text: str, names: Sequence[str]) -> tuple[str | None, str]:
    """`[segment] <text>`: the segment when the text starts with an existing segment's
    name (the longest that fits, so names with spaces work), else None for every segment."""
    words = text.split()
    known = {" ".join(name.split()).lower(): name for name in names}
    for cut in range(len(words) - 1, 0, -1):
        found = known.get(" ".join(words[:cut]).lower())
        if found is not None:
            return found, " ".join(words[cut:])
    return None, " ".join(words)
