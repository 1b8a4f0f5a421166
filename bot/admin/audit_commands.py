"""/audit [N]: the last changes, who made them and when, old → new."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from telegram import Update

from bot.common.admin_chat import AdminChat, admin_chat
from bot.common.context import PulseContext
from bot.common.display import run_text
from bot.common.parsing import InvalidArgument, WrongUsage, parse_audit_count
from bot.team.members import describe
from storage import audit, people
from storage.audit import AuditEntry

# Values longer than this (a question's wording) are cut in the list.
VALUE_CHARS = 60


def value_text(raw: str | None) -> str:
    """A stored value as the list shows it: JSON decoded, lists joined, long text cut."""
    if raw is None:
        return "–"
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    if isinstance(value, list):
        text = ",".join(str(item) for item in value)
    elif value is None:
        text = "–"
    else:
        text = str(value)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


async def _lines(chat: AdminChat, entries: list[AuditEntry], zone: ZoneInfo) -> list[str]:
    services = chat.services

    def actor_names(conn: sqlite3.Connection) -> dict[int, str]:
        names: dict[int, str] = {}
        for actor in {e.actor_id for e in entries if e.actor_id is not None}:
            person = people.find_by_id(conn, actor)
            names[actor] = describe(person) if person else str(actor)
        return names

    names = await services.db.read(actor_names)
    action_keys = services.catalog.keys(chat.language)
    lines: list[str] = []
    for entry in entries:
        key = f"audit.action.{entry.action}"
        what = chat.text(key) if key in action_keys else entry.action
        who = names[entry.actor_id] if entry.actor_id is not None else chat.text("audit.nobody")
        moment = datetime.fromtimestamp(entry.at, UTC).astimezone(zone)
        params = {
            "when": run_text(services.catalog, chat.language, moment),
            "who": who,
            "what": what,
            "subject": entry.subject,
        }
        if entry.old_value is None and entry.new_value is None:
            lines.append(chat.text("audit.line_plain", **params))
        else:
            old, new = value_text(entry.old_value), value_text(entry.new_value)
            lines.append(chat.text("audit.line", old=old, new=new, **params))
    return lines


async def audit_command(update: Update, context: PulseContext) -> None:
    """Lists the newest N changes (10 unless asked for up to 50)."""
    chat = await admin_chat(update, context)
    services = context.services
    try:
        count = parse_audit_count(list(context.args or []))
    except WrongUsage:
        await chat.usage("audit")
        return
    except InvalidArgument as exc:
        await chat.refuse(exc, "audit")
        return
    entries = await services.db.read(lambda conn: audit.recent(conn, count))
    config = await context.config()
    if not entries:
        await chat.say("audit.empty")
        return
    zone = config.zone(services.settings.timezone)
    lines: list[str] = [chat.text("audit.title", count=len(entries))]
    lines += await _lines(chat, entries, zone)
    await chat.send("\n".join(lines))
