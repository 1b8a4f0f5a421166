"""Checks that run before any feature handler: where Pulse talks, and who may use what."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.common import fallbacks
from bot.common.context import PulseContext
from bot.common.roles import role_of
from conversations.enrollment import language_for

log = logging.getLogger(__name__)


async def ignore_senderless(update: Update, context: PulseContext) -> None:
    """Drops an update that comes from nobody (a channel post, a message without `from`):
    every feature answers a person, and there is none to answer."""
    if update.effective_user is None or update.effective_chat is None:
        log.debug("update %s has no sender: ignored", update.update_id)
        raise ApplicationHandlerStop


async def ignore_update(update: Update, context: PulseContext) -> None:
    """Drops an update no feature should see (edits of old messages, for one)."""
    raise ApplicationHandlerStop


async def refuse_group_chat(update: Update, context: PulseContext) -> None:
    """Answers a command in a group with a pointer to a private chat; ignores the rest."""
    message = update.effective_message
    chat = update.effective_chat
    if message is not None and chat is not None and chat.type != ChatType.CHANNEL:
        text = message.text or ""
        if text.startswith("/"):
            user = update.effective_user
            language = language_for(user.language_code if user else None)
            await message.reply_text(
                context.services.catalog.text(language, "general.private_only")
            )
    raise ApplicationHandlerStop


async def answer_empty_press(update: Update, context: PulseContext) -> None:
    """Answers and drops a press that carries no data, which no feature owns."""
    query = update.callback_query
    if query is None or query.data:
        return  # a press with data goes on to the feature whose pattern it matches
    await fallbacks.unknown_button(update, context)
    raise ApplicationHandlerStop


def command_name(text: str) -> str:
    """`invite` for `/invite@pulse_bot retail`."""
    return text.split(maxsplit=1)[0].removeprefix("/").split("@", 1)[0].lower()


async def check_team_command(update: Update, context: PulseContext) -> None:
    """Lets team commands through only for the roles allowed (and the shared ones for
    customers); others get one polite line."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not message.text:
        return
    name = command_name(message.text)
    services = context.services
    if not services.commands.gatekept(name):
        return
    role = await role_of(services.db, services.settings.admin_ids, user.id)
    if services.commands.allows(name, role):
        return  # for a customer, /pause and /resume are their own (bot.privacy.commands)
    language = await services.enrollment.language_of(user.id, language_for(user.language_code))
    await message.reply_text(services.catalog.text(language, "general.not_allowed"))
    raise ApplicationHandlerStop
