"""The customer's own controls as operations: a pause, how often they are asked, and their
data: what /mydata shows (as text and JSON), what /forget erases, and free-text retention."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from bot.catalog import Catalog, Html
from bot.common.excerpts import trim_quote
from bot.digest.render import FOLLOW_UP_CHARS
from conversations.checkin import VERDICTS
from storage import audit, customers, invitations, privacy, runtime_settings
from storage.customers import Customer, CustomerStatus
from storage.db import REPEATED, Database
from storage.invitations import CheckinState
from storage.privacy import CustomerData, Erased

DAY = 86_400
WEEK = 7 * DAY
MAX_PAUSE_WEEKS = 52
# /pause without a number offers these.
PAUSE_CHOICES = (1, 2, 4, 8)
# /frequency's buttons: months between check-ins; 0 is as often as the team asks everyone.
FREQUENCY_MONTHS = (0, 1, 2, 3)
DAYS_PER_MONTH = 30
REDACTED = "…"


class NotTakingPart(Exception):
    """The user is not a customer Pulse may check in with (never enrolled, or stopped)."""


class NotPaused(Exception):
    """The customer has no pause to end."""


class NothingStored(Exception):
    """Nothing at all is stored about the user."""


@dataclass(frozen=True)
class Frequency:
    """How often a customer may be asked: their own choice (None: the global cool-down),
    and the days that come to, never fewer than the global cool-down."""

    own_days: int | None
    days: int


def frequency_of(customer: Customer, global_days: int) -> Frequency:
    """The customer's cool-down as sampling counts it (storage.eligibility.Eligibility)."""
    own = customer.cooldown_days
    return Frequency(own, global_days if own is None else max(own, global_days))


def _taking_part(conn: sqlite3.Connection, user_id: int) -> Customer:
    """The customer, who takes part (enrolled, not stopped or blocked); else NotTakingPart."""
    customer = customers.find(conn, user_id)
    if customer is None or not customer.reachable:
        raise NotTakingPart(user_id)
    return customer


async def pause(db: Database, user_id: int, *, weeks: int, now: int) -> Customer | None:
    """Pauses the customer for `weeks` weeks and ends their open check-in; None when an
    earlier handling of the same update did it. Raises NotTakingPart."""
    if not 1 <= weeks <= MAX_PAUSE_WEEKS:
        raise ValueError(f"{weeks} weeks")

    def record(conn: sqlite3.Connection) -> Customer:
        _taking_part(conn, user_id)  # a refusal rolls the claim back
        paused = customers.pause(conn, user_id, until=now + weeks * WEEK, now=now)
        # "No check-ins until then": the one open now ends, with no reminder to follow.
        invitations.close_open_for_user(conn, user_id, CheckinState.STOPPED, now)
        return paused

    done = await db.write_once(record)
    return None if done is REPEATED else done


async def resume(db: Database, user_id: int, *, now: int) -> Customer | None:
    """Ends the customer's pause early; None when already done. Raises NotTakingPart or
    NotPaused."""

    def record(conn: sqlite3.Connection) -> Customer:
        customer = _taking_part(conn, user_id)  # a refusal rolls the claim back
        if customer.status is not CustomerStatus.PAUSED or (customer.paused_until or 0) <= now:
            raise NotPaused(user_id)
        return customers.set_status(conn, user_id, CustomerStatus.ACTIVE, now=now)

    done = await db.write_once(record)
    return None if done is REPEATED else done


async def frequency(db: Database, user_id: int, global_days: int) -> Frequency:
    """How often the customer may be asked now, against the global cool-down
    `global_days`; raises NotTakingPart."""
    customer = await db.read(partial(_taking_part, user_id=user_id))
    return frequency_of(customer, global_days)


async def set_frequency(
    db: Database, user_id: int, *, months: int, global_days: int, now: int
) -> Frequency | None:
    """Stores the customer's own cool-down (`months` 0: the global one, `global_days`);
    None when already done. Raises NotTakingPart."""
    if months not in FREQUENCY_MONTHS:
        raise ValueError(f"{months} months")

    def record(conn: sqlite3.Connection) -> Customer:
        _taking_part(conn, user_id)  # a refusal rolls the claim back
        days = months * DAYS_PER_MONTH or None
        return customers.set_cooldown(conn, user_id, days, now=now)

    changed = await db.write_once(record)
    return None if changed is REPEATED else frequency_of(changed, global_days)


