"""What Pulse says to messages no feature handles: never silence, never a crash."""

from __future__ import annotations

from telegram import Update

from bot.common.context import PulseContext
from bot.common.profiles import sender
from conversations.enrollment import language_for


async def _say(update: Update, context: PulseContext, key: str) -> None:
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    await context.bot.send_message(profile.chat_id, services.catalog.text(language, key))


async def unknown_command(update: Update, context: PulseContext) -> None:
    """Points to /help for a command Pulse does not know."""
    await _say(update, context, "general.unknown_command")


async def text_without_question(update: Update, context: PulseContext) -> None:
    """Thanks the customer for text that answers no open question, and points to /help."""
    await _say(update, context, "general.no_question_open")


async def non_text_message(update: Update, context: PulseContext) -> None:
    """Asks a customer for text when a sticker, photo, voice note or the like arrives; shows
    anyone else the way in."""
    profile, _ = sender(update)
    taking_part = await context.services.enrollment.taking_part(profile.user_id)
    key = "general.text_only" if taking_part else "general.text_only_stranger"
    await _say(update, context, key)


async def unknown_button(update: Update, context: PulseContext) -> None:
    """Answers a press on a button no handler knows (an old message's), so it stops spinning."""
    query = update.callback_query
    if query is None:
        return
    services = context.services
    # From the user, not the chat: a press on an old enough message comes without its chat.
    user = query.from_user
    language = await services.enrollment.language_of(user.id, language_for(user.language_code))
    await query.answer(services.catalog.text(language, "general.button_unknown"))
