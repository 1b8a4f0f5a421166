"""The one error handler: log first, then tell the person something went wrong."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.context import PulseContext
from conversations.enrollment import language_for

log = logging.getLogger(__name__)


async def error_handler(update: object, context: PulseContext) -> None:
    """Logs the error with its traceback and apologises in the chat it came from."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or chat.type != ChatType.PRIVATE or context.bot_data.services is None:
        return
    language = language_for(user.language_code if user else None)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(
            chat.id, context.bot_data.services.catalog.text(language, "general.error")
        )
    except TelegramError:
        log.warning("could not tell chat %s about the error", chat.id, exc_info=True)
