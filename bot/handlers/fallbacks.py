"""What Pulse says to messages no feature handles: never silence, never a crash."""

from __future__ import annotations

from telegram import Update

from bot.context import PulseContext
from bot.profiles import sender


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
    """Asks for text when a sticker, photo, voice note or the like arrives."""
    await _say(update, context, "general.text_only")
