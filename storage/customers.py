"""Customers: who enrolled, in which segment and language, and whether we may message them."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from storage.db import fetch_all, fetch_one


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


_PAGE = 500

_COLUMNS = (
    "user_id, chat_id, first_name, last_name, username, language, segment_id, status,"
    " paused_until, consented_at, enrolled_at, stopped_at, last_asked_at, updated_at,"
    " cooldown_days, declined_at"
)


def _customer(row: sqlite3.Row) -> Customer:
    values = dict(row)
    values["status"] = CustomerStatus(values["status"])
    return Customer(**values)


def find(conn: sqlite3.Connection, user_id: int) -> Customer | None:
    """The customer with this user id, or None."""
    row = fetch_one(
        conn,
        f"SELECT {_COLUMNS} FROM customers WHERE user_id = ?",
        (user_id,),
    )
    return None if row is None else _customer(row)


def get(conn: sqlite3.Connection, user_id: int) -> Customer:
    """The customer with this user id; raises CustomerNotFound."""
    customer = find(conn, user_id)
    if customer is None:
        raise CustomerNotFound(user_id)
    return customer


def enroll(
    conn: sqlite3.Connection, profile: Profile, *, language: str, segment_id: int, now: int
) -> Customer:
    """Enrolls (or re-enrolls, after a stop or block) a consenting customer as active.

    A re-enrollment keeps `last_asked_at`, so the cool-down still protects someone who
    stopped and came back the same day.
    """
    conn.execute(
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
    return get(conn, profile.user_id)


def set_status(
    conn: sqlite3.Connection, user_id: int, status: CustomerStatus, *, now: int
) -> Customer:
    """Marks a customer stopped, blocked or active again; raises CustomerNotFound."""
    if status is CustomerStatus.PAUSED:
        raise ValueError("pausing needs an end time")
    stopped_at = now if status in (CustomerStatus.STOPPED, CustomerStatus.BLOCKED) else None
    cursor = conn.execute(
        "UPDATE customers SET status = ?, paused_until = NULL, stopped_at = ?, updated_at = ?"
        " WHERE user_id = ?",
        (status.value, stopped_at, now, user_id),
    )
    if cursor.rowcount == 0:
        raise CustomerNotFound(user_id)
    return get(conn, user_id)


def set_language(conn: sqlite3.Connection, user_id: int, language: str, *, now: int) -> Customer:
    """Changes the language Pulse speaks to this customer; raises CustomerNotFound."""
    cursor = conn.execute(
        "UPDATE customers SET language = ?, updated_at = ? WHERE user_id = ?",
        (language, now, user_id),
    )
    if cursor.rowcount == 0:
        raise CustomerNotFound(user_id)
    return get(conn, user_id)


def list_all(conn: sqlite3.Connection) -> list[Customer]:
    """Every customer, in enrollment order."""
    return [
        _customer(row)
        for row in fetch_all(
            conn, f"SELECT {_COLUMNS} FROM customers ORDER BY enrolled_at, user_id"
        )
    ]


def count_gone(conn: sqlite3.Connection, segment_id: int | None = None) -> int:
    """Customers who stopped or blocked the bot, in one segment or all; not the anonymous
    records /forget leaves (negative ids), which stand for nobody who could come back."""
    where = "status IN ('stopped', 'blocked') AND user_id > 0"
    params: tuple[int, ...] = ()
    if segment_id is not None:
        where += " AND segment_id = ?"
        params = (segment_id,)
    row = fetch_one(conn, f"SELECT count(*) FROM customers WHERE {where}", params)
    return int(row[0]) if row else 0


def pause(conn: sqlite3.Connection, user_id: int, *, until: int, now: int) -> Customer:
    """Pauses a reachable customer until `until` (a new pause replaces the old one); raises
    CustomerNotFound when there is no reachable customer with this id."""
    cursor = conn.execute(
        "UPDATE customers SET status = 'paused', paused_until = ?, updated_at = ?"
        " WHERE user_id = ? AND status IN ('active', 'paused')",
        (until, now, user_id),
    )
    if cursor.rowcount == 0:
        raise CustomerNotFound(user_id)
    return get(conn, user_id)


def set_cooldown(
    conn: sqlite3.Connection, user_id: int, days: int | None, *, now: int
) -> Customer:
    """Sets the customer's own cool-down (None: the global one); raises CustomerNotFound."""
    cursor = conn.execute(
        "UPDATE customers SET cooldown_days = ?, updated_at = ? WHERE user_id = ?",
        (days, now, user_id),
    )
    if cursor.rowcount == 0:
        raise CustomerNotFound(user_id)
    return get(conn, user_id)


@dataclass(frozen=True)
class Contact:
    """Where and in which language to write to a customer, and their segment."""

    chat_id: int
    language: str
    segment_id: int


def contacts(conn: sqlite3.Connection, user_ids: Iterable[int]) -> dict[int, Contact]:
    """The chat, language and segment of each of these customers (those that exist)."""
    found: dict[int, Contact] = {}
    ids = list(user_ids)
    # In pages: SQLite allows a limited number of parameters per statement.
    for start in range(0, len(ids), _PAGE):
        page = ids[start : start + _PAGE]
        marks = ", ".join("?" * len(page))
        for user_id, chat_id, language, segment in fetch_all(
            conn,
            "SELECT user_id, chat_id, language, segment_id FROM customers"
            f" WHERE user_id IN ({marks})",
            page,
        ):
            found[user_id] = Contact(chat_id, language, segment)
    return found
