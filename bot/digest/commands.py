"""/digest [N], /digest_now and /export: what customers said, for staff and admins only
(group -1 has already turned everyone else away)."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from telegram import InputFile, Update

from bot.common.admin_chat import AdminChat, admin_chat
from bot.common.context import PulseContext
from bot.common.parsing import InvalidArgument, WrongUsage, parse_whole
from bot.digest import sending
from bot.digest.export import (
    FORMATS,
    TELEGRAM_LIMIT,
    XLSX_ANSWERS,
    TooManyForXlsx,
    export_for_telegram,
)
from bot.team.members import describe
from storage import people

MAX_WEEKS_BACK = 52


async def digest_command(update: Update, context: PulseContext) -> None:
    """Sends the last seven days' digest, or the weekly one N weeks back, to the asker."""
    chat = await admin_chat(update, context)
    args = list(context.args or [])
    back = 0
    if args:
        try:
            back = parse_whole(args, low=1, high=MAX_WEEKS_BACK)
        except WrongUsage:
            await chat.usage("digest")
            return
        except InvalidArgument as exc:
            await chat.refuse(exc, "digest")
            return
    zone = await chat.context.zone()
    if back == 0:
        await sending.send_view(chat.services, chat.chat_id, chat.language, zone)
    else:
        await sending.send_earlier(chat.services, chat.chat_id, chat.language, zone, back)


async def _names(chat: AdminChat, user_ids: list[int]) -> str:

    def described(conn: sqlite3.Connection) -> list[str]:
        found: list[str] = []
        for user_id in user_ids:
            person = people.find_by_id(conn, user_id)
            found.append(describe(person) if person else str(user_id))
        return found

    return ", ".join(await chat.services.db.read(described))


async def digest_now_command(update: Update, context: PulseContext) -> None:
    """Sends the last seven days' digest to every admin and staff member now."""
    chat = await admin_chat(update, context)
    if context.args:
        await chat.usage("digest_now")
        return
    report = await sending.send_now(chat.services, await chat.context.zone())
    total = len(report.sent) + len(report.failed) + len(report.already)
    lines = [chat.text("digest.now_sent", sent=len(report.sent), total=total)]
    if report.failed:
        lines.append(chat.text("digest.now_failed", names=await _names(chat, report.failed)))
    await chat.send("\n".join(lines))


async def export_command(update: Update, context: PulseContext) -> None:
    """Sends every answer as a spreadsheet-safe CSV file, or an Excel workbook
    (`/export xlsx`); zipped when large, and a pointer to `pulsebot export` when even the
    zip is past what Telegram takes from a bot."""
    chat = await admin_chat(update, context)
    args = [a.casefold() for a in context.args or []]
    if len(args) > 1 or (args and args[0] not in FORMATS):
        await chat.usage("export")
        return
    kind = args[0] if args else "csv"
    services = chat.services
    stamp = services.clock.now().strftime("%Y-%m-%d")
    with tempfile.TemporaryDirectory(prefix="pulse-export-") as folder:
        try:
            exported = await export_for_telegram(
                services.db, await context.zone(), kind, Path(folder), f"pulse-answers-{stamp}"
            )
        except TooManyForXlsx:
            await chat.say("export.too_many_rows", limit=f"{XLSX_ANSWERS:,}")
            return
        if exported.count == 0:
            await chat.say("export.empty")
            return
        if not exported.fits_telegram:
            await chat.say(
                "export.too_large",
                size=round(exported.size / 1024 / 1024),
                limit=TELEGRAM_LIMIT // 1024 // 1024,
                format=kind,
            )
            return
        caption = chat.text(f"export.caption_{kind}", count=exported.count)
        if exported.zipped:
            caption = chat.text("export.zipped", caption=caption)
        with exported.path.open("rb") as data:
            await context.bot.send_document(
                chat.chat_id, InputFile(data, filename=exported.path.name), caption=caption
            )
