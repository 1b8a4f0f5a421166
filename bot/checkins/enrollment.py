"""Enrollment and the customer's own controls: /start, consent, /stop, /language, blocking."""

from __future__ import annotations

import re

from telegram import CallbackQuery, Update
from telegram.constants import ChatMemberStatus

from bot.common.context import PulseContext
from bot.common.profiles import profile_of, sender
from bot.common.replying import answer_press, send_replies
from bot.common.roles import role_of
from bot.team import commands as admin_team
from conversations.enrollment import CONSENT_DATA, LANGUAGE_DATA, STOP_DATA


def pressed(update: Update, pattern: re.Pattern[str]) -> tuple[CallbackQuery, re.Match[str]]:
    """The button press and its parsed callback data (the handler's pattern matched it)."""
    query = update.callback_query
    match = pattern.match(query.data or "") if query else None
    if query is None or match is None:
        raise ValueError("handler called for a press it does not handle")
    return query, match


async def start_command(update: Update, context: PulseContext) -> None:
    """Greets the customer, explains Pulse and asks consent, for the invite code's segment;
    greets a team member as one."""
    services = context.services
    profile, language = sender(update)
    role = await role_of(services.db, services.settings.admin_ids, profile.user_id)
    if role is not None:
        await admin_team.greet_team_member(update, context, role)
        return
    code = context.args[0] if context.args else None
    outcome = await services.enrollment.start(
        profile,
        code=code,
        telegram_language=language,
        now=services.now(),
    )
    await send_replies(services.catalog, context.bot, profile.chat_id, outcome)


async def consent_button(update: Update, context: PulseContext) -> None:
    """Enrolls the customer on yes, keeps only the refusal on no."""
    services = context.services
    query, match = pressed(update, CONSENT_DATA)
    profile, language = sender(update)
    outcome = await services.enrollment.consent(
        profile,
        pending_id=int(match[2]),
        accepted=match[1] == "yes",
        telegram_language=language,
        now=services.now(),
    )
    await answer_press(services.catalog, query, outcome, spawn=services.spawn)


async def stop_command(update: Update, context: PulseContext) -> None:
    """Asks the customer to confirm that they want no more messages."""
    services = context.services
    profile, language = sender(update)
    outcome = await services.enrollment.stop_request(
        profile, telegram_language=language, now=services.now()
    )
    await send_replies(services.catalog, context.bot, profile.chat_id, outcome)


async def stop_button(update: Update, context: PulseContext) -> None:
    """Stops all messages to the customer, or keeps things as they were."""
    services = context.services
    query, match = pressed(update, STOP_DATA)
    profile, language = sender(update)
    outcome = await services.enrollment.stop_answer(
        profile, confirmed=match[1] == "yes", telegram_language=language, now=services.now()
    )
    await answer_press(services.catalog, query, outcome, spawn=services.spawn)


async def language_command(update: Update, context: PulseContext) -> None:
    """Switches the customer's language, or offers the choice when none is given."""
    services = context.services
    profile, language = sender(update)
    choice = context.args[0].lower() if context.args else None
    outcome = await services.enrollment.language(
        profile, choice=choice, telegram_language=language, now=services.now()
    )
    await send_replies(services.catalog, context.bot, profile.chat_id, outcome)


async def language_button(update: Update, context: PulseContext) -> None:
    """Switches the customer's language to the one pressed."""
    services = context.services
    query, match = pressed(update, LANGUAGE_DATA)
    profile, language = sender(update)
    outcome = await services.enrollment.language(
        profile, choice=match[1], telegram_language=language, now=services.now()
    )
    await answer_press(services.catalog, query, outcome, spawn=services.spawn)


async def membership_changed(update: Update, context: PulseContext) -> None:
    """Marks a customer blocked when they block the bot, so nothing more is sent to them."""
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    if change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        services = context.services
        await services.enrollment.blocked(
            profile_of(change.from_user, change.chat.id), now=services.now()
        )
