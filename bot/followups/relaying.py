"""Messages through a follow-up thread: a team member's reply relayed to the customer as
coming from the team, and the customer's answer passed back to that team member. Each
message is stored before it is sent; no transaction awaits Telegram."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from functools import partial

from telegram.error import Forbidden, TelegramError

from bot.common.context import PulseBot, Services
from bot.common.roles import role_of
from bot.followups.alerts import customer_label, thread_markup
from bot.followups.threads import Other, Outcome, Step, name_of
from storage import customers, followup_messages, people
from storage import followups as threads
from storage.customers import CustomerStatus
from storage.db import REPEATED
from storage.followup_messages import Direction
from storage.followups import Facts, Followup, FollowupStatus, SendStatus

log = logging.getLogger(__name__)

# A reply longer than this is refused: with the team's heading it must fit one message.
MAX_REPLY_CHARS = 3000


def _others(
    conn: sqlite3.Connection, followup_id: int, staff_id: int, since: int | None = None
) -> tuple[Other, ...]:
    """Who else replied in the thread (the latest reply) or is writing one now."""
    found: list[Other] = []
    reply = followup_messages.last_reply_by_other(conn, followup_id, staff_id, since)
    if reply is not None:
        name = reply.staff_name or name_of(conn, reply.staff_id)
        found.append(Other(name, reply.created_at, reply.text))
    if since is None:
        for draft in followup_messages.drafts_for(conn, followup_id):
            if draft.staff_id != staff_id:
                name = draft.staff_name or name_of(conn, draft.staff_id)
                found.append(Other(name, draft.created_at, None))
    return tuple(found)


async def start_reply(
    services: Services, followup_id: int, staff_id: int, staff_name: str, *, confirmed: bool
) -> Step:
    """Reply pressed: the team member's next text goes to the customer. When someone else
    already replied or is writing, that is shown instead, until they press "Add a reply"
    (`confirmed`)."""
    now = services.now()

    def begin(conn: sqlite3.Connection) -> Step:
        followup = threads.find(conn, followup_id)
        if followup is None:
            return Step(Outcome.MISSING)
        facts = threads.facts(conn, followup)
        if followup.status is FollowupStatus.DONE:
            closer = name_of(conn, followup.closed_by) if followup.closed_by else None
            return Step(Outcome.CLOSED, followup, facts, closed_by=closer)
        others = _others(conn, followup_id, staff_id)
        if others and not confirmed:
            return Step(Outcome.OTHERS, followup, facts, others)
        followup_messages.put_draft(
            conn, staff_id, staff_name, followup_id, confirmed=confirmed, now=now
        )
        return Step(Outcome.WRITING, followup, facts, others, staff_name=staff_name)

    done = await services.db.write_once(begin)
    return Step(Outcome.ALREADY) if done is REPEATED else done


async def cancel_reply(services: Services, staff_id: int) -> Step:
    """Drops the reply the team member was writing (and any text held for confirmation)."""

    def drop(conn: sqlite3.Connection) -> Step:
        draft = followup_messages.drop_draft(conn, staff_id)
        if draft is None:
            return Step(Outcome.NOTHING)
        followup = threads.get(conn, draft.followup_id)
        return Step(Outcome.CANCELLED, followup, threads.facts(conn, followup))

    return await services.db.write(drop)


@dataclass(frozen=True)
class _Relay:
    """A reply recorded and ready to send (`message_id`), or the step that ends it here."""

    step: Step
    message_id: int | None = None
    user_id: int = 0
    chat_id: int = 0
    language: str = "en"
    text: str = ""


async def relay(
    services: Services, bot: PulseBot, staff_id: int, staff_name: str, text: str | None
) -> Step:
    """Sends the team member's reply to the thread's customer, marked as from the team:
    `text`, or with None the text held while they confirmed. Stored before it is sent."""
    if text is not None and len(text.strip()) > MAX_REPLY_CHARS:
        return Step(Outcome.TOO_LONG)
    prepared = await _prepare_relay(services, staff_id, staff_name, text)
    if prepared.message_id is None:
        return prepared.step
    step = prepared.step
    reply = services.catalog.text(
        prepared.language, "followups.from_team", staff=staff_name, text=prepared.text
    )
    error: str | None = None
    try:
        await bot.send_message(prepared.chat_id, reply)
    except Forbidden as exc:
        error = exc.message
        message_id, now = prepared.message_id, services.now()

        def blocked(conn: sqlite3.Connection) -> None:
            followup_messages.finish_message(conn, message_id, SendStatus.FAILED, error)
            customers.set_status(conn, prepared.user_id, CustomerStatus.BLOCKED, now=now)

        await services.db.write(blocked)
        return Step(Outcome.GONE, step.followup, step.facts, error=error)
    except TelegramError as exc:
        error = exc.message
        log.warning("reply in follow-up %s failed: %s", step.followup and step.followup.id, error)
    status = SendStatus.SENT if error is None else SendStatus.FAILED
    await services.db.write(
        partial(
            followup_messages.finish_message,
            message_id=prepared.message_id,
            status=status,
            error=error,
        )
    )
    if error is not None:
        return Step(Outcome.FAILED, step.followup, step.facts, error=error)
    return step


async def _prepare_relay(
    services: Services, staff_id: int, staff_name: str, text: str | None
) -> _Relay:
    now = services.now()

    def record(conn: sqlite3.Connection) -> _Relay:
        draft = followup_messages.find_draft(conn, staff_id)
        if draft is None or (text is None and draft.text is None):
            return _Relay(Step(Outcome.NOTHING))
        body = (text if text is not None else draft.text or "").strip()
        if not body:
            return _Relay(Step(Outcome.NOTHING))
        followup = threads.get(conn, draft.followup_id)
        facts = threads.facts(conn, followup)
        if followup.status is FollowupStatus.DONE:
            followup_messages.drop_draft(conn, staff_id)
            closer = name_of(conn, followup.closed_by) if followup.closed_by else None
            return _Relay(Step(Outcome.CLOSED, followup, facts, closed_by=closer))
        if not draft.confirmed and text is not None:
            others = _others(conn, followup.id, staff_id, since=draft.created_at)
            if others:
                followup_messages.hold_draft_text(conn, staff_id, body)
                return _Relay(Step(Outcome.MEANWHILE, followup, facts, others))
        followup_messages.drop_draft(conn, staff_id)
        customer = customers.find(conn, followup.user_id)
        gone = customer is None or customer.status in (
            CustomerStatus.STOPPED,
            CustomerStatus.BLOCKED,
        )
        message_id = followup_messages.add_message(
            conn,
            followup.id,
            Direction.TO_CUSTOMER,
            staff_id=staff_id,
            staff_name=staff_name,
            text=body,
            now=now,
            # Kept as failed, so the thread shows what the team member wrote.
            status=SendStatus.FAILED if gone else SendStatus.SENDING,
            error=("customer stopped" if customer else "customer unknown") if gone else None,
        )
        if gone or customer is None:  # (None is gone too; said again for the type checker)
            return _Relay(Step(Outcome.GONE, followup, facts))
        return _Relay(
            Step(Outcome.SENT, followup, facts, staff_name=staff_name),
            message_id,
            customer.user_id,
            customer.chat_id,
            customer.language,
            body,
        )

    # The claim and the message it records in one transaction: a reply is relayed at most
    # once, and sent only after it is stored.
    recorded = await services.db.write_once(record)
    return _Relay(Step(Outcome.ALREADY)) if recorded is REPEATED else recorded


@dataclass(frozen=True)
class PassedBack:
    """A customer's answer in a thread, stored and (unless `error`) with its team member;
    `followup` is None when an earlier handling of the same message did all this."""

    followup: Followup | None
    facts: Facts | None = None
    staff_id: int | None = None
    staff_name: str | None = None
    error: str | None = None


async def pass_back(
    services: Services, bot: PulseBot, thread: Followup, text: str
) -> PassedBack | None:
    """Stores the customer's message in their thread, then passes it to the team member
    who last wrote to them, in their language, with Reply and Mark done. None when the
    thread was closed in the meantime and no longer takes it."""
    now = services.now()

    def store(conn: sqlite3.Connection) -> tuple[Followup, int, int, Facts, str, str] | None:
        followup = threads.get(conn, thread.id)
        if followup.status is FollowupStatus.DONE or followup.replier_id is None:
            return None
        staff_id = followup.replier_id
        message_id = followup_messages.add_message(
            conn,
            followup.id,
            Direction.FROM_CUSTOMER,
            staff_id=staff_id,
            staff_name=None,
            text=text.strip(),
            now=now,
        )
        facts = threads.facts(conn, followup)
        return (
            followup,
            staff_id,
            message_id,
            facts,
            name_of(conn, staff_id),
            _language_of(conn, staff_id),
        )

    stored = await services.db.write_once(store)
    if stored is REPEATED:
        return PassedBack(None)
    if stored is None:
        return None
    followup, staff_id, message_id, facts, staff_name, staff_language = stored
    catalog = services.catalog
    forwarded = catalog.text(
        staff_language,
        "followups.customer_replied",
        id=followup.id,
        customer=customer_label(catalog, staff_language, facts),
        # Within one message: the whole answer is stored, and /followups shows it.
        text=_within_message(text.strip()),
    )
    markup = thread_markup(catalog, staff_language, followup.id)
    error: str | None = None
    if await role_of(services.db, services.settings.admin_ids, staff_id) is None:
        # They left the team: the answer is kept in the thread (/followups shows it) and
        # goes to no one outside the team.
        error = "no longer on the team"
    else:
        try:
            await bot.send_message(staff_id, forwarded, reply_markup=markup)
        except TelegramError as exc:
            error = exc.message
            log.warning("answer in follow-up %s not passed back: %s", followup.id, error)
    status = SendStatus.SENT if error is None else SendStatus.FAILED
    await services.db.write(
        partial(
            followup_messages.finish_message, message_id=message_id, status=status, error=error
        )
    )
    return PassedBack(followup, facts, staff_id, staff_name, error=error)


# A customer's answer is passed on up to this many characters (Telegram takes 4096, with
# the heading and the HTML escaping).
PASSED_ON_CHARS = 3000


def _within_message(text: str) -> str:
    return text if len(text) <= PASSED_ON_CHARS else text[: PASSED_ON_CHARS - 1] + "…"


def _language_of(conn: sqlite3.Connection, user_id: int) -> str:
    person = people.find_by_id(conn, user_id)
    return person.language if person is not None else "en"
