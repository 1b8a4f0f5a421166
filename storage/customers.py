"""Customers: who enrolled, in which segment and language, and whether we may message them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

import aiosqlite

from storage.base_shares import attribute_path
from storage.db import fetch_all, fetch_one
from storage.invitations import OPEN_STATES


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    STOPPED = "stopped"
    BLOCKED = "blocked"


class CustomerNotFound(LookupError):
    """No customer has that Telegram user id."""


@dataclass(frozen=True)
class Customer:
    user_id: int
    chat_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str
    segment_id: int
    status: CustomerStatus
    paused_until: int | None
    consented_at: int
    enrolled_at: int
    stopped_at: int | None
    last_asked_at: int | None
    updated_at: int
    # Their own cool-down (/frequency; None: the global one), and their last "Not now".
    cooldown_days: int | None = None
    declined_at: int | None = None

    @property
    def reachable(self) -> bool:
        """Whether Pulse may send this customer anything unprompted at all."""
        return self.status in (CustomerStatus.ACTIVE, CustomerStatus.PAUSED)


@dataclass(frozen=True)
class Profile:
    """What Telegram tells us about a person, as enrollment stores it."""

    user_id: int
    chat_id: int
    first_name: str
    last_name: str | None
    username: str | None


_OPEN_SQL = "(" + ", ".join(f"'{state.value}'" for state in OPEN_STATES) + ")"
_PAGE = 500

_COLUMNS = (
    "user_id, chat_id, first_name, last_name, username, language, segment_id, status,"
    " paused_until, consented_at, enrolled_at, stopped_at, last_asked_at, updated_at,"
    " cooldown_days, declined_at"
)


def _customer(row: aiosqlite.Row) -> Customer:
    values = dict(row)
    values["status"] = CustomerStatus(values["status"])
    return Customer(**values)


async def find(conn: aiosqlite.Connection, user_id: int) -> Customer | None:
    """The customer with this user id, or None."""
    row = await fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM customers WHERE user_id = ?",
        (user_id,),
    )
    return None if row is None else _customer(row)


async def get(conn: aiosqlite.Connection, user_id: int) -> Customer:
    """The customer with this user id; raises CustomerNotFound."""
    customer = await find(conn, user_id)
    if customer is None:
        raise CustomerNotFound(user_id)
    return customer


async def enroll(
    conn: aiosqlite.Connection, profile: Profile, *, language: str, segment_id: int, now: int
) -> Customer:
    """Enrolls (or re-enrolls, after a stop or block) a consenting customer as active.

    A re-enrollment keeps `last_asked_at`, so the cool-down still protects someone who
    stopped and came back the same day.
    """
    await conn.execute(
        "INSERT INTO customers (user_id, chat_id, first_name, last_name, username, language,"
        " segment_id, status, consented_at, enrolled_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET chat_id = excluded.chat_id,"
        " first_name = excluded.first_name, last_name = excluded.last_name,"
        " username = excluded.username, language = excluded.language,"
        " segment_id = excluded.segment_id, status = 'active', paused_until = NULL,"
        " consented_at = excluded.consented_at, stopped_at = NULL,"
        " updated_at = excluded.updated_at",
        (
            profile.user_id,
            profile.chat_id,
            profile.first_name,
            profile.last_name,
            profile.username,
            language,
            segment_id,
            now,
            now,
            now,
        ),
    )
    return await get(conn, profile.user_id)


async def set_status(
    conn: aiosqlite.Connection, user_id: int, status: CustomerStatus, *, now: int
) -> Customer:
    """Marks a customer stopped, blocked or active again; raises CustomerNotFound."""
    if status is CustomerStatus.PAUSED:
        raise ValueError("pausing needs an end time")
    stopped_at = now if status in (CustomerStatus.STOPPED, CustomerStatus.BLOCKED) else None
    cursor = await conn.execute(
        "UPDATE customers SET status = ?, paused_until = NULL, stopped_at = ?, updated_at = ?"
        " WHERE user_id = ?",
        (status.value, stopped_at, now, user_id),
    )
    if cursor.rowcount == 0:
        raise CustomerNotFound(user_id)
    return await get(conn, user_id)


async def set_language(
    conn: aiosqlite.Connection, user_id: int, language: str, *, now: int
) -> Customer:
    """Changes the language Pulse speaks to this customer; raises CustomerNotFound."""
    cursor = await conn.execute(
        "UPDATE customers SET language = ?, updated_at = ? WHERE user_id = ?",
        (language, now, user_id),
    )
    if cursor.rowcount == 0:
        raise CustomerNotFound(user_id)
    return await get(conn, user_id)


async def list_all(conn: aiosqlite.Connection) -> list[Customer]:
    """Every customer, in enrollment order."""
    return [
        _customer(row)
        for row in await fetch_all(
            conn, f"SELECT {_COLUMNS} FROM customers ORDER BY enrolled_at, user_id"
        )
    ]


async def count_gone(conn: aiosqlite.Connection, segment_id: int | None = None) -> int:
    """Customers who stopped or blocked the bot, in one segment or all; not the anonymous
    records /forget leaves (negative ids), which stand for nobody who could come back."""
    where = "status IN ('stopped', 'blocked') AND user_id > 0"
    params: tuple[int, ...] = ()
    if segment_id is not None:
        where += " AND segment_id = ?"
        params = (segment_id,)
    row = await fetch_one(conn, f"SELECT count(*) FROM customers WHERE {where}", params)
    return int(row[0]) if row else 0


async def pause(conn: aiosqlite.Connection, user_id: int, *, until: int, now: int) -> Customer:
    """Pauses a reachable customer until `until` (a new pause replaces the old one); raises
    CustomerNotFound when there is no reachable customer with this id."""
    cursor = await conn.execute(
        "UPDATE customers SET status = 'paused', paused_until = ?, updated_at = ?"
        " WHERE user_id = ? AND status IN ('active', 'paused')",
        (until, now, user_id),
    )
    if cursor.rowcount == 0:
        raise CustomerNotFound(user_id)
    return await get(conn, user_id)


async def set_cooldown(
    conn: aiosqlite.Connection, user_id: int, days: int | None, *, now: int
) -> Customer:
    """Sets the customer's own cool-down (None: the global one); raises CustomerNotFound."""
    cursor = await conn.execute(
        "UPDATE customers SET cooldown_days = ?, updated_at = ? WHERE user_id = ?",
        (days, now, user_id),
    )
    if cursor.rowcount == 0:
        raise CustomerNotFound(user_id)
    return await get(conn, user_id)


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