async def my_data(db: Database, user_id: int) -> CustomerData:
    """Everything stored about the user as a customer."""
    return await db.read(partial(privacy.gather, user_id=user_id))


async def forget(db: Database, user_id: int, *, now: int) -> Erased | None:
    """Erases the customer's personal data, also from the stored digests, keeping their
    check-ins as an anonymous record; audited without personal data. None when already
    done; raises NothingStored."""

    def erase(conn: sqlite3.Connection) -> Erased:
        data = privacy.gather(conn, user_id)
        if data.empty:
            raise NothingStored(user_id)  # rolls the claim back
        needles = _needles(data)
        erased = privacy.erase(conn, user_id, now=now)
        for digest in privacy.stored_digests(conn):
            figures = _redact_json(digest.figures, needles)
            text = redact(digest.text, needles, escaped=True)
            if figures != digest.figures or text != digest.text:
                privacy.rewrite_digest(conn, digest.id, figures=figures, text=text)
        audit.record(conn, at=now, actor_id=None, action="customer.forget", subject="1 customer")
        return erased

    done = await db.write_once(erase)
    return None if done is REPEATED else done


async def apply_retention(db: Database, now: int) -> int:
    """Erases the free-text answers older than the retention setting; returns how many."""

    def erase_old(conn: sqlite3.Connection) -> int:
        config = runtime_settings.load(conn)
        if config.retention_days is None:
            return 0
        return privacy.erase_free_text(conn, now - config.retention_days * DAY)

    # Long: the first run after retention is switched on erases every older answer.
    return await db.write(erase_old, long=True)


# --- taking a forgotten customer out of the stored digests --------------------------------


def _needles(data: CustomerData) -> set[str]:
    """Every form in which the customer's name, handle or words can appear in a digest."""
    found: set[str] = set()
    customer = data.customer
    if customer is not None:
        names = (customer.first_name, customer.last_name)
        found.update(n for n in names if n)
        found.add(" ".join(n for n in names if n))
        if customer.username:
            found.update({customer.username, f"@{customer.username}"})
    if data.base is not None:
        # The digest's follow-ups name the company's id; the record itself stays.
        found.add(data.base.external_id)
    for checkin in data.checkins:
        for answer in checkin.answers:
            if answer.value and answer.question in privacy.FREE_TEXT_QUESTIONS:
                found.update(
                    {
                        answer.value,
                        trim_quote(answer.value),
                        trim_quote(answer.value, FOLLOW_UP_CHARS),
                    }
                )
    # One letter would cut through every word that has it; no name is that short.
    return {needle.strip() for needle in found if len(needle.strip()) >= 2}


def redact(text: str, needles: Iterable[str], *, escaped: bool = False) -> str:
    """`text` with every whole-word occurrence of a needle replaced by "…" (longest first;
    `escaped`: the text is HTML, so the needles are looked for HTML-escaped)."""
    for needle in sorted(needles, key=len, reverse=True):
        form = html.escape(needle, quote=False) if escaped else needle
        text = re.sub(rf"(?<!\w){re.escape(form)}(?!\w)", REDACTED, text)
    return text


def _redact_json(raw: str, needles: set[str]) -> str:
    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, needles)
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        return value

    redacted = json.dumps(walk(json.loads(raw)), ensure_ascii=False, sort_keys=True)
    # Unchanged figures keep their stored bytes exactly.
    return raw if json.loads(redacted) == json.loads(raw) else redacted


# --- /mydata ---------------------------------------------------------------------------


