"""Follow-up threads after an alert, as the team works them: where a private text goes (a
reply being written, or a customer's answer), a thread marked done, and the /followups list.
The messages relayed through a thread, both ways, are relaying.py's."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from bot.common.context import Services
from bot.common.roles import role_of
from storage import audit, followup_messages, people
from storage import followups as threads
from storage.db import REPEATED
from storage.followup_messages import Direction, Draft, ThreadMessage
from storage.followups import Facts, Followup, FollowupStatus, SendStatus


class Outcome(StrEnum):
    """How a follow-up step ended, for the handler to say."""

    WRITING = "writing"  # the team member may type their reply now
    OTHERS = "others"  # someone else replied or is writing: shown, not started
    CLOSED = "closed"
    MISSING = "missing"
    ALREADY = "already"  # handled before a restart
    SENT = "sent"
    MEANWHILE = "meanwhile"  # someone else replied while they wrote: held for confirmation
    GONE = "gone"  # the customer stopped or blocked the bot
    FAILED = "failed"
    TOO_LONG = "too_long"
    CANCELLED = "cancelled"
    NOTHING = "nothing"
    DONE = "done"


@dataclass(frozen=True)
class Other:
    """Another team member's part in a thread: a reply they sent, or one they are writing."""

    name: str
    at: int
    text: str | None  # None: still writing


@dataclass(frozen=True)
class Step:
    """The result of a follow-up operation."""

    outcome: Outcome
    followup: Followup | None = None
    facts: Facts | None = None
    others: tuple[Other, ...] = ()
    error: str | None = None
    closed_by: str | None = None
    staff_name: str | None = None


@dataclass(frozen=True)
class Route:
    """Where typed text goes: a team member's reply, or a customer's answer to one."""

    staff_draft: Draft | None = None
    customer_thread: Followup | None = None


def name_of(conn: sqlite3.Connection, user_id: int) -> str:
    """A team member's (or anyone's) first name as Pulse knows it, else their id."""
    person = people.find_by_id(conn, user_id)
    return person.name if person is not None and person.name else str(user_id)


async def route_text(services: Services, user_id: int) -> Route:
    """Where a private text from `user_id` goes before (or instead of) the check-in: their
    reply being written, if they are writing one; else, when no check-in question of theirs
    is open, the thread a team member last wrote to them in."""
    now = services.now()
    draft = await services.db.read(partial(followup_messages.find_draft, staff_id=user_id))
    if draft is not None:
        if await role_of(services.db, services.settings.admin_ids, user_id) is not None:
            return Route(staff_draft=draft)
        # Taken off the team while writing: their text never reaches a customer.
        await services.db.write(partial(followup_messages.drop_draft, staff_id=user_id))

    def waiting(conn: sqlite3.Connection) -> Followup | None:
        thread = threads.waiting_for_customer(conn, user_id)
        if thread is None or threads.checkin_question_open(conn, user_id, now):
            return None
        return thread

    thread = await services.db.read(waiting)
    return Route() if thread is None else Route(customer_thread=thread)


async def close(services: Services, followup_id: int, actor_id: int) -> Step:
    """Marks a thread done, audited in the same transaction."""
    now = services.now()

    def mark_done(conn: sqlite3.Connection) -> Step:
        followup = threads.find(conn, followup_id)
        if followup is None:
            return Step(Outcome.MISSING)
        facts = threads.facts(conn, followup)
        if not threads.close(conn, followup_id, actor_id=actor_id, now=now):
            closer = name_of(conn, followup.closed_by) if followup.closed_by else None
            return Step(Outcome.CLOSED, followup, facts, closed_by=closer)
        audit.record(
            conn,
            at=now,
            actor_id=actor_id,
            action="followup.done",
            subject=f"#{followup_id}",
            old_value=FollowupStatus.OPEN.value,
            new_value=FollowupStatus.DONE.value,
        )
        return Step(Outcome.DONE, threads.get(conn, followup_id), facts)

    done = await services.db.write_once(mark_done)
    return Step(Outcome.ALREADY) if done is REPEATED else done


@dataclass(frozen=True)
class Listed:
    """A thread as /followups shows it."""

    followup: Followup
    facts: Facts
    repliers: tuple[str, ...]
    last: ThreadMessage | None
    closed_by: str | None


async def listing(
    services: Services, status: FollowupStatus, limit: int
) -> tuple[list[Listed], int]:
    """The most recently active threads with this status, and how many there are."""

    def gather(conn: sqlite3.Connection) -> tuple[list[Listed], int]:
        total = threads.count(conn, status)
        found = threads.listing(conn, status, limit)
        listed: list[Listed] = []
        for followup in found:
            thread = followup_messages.messages(conn, followup.id)
            names: dict[int, str] = {}
            for m in thread:
                if m.direction is Direction.TO_CUSTOMER and m.status is not SendStatus.FAILED:
                    names.setdefault(m.staff_id, m.staff_name or name_of(conn, m.staff_id))
            closer = name_of(conn, followup.closed_by) if followup.closed_by else None
            listed.append(
                Listed(
                    followup,
                    threads.facts(conn, followup),
                    tuple(names.values()),
                    thread[-1] if thread else None,
                    closer,
                )
            )
        return listed, total

    return await services.db.read(gather)
