"""The one error handler: log first, then tell the person something went wrong, and the admins."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.common.alarms import Alarm, raise_alarm
from bot.common.context import PulseContext, Services
from conversations.enrollment import language_for

log = logging.getLogger(__name__)


async def error_handler(update: object, context: PulseContext) -> None:
    """Logs the error with its traceback, apologises in the chat it came from, and alarms
    the admins (at most once an hour)."""
    log.error("error while handling an update", exc_info=context.error)
    services = context.bot_data.services
    if services is None:
        return
    if isinstance(update, Update):
        await _apologise(update, context, services)
    await raise_alarm(services, Alarm.ERROR, "alarms.error")


async def _apologise(update: Update, context: PulseContext, services: Services) -> None:
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    language = language_for(user.language_code if user else None)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer()
        await context.bot.send_message(chat.id, services.catalog.text(language, "general.error"))
    except TelegramError:
        log.warning("could not tell chat %s about the error", chat.id, exc_info=True)