def _iso(moment: int | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat()


def data_json(data: CustomerData) -> bytes:
    """Everything stored about the customer as a JSON document (times in UTC, ISO 8601)."""
    customer = data.customer
    document: dict[str, Any] = {"telegram_user_id": data.user_id, "customer": None}
    if customer is not None:
        document["customer"] = {
            "first_name": customer.first_name,
            "last_name": customer.last_name,
            "username": customer.username,
            "chat_id": customer.chat_id,
            "language": customer.language,
            "segment": data.segment,
            "status": customer.status.value,
            "paused_until": _iso(customer.paused_until),
            "consented_at": _iso(customer.consented_at),
            "enrolled_at": _iso(customer.enrolled_at),
            "stopped_at": _iso(customer.stopped_at),
            "last_asked_at": _iso(customer.last_asked_at),
            "last_not_now_at": _iso(customer.declined_at),
            "own_cooldown_days": customer.cooldown_days,
        }
    if data.base is not None:
        document["customer_record"] = {
            "external_id": data.base.external_id,
            "name": data.base.name,
            "language": data.base.language,
            "attributes": json.loads(data.base.attributes),
        }
    pending = data.pending
    document["pending_invitation_to_take_part"] = (
        None
        if pending is None
        else {"since": _iso(pending.created_at), "language": pending.language}
    )
    document["said_no_to_taking_part_at"] = [_iso(at) for at in data.refusals]
    document["checkins"] = [
        {
            "asked_at": _iso(checkin.created_at),
            "state": checkin.state,
            "score": checkin.score,
            "answered_at": _iso(checkin.answered_at),
            "answers": [
                {
                    "question": answer.question,
                    "value": answer.value,
                    "skipped": answer.skipped,
                    "deleted_after_retention": not answer.skipped and answer.value is None,
                    "answered_at": _iso(answer.answered_at),
                }
                for answer in checkin.answers
            ],
        }
        for checkin in data.checkins
    ]
    document["messages_with_the_team"] = [
        {
            "from": "team" if message.direction == "to_customer" else "you",
            "text": message.text,
            "at": _iso(message.created_at),
        }
        for message in data.messages
    ]
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def data_text(catalog: Catalog, language: str, data: CustomerData, zone: ZoneInfo) -> Html:
    """Everything stored about the customer, readable, in their language."""

    def text(key: str, **params: Any) -> Html:
        return catalog.text(language, key, **params)

    def when(moment: int) -> Html:
        local = datetime.fromtimestamp(moment, zone)
        day = catalog.date(language, local)
        return text("mydata.moment", date=day, year=local.year, time=local.strftime("%H:%M"))

    if data.empty:
        return text("mydata.nothing")
    lines: list[str] = [text("mydata.title"), ""]
    customer = data.customer
    if customer is not None:
        name = " ".join(n for n in (customer.first_name, customer.last_name) if n)
        handle = f"@{customer.username}" if customer.username else text("mydata.no_handle")
        lines.append(
            text(
                "mydata.profile",
                name=name,
                handle=handle,
                user_id=customer.user_id,
                language_code=customer.language,
            )
        )
        lines.append(text("mydata.segment", segment=data.segment or "?"))
        if data.base is not None:
            lines.append(text("base.mydata_external_id", id=data.base.external_id))
        if customer.status is CustomerStatus.PAUSED and customer.paused_until is not None:
            lines.append(text("mydata.status_paused", date=when(customer.paused_until)))
        else:
            lines.append(text(f"mydata.status_{customer.status.value}"))
        lines.append(text("mydata.consented", date=when(customer.consented_at)))
        if customer.cooldown_days is not None:
            lines.append(text("mydata.frequency_own", days=customer.cooldown_days))
        else:
            lines.append(text("mydata.frequency_default"))
    if data.pending is not None:
        lines.append(text("mydata.pending", date=when(data.pending.created_at)))
    lines += [text("mydata.refusal", date=when(at)) for at in data.refusals]
    lines += ["", text("mydata.checkins_title")]
    if not data.checkins:
        lines.append(text("mydata.checkins_none"))
    for checkin in data.checkins:
        lines.append(
            text(
                "mydata.checkin",
                date=when(checkin.created_at),
                state=text(f"mydata.state.{checkin.state}"),
            )
        )
        for answer in checkin.answers:
            question = text(f"mydata.question.{answer.question}")
            if answer.skipped:
                lines.append(text("mydata.answer_skipped", question=question))
            elif answer.value is None:
                lines.append(text("mydata.answer_erased", question=question))
            else:
                value: str = answer.value
                if answer.question in ("contact", "hypothesis") and value in VERDICTS:
                    value = text(f"mydata.value.{answer.value}")
                lines.append(text("mydata.answer", question=question, value=value))
    if data.messages:
        lines += ["", text("mydata.messages_title")]
        for message in data.messages:
            key = (
                "mydata.message_to"
                if message.direction == "to_customer"
                else "mydata.message_from"
            )
            lines.append(text(key, date=when(message.created_at), text=message.text))
    return Html("\n".join(lines))