async def sampling_pool(
    conn: aiosqlite.Connection, rules: Eligibility, segment_id: int | None = None
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
    counted = await conn.execute_fetchall(
        f"SELECT segment_id, count(*), count(CASE WHEN {_PAUSED} THEN 1 END),"
        f" count(CASE WHEN last_asked_at IS NULL AND NOT {_PAUSED} THEN 1 END),"
        f" count(CASE WHEN {_COOLING} AND NOT {_PAUSED} THEN 1 END)"
        f" FROM customers INDEXED BY customers_sampling WHERE {where}"
        " GROUP BY segment_id ORDER BY segment_id",
        params,
    )
    # Per segment: how many have one open, of them never asked or cooling anyway, and the
    # rest (due by the rules alone), who picking must leave out.
    opened = {
        segment: counts
        for segment, *counts in await conn.execute_fetchall(
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


async def never_asked(
    conn: aiosqlite.Connection,
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
    rows = await conn.execute_fetchall(
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


async def longest_unasked(
    conn: aiosqlite.Connection,
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
    rows = await conn.execute_fetchall(
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


async def due_by_value(
    conn: aiosqlite.Connection,
    rules: Eligibility,
    segment_id: int,
    attribute: str,
    held: Sequence[int] = (),
) -> dict[str | None, tuple[int, int]]:
    """A segment's due customers by their value of `attribute` (None: none, or no base
    record), as (never asked, asked before and out of their cool-down); `held` left out."""
    rows = await fetch_all(
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


@dataclass(frozen=True)
class Contact:
    """Where and in which language to write to a customer, and their segment."""

    chat_id: int
    language: str
    segment_id: int


async def contacts(conn: aiosqlite.Connection, user_ids: Iterable[int]) -> dict[int, Contact]:
    """The chat, language and segment of each of these customers (those that exist)."""
    found: dict[int, Contact] = {}
    ids = list(user_ids)
    # In pages: SQLite allows a limited number of parameters per statement.
    for start in range(0, len(ids), _PAGE):
        page = ids[start : start + _PAGE]
        marks = ", ".join("?" * len(page))
        for user_id, chat_id, language, segment in await fetch_all(
            conn,
            "SELECT user_id, chat_id, language, segment_id FROM customers"
            f" WHERE user_id IN ({marks})",
            page,
        ):
            found[user_id] = Contact(chat_id, language, segment)
    return found
