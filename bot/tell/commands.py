"""/tell: staff send a short "you said, we did" update to the customers whose answers
fell in a theme or who answered a hypothesis, after a preview and a confirmation."""

from __future__ import annotations

import re
import sqlite3

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.catalog import Html
from bot.common.admin_chat import AdminChat, admin_chat, raw_arguments
from bot.common.context import PulseContext
from bot.common.parsing import InvalidArgument
from bot.common.profiles import sender
from bot.common.roles import role_of
from bot.tell import updates as tell
from storage import tells
from storage.tells import Tell

# "tell:<id>:send" or "tell:<id>:cancel".
# Ids of at most 18 digits: anything longer cannot be a row of ours (SQLite stores 2^63).
TELL_DATA = re.compile(r"^tell:(\d{1,18}):(send|cancel)$")


async def _list(chat: AdminChat) -> None:
    found = await tell.targets(chat.services.db, chat.services.now(), chat.services.vectors)
    if not found:
        await chat.say("tell.nobody_yet", weeks=tell.AUDIENCE_WEEKS)
        return
    lines: list[str] = [chat.text("tell.title", weeks=tell.AUDIENCE_WEEKS)]
    for target in found:
        key = "tell.theme_line" if target.kind == "theme" else "tell.hypothesis_line"
        lines.append(chat.text(key, label=target.label, count=len(target.user_ids)))
    lines.append(chat.text("admin.usage.tell"))
    await chat.send("\n".join(lines))


async def tell_command(update: Update, context: PulseContext) -> None:
    """Lists who can be told, or drafts an update and shows its preview to confirm."""
    chat = await admin_chat(update, context)
    wanted, colon, message = raw_arguments(update).partition(":")
    if not wanted.strip():
        await _list(chat)
        return
    if not colon:
        await chat.usage("tell")
        return
    services = chat.services
    try:
        text = tell.checked_message(message)
        target = tell.choose(
            await tell.targets(services.db, services.now(), services.vectors), wanted
        )
    except InvalidArgument as exc:
        await chat.refuse(exc, "tell")
        return
    drafted = await tell.draft(
        services.db, target, text, actor_id=chat.user_id, now=services.now()
    )
    if drafted is None:
        await chat.say("admin.already_done")
        return
    count = len(target.user_ids)
    preview = services.catalog.text(chat.language, "tell.message", message=text)
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    chat.text("tell.send_button", count=count),
                    callback_data=f"tell:{drafted.id}:send",
                ),
                InlineKeyboardButton(
                    chat.text("tell.cancel_button"), callback_data=f"tell:{drafted.id}:cancel"
                ),
            ]
        ]
    )
    intro = chat.text("tell.preview", count=count, label=target.label)
    await context.bot.send_message(
        chat.chat_id, Html(f"{intro}\n\n{preview}"), reply_markup=buttons
    )


async def tell_button(update: Update, context: PulseContext) -> None:
    """Sends (or cancels) a drafted update; only staff and admins, and only once."""
    query = update.callback_query
    if query is None:
        return
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    catalog = services.catalog
    if await role_of(services.db, services.settings.admin_ids, profile.user_id) is None:
        await query.answer(catalog.text(language, "general.not_allowed"))
        return
    match = TELL_DATA.match(query.data or "")
    assert match is not None  # the handler's pattern
    tell_id, send = int(match[1]), match[2] == "send"
    decided = await tell.decide(
        services.db, tell_id, send, actor_id=profile.user_id, now=services.now()
    )

    def look(conn: sqlite3.Connection) -> tuple[Tell | None, int]:
        return tells.find(conn, tell_id), tells.audience_size(conn, tell_id)

    found, count = await services.db.read(look)
    if found is None:
        await query.answer(catalog.text(language, "general.button_unknown"))
        return
    if not decided:
        await query.answer(catalog.text(language, "tell.decided_already"))
        return
    await query.answer()
    key = "tell.sending" if send else "tell.cancelled"
    await context.bot.send_message(profile.chat_id, catalog.text(language, key, count=count))
    if query.message is not None:
        await context.bot.edit_message_reply_markup(
            profile.chat_id, query.message.message_id, reply_markup=None
        )
    if send:
        services.tells.wake()
