"""Who a round may ask: the sampling rules (`Eligibility`) as SQL over the customers table,
the per-segment counts of who is due and why the rest are not, and the due customers
themselves, read in index order so a round of tens of thousands costs one pass."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from storage.base_shares import attribute_path
from storage.db import fetch_all
from storage.invitations import OPEN_STATES


@dataclass(frozen=True)
class Eligibility:
    """The moment a round is drawn and the cool-downs that decide who it may ask (seconds).

    A reachable customer is left out for the first of these that applies: paused (a pause
    without an end too), an invitation still open, still cooling down since they were last
    asked. Their cool-down is their own (/frequency) when they set one, never shorter than
    the global one; otherwise, after "Not now" to their last check-in (declined at or after
    it was asked), `notnow_seconds`, never longer than the global one; otherwise the global
    one. It is over exactly that many seconds after `last_asked_at`.
    """

    now: int
    cooldown_seconds: int
    notnow_seconds: int | None = None

    def params(self) -> dict[str, int | None]:
        return {"now": self.now, "cooldown": self.cooldown_seconds, "notnow": self.notnow_seconds}


@dataclass(frozen=True)
class SegmentCounts:
    """A segment's reachable customers, each counted once under the first reason that leaves
    them out, or as due: never asked, or asked before and out of their cool-down."""

    segment_id: int
    population: int
    paused: int
    open_invitation: int
    cooling: int
    never_asked: int
    asked: int


@dataclass(frozen=True)
class Pool:
    """Who a round can draw from, per segment by id; `held` are customers the rules alone
    would make due but who have an invitation open, per segment (left out when picking)."""

    segments: tuple[SegmentCounts, ...]
    held: Mapping[int, tuple[int, ...]]


# The rules of `Eligibility` as SQL over a customers row, with its `params()`. The pause
# test comes first in every count, so each customer is counted under one reason only.
_REACHABLE = "status IN ('active', 'paused')"
_PAUSED = "(status = 'paused' AND (paused_until IS NULL OR paused_until > :now))"
_COOLDOWN = (
    "CASE WHEN cooldown_days IS NOT NULL THEN max(:cooldown, cooldown_days * 86400)"
    " WHEN :notnow IS NOT NULL AND declined_at >= last_asked_at THEN min(:cooldown, :notnow)"
    " ELSE :cooldown END"
)
# Only a cool-down of their own is longer than the global one: the first test settles most
# customers without working out their cool-down (measured: a fifth of the count's time).
_COOLING = (
    "((last_asked_at > :now - :cooldown OR cooldown_days IS NOT NULL)"
    f" AND last_asked_at > :now - ({_COOLDOWN}))"
)
_OPEN_SQL = "(" + ", ".join(f"'{state.value}'" for state in OPEN_STATES) + ")"
_HAS_OPEN = f"user_id IN (SELECT user_id FROM invitations WHERE state IN {_OPEN_SQL})"


# A customer's value of one attribute (:path) in the base record joined to their account;
# NULL without a record or without the attribute.
_VALUE = (
    "(SELECT json_extract(b.attributes, :path) FROM base_customers b"
    " WHERE b.user_id = customers.user_id)"
)


class AttributeValue(NamedTuple):
    """Customers whose base record has this value of an attribute (None: no value, or no
    record): one stratum of a segment when a round is stratified by the attribute."""

    attribute: str
    value: str | None


def _due_in(held: Sequence[int], stratum: AttributeValue | None = None) -> str:
    """Due by the rules alone (not paused) in segment :segment, less the `held` (:held),
    and in `stratum` (:path, :value) when one is given."""
    due = f"segment_id = :segment AND {_REACHABLE} AND NOT {_PAUSED}"
    if stratum is not None:
        due += f" AND {_VALUE} IS :value"
    # Usually nobody is held, and the test costs a fifth of a walk through a segment.
    return due + " AND user_id NOT IN (SELECT value FROM json_each(:held))" if held else due


def _stratum_params(stratum: AttributeValue | None) -> dict[str, str | None]:
    if stratum is None:
        return {}
    return {"path": attribute_path(stratum.attribute), "value": stratum.value}


def sampling_pool(
    conn: sqlite3.Connection, rules: Eligibility, segment_id: int | None = None
) -> Pool:
    """Counts every segment's reachable customers by the rules (`SegmentCounts`), by segment id.

    One pass over the index customers_sampling counts everyone but the open invitations; the
    few customers with one open are then read on their own and moved to that reason.
    """
    where = _REACHABLE
    params: dict[str, int | None] = rules.params()
    if segment_id is not None:
        where += " AND segment_id = :segment"
        params["segment"] = segment_id
    counted = conn.execute(
        f"SELECT segment_id, count(*), count(CASE WHEN {_PAUSED} THEN 1 END),"
        f" count(CASE WHEN last_asked_at IS NULL AND NOT {_PAUSED} THEN 1 END),"
        f" count(CASE WHEN {_COOLING} AND NOT {_PAUSED} THEN 1 END)"
        f" FROM customers INDEXED BY customers_sampling WHERE {where}"
        " GROUP BY segment_id ORDER BY segment_id",
        params,
    ).fetchall()
    # Per segment: how many have one open, of them never asked or cooling anyway, and the
    # rest (due by the rules alone), who picking must leave out.
    opened = {
        segment: counts
        for segment, *counts in conn.execute(
            "SELECT segment_id, count(*), count(CASE WHEN last_asked_at IS NULL THEN 1 END),"
            f" count(CASE WHEN {_COOLING} THEN 1 END),"
            f" group_concat(CASE WHEN {_COOLING} IS NOT 1 THEN user_id END) FROM customers"
            f" WHERE {where} AND NOT {_PAUSED} AND {_HAS_OPEN} GROUP BY segment_id",
            params,
        )
    }
    segments = []
    held: dict[int, tuple[int, ...]] = {}
    for segment, population, paused, never, cooling in counted:
        busy, busy_never, busy_cooling, due = opened.get(segment, [0, 0, 0, None])
        if due is not None:
            held[segment] = tuple(sorted(int(user_id) for user_id in due.split(",")))
        segments.append(
            SegmentCounts(
                segment_id=segment,
                population=population,
                paused=paused,
                open_invitation=busy,
                cooling=cooling - busy_cooling,
                never_asked=never - busy_never,
                # Due by the rules, less the open ones who are neither never asked nor cooling.
                asked=population - paused - never - cooling - (busy - busy_never - busy_cooling),
            )
        )
    return Pool(tuple(segments), MappingProxyType(held))


def never_asked(
    conn: sqlite3.Connection,
    rules: Eligibility,
    segment_id: int,
    limit: int,
    held: Sequence[int] = (),
    stratum: AttributeValue | None = None,
) -> list[int]:
    """The first `limit` due customers of a segment (of its `stratum`) who were never asked,
    by user id; `held` (an invitation open) left out.

    Read in order from customers_sampling, and as one JSON array: a round may need tens of
    thousands, and one value costs a fraction of as many rows.
    """
    rows = conn.execute(
        "SELECT json_group_array(user_id) FROM (SELECT user_id FROM customers"
        f" INDEXED BY customers_sampling WHERE last_asked_at IS NULL AND {_due_in(held, stratum)}"
        " ORDER BY user_id LIMIT :limit)",
        {
            **rules.params(),
            **_stratum_params(stratum),
            "segment": segment_id,
            "held": json.dumps(held),
            "limit": limit,
        },
    )
    # An aggregate has its one row. Sorted here too: SQL does not promise that an aggregate
    # sees the rows in the inner query's order.
    (found,) = next(iter(rows))
    return sorted(json.loads(found))


def longest_unasked(
    conn: sqlite3.Connection,
    rules: Eligibility,
    segment_id: int,
    wanted: int,
    held: Sequence[int] = (),
    stratum: AttributeValue | None = None,
) -> list[tuple[int, int]]:
    """The `wanted` due customers of a segment (of its `stratum`) asked longest ago, with
    everyone else asked at the same moment as the last of them, as (last_asked_at, user_id)
    in that order; `held` left out. Empty when fewer than `wanted` are due."""
    due = f"last_asked_at IS NOT NULL AND {_due_in(held, stratum)} AND NOT {_COOLING}"
    rows = conn.execute(
        "SELECT last_asked_at, user_id FROM customers INDEXED BY customers_sampling"
        f" WHERE {due} AND last_asked_at <= ("
        "  SELECT last_asked_at FROM customers INDEXED BY customers_sampling"
        f"  WHERE {due} ORDER BY last_asked_at LIMIT 1 OFFSET :wanted - 1"
        ") ORDER BY last_asked_at, user_id",
        {
            **rules.params(),
            **_stratum_params(stratum),
            "segment": segment_id,
            "held": json.dumps(held),
            "wanted": wanted,
        },
    )
    return [(last, user_id) for last, user_id in rows]


def due_by_value(
    conn: sqlite3.Connection,
    rules: Eligibility,
    segment_id: int,
    attribute: str,
    held: Sequence[int] = (),
) -> dict[str | None, tuple[int, int]]:
    """A segment's due customers by their value of `attribute` (None: none, or no base
    record), as (never asked, asked before and out of their cool-down); `held` left out."""
    rows = fetch_all(
        conn,
        f"SELECT {_VALUE} AS v, count(CASE WHEN last_asked_at IS NULL THEN 1 END),"
        f" count(CASE WHEN last_asked_at IS NOT NULL AND NOT {_COOLING} THEN 1 END)"
        f" FROM customers INDEXED BY customers_sampling WHERE {_due_in(held)} GROUP BY v",
        {
            **rules.params(),
            "path": attribute_path(attribute),
            "segment": segment_id,
            "held": json.dumps(held),
        },
    )
    return {None if r[0] is None else str(r[0]): (int(r[1]), int(r[2])) for r in rows}
