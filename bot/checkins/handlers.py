"""The check-in conversation in Telegram: button presses and typed answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from telegram import Update

from bot.common.context import PulseContext
from bot.common.fallbacks import text_without_question, unknown_button
from bot.common.profiles import sender
from bot.common.replying import answer_press, send_replies
from bot.followups import alerts
from bot.followups.handlers import followup_text
from conversations.checkin import parse_press
from conversations.checkin_service import NextDate
from storage import customers
from storage.invitations import Invitation


async def _next_date(context: PulseContext, user_id: int) -> NextDate:
    """When a customer may hear from Pulse again, in their language: their cool-down (the
    longer of their own /frequency and the global one) after they were last asked, as the
    sampling counts it, not after they answered."""
    services = context.services
    config = await context.config()
    customer = await services.db.read(partial(customers.find, user_id=user_id))
    zone = config.zone(services.settings.timezone)
    own = customer.cooldown_days if customer is not None else None
    days = max(config.cooldown_days, own or 0)
    cooldown = int(timedelta(days=days).total_seconds())

    def next_date(invitation: Invitation) -> str:
        # The round stored the invitation's creation as the customer's last_asked_at.
        moment = datetime.fromtimestamp(invitation.created_at + cooldown, zone)
        return services.catalog.date(invitation.language, moment)

    return next_date


async def checkin_button(update: Update, context: PulseContext) -> None:
    """Stores the pressed answer and asks the next question (or thanks the customer)."""
    services = context.services
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    event = parse_press(query.data or "", update.effective_user.id)
    if event is None:
        await unknown_button(update, context)
        return
    await services.checkin.press(
        event,
        now=services.now(),
        next_date=await _next_date(context, event.user_id),
        deliver=lambda outcome: answer_press(
            services.catalog, query, outcome, spawn=services.spawn
        ),
    )
    # After the answer committed and the next question went out: alert the team if called for.
    await alerts.after_answer(services, await context.config(), event.user_id, event.invitation_id)


async def text_message(update: Update, context: PulseContext) -> None:
    """Stores typed text as the answer to the open question (else a follow-up's reply or
    answer takes it), or points to /help."""
    services = context.services
    message = update.effective_message
    if message is None or message.text is None:
        return
    # A reply a team member is writing, or a customer's answer in a follow-up thread; the
    # latter never while a check-in question is open: a check-in answer always wins.
    if await followup_text(update, context):
        return
    profile, _ = sender(update)
    answered = await services.checkin.text(
        profile.user_id,
        message.text,
        now=services.now(),
        next_date=await _next_date(context, profile.user_id),
        deliver=lambda outcome: send_replies(
            services.catalog, context.bot, profile.chat_id, outcome
        ),
    )
    if answered:
        # Its vector for the digest's themes, now that it is committed and replied to.
        services.vectors.nudge(services.spawn)
        await alerts.after_answer(services, await context.config(), profile.user_id, None)
    else:
        await text_without_question(update, context)
