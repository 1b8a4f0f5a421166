"""Personal invite links: a one-time deep link per customer of the base, for /invite and for
a mail merge; only a hash of each token is stored."""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.digest.export import safe_cell
from storage import audit, customer_base, personal_invites, segments
from storage.customer_base import BaseCustomer
from storage.db import Database

VALID_DAYS = 30
DAY = 86400
PAGE = 1000


class UnknownCustomer(LookupError):
    """No customer of the base (not gone) has that external id."""


class UnknownSegment(LookupError):
    """No segment has that name."""


def deep_link(bot_username: str, token: str) -> str:
    """The link a customer opens: it sends `/start <token>` to the bot."""
    return f"https://t.me/{bot_username}?start={token}"


@dataclass(frozen=True)
class PersonalLink:
    customer: BaseCustomer
    segment: str
    link: str
    expires_at: int


async def invite_one(
    db: Database,
    external_id: str,
    *,
    bot_username: str,
    actor_id: int | None,
    now: int,
    days: int = VALID_DAYS,
) -> PersonalLink:
    """A new personal link for one customer of the base, audited; raises UnknownCustomer."""
    expires = now + days * DAY

    def create_link(conn: sqlite3.Connection) -> PersonalLink:
        found = customer_base.find_by_external_id(conn, external_id)
        if found is None or found.gone_at is not None:
            raise UnknownCustomer(external_id)
        (token,) = personal_invites.create_invites(
            conn, [found.id], created_by=actor_id, now=now, expires_at=expires
        )
        audit.record(
            conn, at=now, actor_id=actor_id, action="base.link", subject=found.external_id
        )
        segment = segments.get(conn, found.segment_id)
        return PersonalLink(found, segment.name, deep_link(bot_username, token), expires)

    return await db.write(create_link)


async def find_base_customer(db: Database, external_id: str) -> BaseCustomer | None:
    """The record (not gone) with this external id, or None."""
    found = await db.read(lambda conn: customer_base.find_by_external_id(conn, external_id))
    return found if found is not None and found.gone_at is None else None


@dataclass(frozen=True)
class LinksWritten:
    written: int
    joined: int  # already joined to an account: no link needed


async def write_links(
    db: Database,
    target: Path,
    *,
    segment: str | None,
    bot_username: str,
    actor_id: int | None,
    now: int,
    days: int = VALID_DAYS,
) -> LinksWritten:
    """Writes external id, name, segment, link and expiry for every customer of the base (of
    one segment) not yet joined to an account, with a new link each; the links are stored
    in the same transaction, so a file that could not be written leaves none behind."""
    expires = now + days * DAY

    def write_file(conn: sqlite3.Connection) -> LinksWritten:
        written = joined = 0
        segment_id = None
        names = {s.id: s.name for s in segments.list_all(conn)}
        if segment is not None:
            found = segments.find_by_name(conn, segment)
            if found is None:
                raise UnknownSegment(segment)
            segment_id = found.id
        with target.open("x", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["external_id", "name", "segment", "link", "expires"])
            last = 0
            while page := customer_base.page_in_segment(conn, segment_id, last, PAGE):
                last = page[-1].id
                wanted = [c for c in page if c.user_id is None]
                joined += len(page) - len(wanted)
                tokens = personal_invites.create_invites(
                    conn, [c.id for c in wanted], created_by=actor_id, now=now, expires_at=expires
                )
                for record, token in zip(wanted, tokens, strict=True):
                    writer.writerow(
                        [
                            safe_cell(record.external_id),
                            safe_cell(record.name),
                            safe_cell(names.get(record.segment_id, "")),
                            deep_link(bot_username, token),
                            _day(expires),
                        ]
                    )
                written += len(wanted)
        audit.record(
            conn,
            at=now,
            actor_id=actor_id,
            action="base.links",
            subject=segment or "*",
            new_value=str(written),
        )
        return LinksWritten(written, joined)

    # Long: a link for every customer of the base, in one transaction.
    return await db.write(write_file, long=True)


def _day(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).date().isoformat()
