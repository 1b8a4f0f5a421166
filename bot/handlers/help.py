"""/help: the commands this person can use, in their language."""

from __future__ import annotations

from telegram import Update

from bot.context import PulseContext
from bot.profiles import sender
from bot.roles import role_of


async def help_command(update: Update, context: PulseContext) -> None:
    """Lists the customer commands, and the team commands for team members."""
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    text: str = services.catalog.text(language, "help.customer")
    if await role_of(services.db, services.settings.admin_ids, profile.user_id) is not None:
        text += "\n" + services.catalog.text(language, "help.team")
    await context.bot.send_message(profile.chat_id, text)
