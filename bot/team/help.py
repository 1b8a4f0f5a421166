"""/help: the commands this person can use, in their language."""

from __future__ import annotations

from telegram import Update

from bot.common.context import PulseContext
from bot.common.profiles import sender
from bot.common.roles import role_of
from bot.team.menus import team_help


async def help_command(update: Update, context: PulseContext) -> None:
    """Lists the customer commands (with their own controls), and for team members every
    command their role allows."""
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    text: str = services.catalog.text(language, "help.customer")
    role = await role_of(services.db, services.settings.admin_ids, profile.user_id)
    if role is not None:
        text += "\n\n" + team_help(services, language, role)
    else:
        # A team member's /pause is the programme's: their part lists it.
        text += "\n" + services.catalog.text(language, "controls.help")
    await context.bot.send_message(profile.chat_id, text)
