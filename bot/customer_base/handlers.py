"""A customer base CSV sent to the bot by an admin: its preview, and the buttons that import
it (marking the missing customers gone, or not) or cancel it."""

from __future__ import annotations

import re
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from bot.catalog import Html
from bot.common import fallbacks
from bot.common.context import PulseContext
from bot.common.profiles import sender
from bot.common.roles import role_of
from bot.customer_base import uploads
from bot.customer_base.importing import ImportAlreadyDecided
from bot.customer_base.report import file_problem_text, report_text
from bot.customer_base.rows import FileProblem
from storage.team import Role

# "base:import:<id>", "base:gone:<id>" (and mark the missing gone), "base:cancel:<id>".
IMPORT_DATA = re.compile(r"^base:(import|gone|cancel):(\d{1,18})$")
_CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")


async def document_message(update: Update, context: PulseContext) -> None:
    """Previews a customer base CSV from an admin; anyone else's file gets the usual reply."""
    services = context.services
    profile, telegram_language = sender(update)
    message = update.effective_message
    document = message.document if message else None
    role = await role_of(services.db, services.settings.admin_ids, profile.user_id)
    if document is None or role is not Role.ADMIN:
        await fallbacks.non_text_message(update, context)
        return
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    catalog = services.catalog
    name = document.file_name or "customers.csv"
    # By its name where it has an extension (a .pdf sent as text/plain is not a CSV).
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".txt") and (suffix or document.mime_type not in _CSV_TYPES):
        await context.bot.send_message(
            profile.chat_id, catalog.text(language, "base.document_not_csv")
        )
        return
    if (document.file_size or 0) > uploads.DOWNLOAD_LIMIT:
        text = catalog.text(language, "base.document_too_big", limit=uploads.DOWNLOAD_LIMIT >> 20)
        await context.bot.send_message(profile.chat_id, text)
        return
    path = uploads.new_path(uploads.folder_for(services.settings.database_path))
    try:
        telegram_file = await context.bot.get_file(document.file_id)
        await telegram_file.download_to_drive(path)
    except (TelegramError, OSError):
        path.unlink(missing_ok=True)
        await context.bot.send_message(
            profile.chat_id, catalog.text(language, "base.document_failed")
        )
        return
    try:
        previewed = await uploads.receive(
            services.db, path, file_name=name, actor_id=profile.user_id, now=services.now()
        )
    except FileProblem as problem:
        await context.bot.send_message(
            profile.chat_id, file_problem_text(catalog, language, problem)
        )
        return
    report = previewed.report
    lines = [report_text(catalog, language, report, preview=True)]
    if previewed.pending is None:
        lines.append(catalog.text(language, "base.nothing_written"))
        await context.bot.send_message(profile.chat_id, Html("\n\n".join(lines)))
        return
    lines.append(
        catalog.text(language, "base.preview_blocked" if report.bad else "base.preview_hint")
    )
    pending_id = previewed.pending.id
    label = "base.button_import_good" if report.bad else "base.button_import"
    row = [
        InlineKeyboardButton(
            catalog.text(language, label), callback_data=f"base:import:{pending_id}"
        )
    ]
    if report.missing:
        gone = catalog.text(language, "base.button_import_gone", missing=report.missing)
        row.append(InlineKeyboardButton(gone, callback_data=f"base:gone:{pending_id}"))
    cancel = InlineKeyboardButton(
        catalog.text(language, "base.button_cancel"), callback_data=f"base:cancel:{pending_id}"
    )
    await context.bot.send_message(
        profile.chat_id,
        Html("\n\n".join(lines)),
        reply_markup=InlineKeyboardMarkup([row, [cancel]]),
    )


async def import_button(update: Update, context: PulseContext) -> None:
    """Imports (or cancels) a previewed file, once, for the admin who sent it."""
    query = update.callback_query
    match = IMPORT_DATA.match(query.data or "") if query else None
    if query is None or match is None:
        return
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    catalog = services.catalog
    action, import_id = match[1], int(match[2])
    try:
        if action == "cancel":
            await uploads.cancel(
                services.db, import_id, actor_id=profile.user_id, now=services.now()
            )
            text = catalog.text(language, "base.cancelled")
        else:
            report = await uploads.confirm(
                services.db,
                import_id,
                actor_id=profile.user_id,
                mark_gone=action == "gone",
                now=services.now(),
            )
            text = report_text(catalog, language, report, preview=False)
    except uploads.UnknownImport:
        await query.answer(catalog.text(language, "general.button_unknown"))
        return
    except uploads.NotYours:
        await query.answer(catalog.text(language, "base.not_yours"))
        return
    except ImportAlreadyDecided:
        await query.answer(catalog.text(language, "base.decided"))
        return
    except uploads.FileLost:
        text = catalog.text(language, "base.file_lost")
    except FileProblem as problem:
        text = file_problem_text(catalog, language, problem)
    await query.answer()
    await context.bot.send_message(profile.chat_id, text)
    if query.message is not None:
        await context.bot.edit_message_reply_markup(
            profile.chat_id, query.message.message_id, reply_markup=None
        )
