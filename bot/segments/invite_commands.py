"""/invite <segment>: the invite link an admin hands to a segment's customers; /invite
<external id>: a personal one-time link for one customer of the base."""

from __future__ import annotations

from datetime import datetime

from telegram import Update

from bot.common import segment_names
from bot.common.context import PulseContext
from bot.common.profiles import sender
from bot.common.segment_names import InvalidSegmentName
from bot.customer_base import links
from bot.segments.invites import invite_for


async def invite_command(update: Update, context: PulseContext) -> None:
    """Creates the segment if new and replies with its deep link."""
    services = context.services
    profile, telegram_language = sender(update)
    language = await services.enrollment.language_of(profile.user_id, telegram_language)
    catalog = services.catalog
    if not context.args:
        await context.bot.send_message(profile.chat_id, catalog.text(language, "invite.usage"))
        return
    wanted = " ".join(context.args)
    # An external id of the base wins over a segment of the same name: a segment link can
    # be had by its name in the other language or case, a customer's only by their id.
    if await links.find_base_customer(services.db, wanted) is not None:
        await personal_invite(update, context, wanted, language)
        return
    try:
        name = segment_names.meant(catalog, wanted)
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


async def personal_invite(
    update: Update, context: PulseContext, external_id: str, language: str
) -> None:
    """Replies with a new personal one-time link for one customer of the base."""
    services = context.services
    profile, _ = sender(update)
    catalog = services.catalog
    try:
        made = await links.invite_one(
            services.db,
            external_id,
            bot_username=context.bot.username,
            actor_id=profile.user_id,
            now=services.now(),
        )
    except links.UnknownCustomer:
        text = catalog.text(language, "base.customer_not_found", id=external_id)
        await context.bot.send_message(profile.chat_id, text)
        return
    until = datetime.fromtimestamp(made.expires_at, await context.zone())
    text = catalog.text(
        language,
        "base.personal_link",
        name=made.customer.name,
        id=made.customer.external_id,
        segment=segment_names.shown(catalog, language, made.segment),
        date=catalog.date(language, until),
        link=made.link,
    )
    await context.bot.send_message(profile.chat_id, text)
