"""/invite <segment>: the invite link an admin hands to a segment's customers."""

from __future__ import annotations

from telegram import Update

from bot import segment_names
from bot.context import PulseContext
from bot.invites import InvalidSegmentName, invite_for
from bot.profiles import sender


async def invite_command(update: Update, context: PulseContext) -> None:
    """Creates the segment if new and replies with its deep link."""
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    catalog = services.catalog
    if not context.args:
        await context.bot.send_message(profile.chat_id, catalog.text(language, "invite.usage"))
        return
    try:
        name = segment_names.meant(catalog, " ".join(context.args))
        invite = await invite_for(services.db, name, actor_id=profile.user_id, now=services.now())
    except InvalidSegmentName:
        await context.bot.send_message(
            profile.chat_id, catalog.text(language, "invite.invalid_name")
        )
        return
    created = catalog.text(language, "invite.created") if invite.segment_created else ""
    text = catalog.text(
        language,
        "invite.link",
        segment=segment_names.shown(catalog, language, invite.segment.name),
        created=created,
        link=invite.link(context.bot.username),
    )
    await context.bot.send_message(profile.chat_id, text)
