"""The customer's own controls in Telegram: /pause and /resume (for team members, the
programme-wide pause), /frequency, /mydata, /forget and /privacy."""

from __future__ import annotations

import re
from datetime import datetime

from telegram import InputFile, Update

from bot.admin import settings_commands as admin_settings
from bot.checkins.enrollment import pressed
from bot.common.context import PulseContext
from bot.common.profiles import sender
from bot.common.replying import answer_press, send_replies, split_message
from bot.common.roles import role_of
from bot.privacy import controls as privacy
from conversations.replies import Button, Outcome, Reply
from storage.team import Role

PAUSE_DATA = re.compile(r"^pause:weeks:([0-9]{1,2})$")
FREQUENCY_DATA = re.compile(r"^freq:months:([0-9])$")
FORGET_DATA = re.compile(r"^forget:confirm:(yes|no)$")


async def _language(update: Update, context: PulseContext) -> tuple[int, int, str]:
    """The sender's user id, chat id and the language to answer them in."""
    profile, telegram_language = sender(update)
    language = await context.services.enrollment.language_of(profile.user_id, telegram_language)
    return profile.user_id, profile.chat_id, language


async def _say(context: PulseContext, chat_id: int, *replies: Reply) -> None:
    await send_replies(context.services.catalog, context.bot, chat_id, Outcome(replies=replies))


async def _is_admin(update: Update, context: PulseContext) -> bool:
    # Gatekeeping already refused staff; whoever else is here is an admin or a customer.
    services = context.services
    user = update.effective_user
    role = await role_of(services.db, services.settings.admin_ids, user.id) if user else None
    return role is Role.ADMIN


async def _paused_reply(
    context: PulseContext, user_id: int, weeks: int, language: str
) -> tuple[Reply, ...]:
    """Pauses the customer and says until when, or that they are not taking part."""
    services = context.services
    try:
        paused = await privacy.pause(services.db, user_id, weeks=weeks, now=services.now())
    except privacy.NotTakingPart:
        return (Reply("controls.not_taking_part", language),)
    if paused is None or paused.paused_until is None:
        return ()  # handled before a restart: said and done already
    zone = await context.zone()
    until = datetime.fromtimestamp(paused.paused_until, zone)
    return (Reply("pause.done", language, {"date": services.catalog.date(language, until)}),)


async def pause_command(update: Update, context: PulseContext) -> None:
    """For a customer: no check-ins for the weeks given (or asks how many); for an admin:
    pauses every check-in round."""
    if await _is_admin(update, context):
        await admin_settings.pause_command(update, context)
        return
    user_id, chat_id, language = await _language(update, context)
    args = context.args or []
    if not args:
        if not await context.services.enrollment.taking_part(user_id):
            await _say(context, chat_id, Reply("controls.not_taking_part", language))
            return
        buttons = tuple(
            Button(f"pause.button_{weeks}", f"pause:weeks:{weeks}")
            for weeks in privacy.PAUSE_CHOICES
        )
        await _say(context, chat_id, Reply("pause.choose", language, buttons=(buttons,)))
        return
    try:
        weeks = int(args[0]) if len(args) == 1 else 0
    except ValueError:
        weeks = 0
    if not 1 <= weeks <= privacy.MAX_PAUSE_WEEKS:
        await _say(context, chat_id, Reply("pause.usage", language))
        return
    await _say(context, chat_id, *await _paused_reply(context, user_id, weeks, language))


async def pause_button(update: Update, context: PulseContext) -> None:
    """Pauses the customer for the weeks pressed."""
    query, match = pressed(update, PAUSE_DATA)
    user_id, _, language = await _language(update, context)
    weeks = int(match[1])
    if weeks not in privacy.PAUSE_CHOICES:
        replies: tuple[Reply, ...] = (Reply("pause.usage", language),)
    else:
        replies = await _paused_reply(context, user_id, weeks, language)
    await answer_press(
        context.services.catalog,
        query,
        Outcome(replies, close_buttons=True),
        spawn=context.services.spawn,
    )


async def resume_command(update: Update, context: PulseContext) -> None:
    """For a customer: ends their pause early; for an admin: resumes check-in rounds."""
    if await _is_admin(update, context):
        await admin_settings.resume_command(update, context)
        return
    services = context.services
    user_id, chat_id, language = await _language(update, context)
    try:
        await privacy.resume(services.db, user_id, now=services.now())
    except privacy.NotTakingPart:
        await _say(context, chat_id, Reply("controls.not_taking_part", language))
        return
    except privacy.NotPaused:
        await _say(context, chat_id, Reply("resume.not_paused", language))
        return
    await _say(context, chat_id, Reply("resume.done", language))


async def frequency_command(update: Update, context: PulseContext) -> None:
    """Shows how often the customer may be asked, with buttons to ask less often."""
    services = context.services
    user_id, chat_id, language = await _language(update, context)
    try:
        current = await privacy.frequency(
            services.db, user_id, (await context.config()).cooldown_days
        )
    except privacy.NotTakingPart:
        await _say(context, chat_id, Reply("controls.not_taking_part", language))
        return
    buttons = tuple(
        (Button(f"frequency.button_{months}", f"freq:months:{months}"),)
        for months in privacy.FREQUENCY_MONTHS
    )
    await _say(
        context, chat_id, Reply("frequency.choose", language, {"days": current.days}, buttons)
    )


async def frequency_button(update: Update, context: PulseContext) -> None:
    """Stores how often the customer wants to be asked, and says what that comes to."""
    services = context.services
    query, match = pressed(update, FREQUENCY_DATA)
    user_id, _, language = await _language(update, context)
    months = int(match[1])
    reply: Reply
    try:
        if months not in privacy.FREQUENCY_MONTHS:
            raise privacy.NotTakingPart(user_id)  # not a button Pulse made: change nothing
        changed = await privacy.set_frequency(
            services.db,
            user_id,
            months=months,
            global_days=(await context.config()).cooldown_days,
            now=services.now(),
        )
    except privacy.NotTakingPart:
        reply = Reply("controls.not_taking_part", language)
    else:
        if changed is None:
            changed = await privacy.frequency(
                services.db, user_id, (await context.config()).cooldown_days
            )
        key = "frequency.default_done" if changed.own_days is None else "frequency.done"
        reply = Reply(key, language, {"days": changed.days})
    await answer_press(
        services.catalog, query, Outcome((reply,), close_buttons=True), spawn=services.spawn
    )


async def mydata_command(update: Update, context: PulseContext) -> None:
    """Sends everything Pulse stores about the customer, readable and as a JSON file."""
    services = context.services
    user_id, chat_id, language = await _language(update, context)
    data = await privacy.my_data(services.db, user_id)
    zone = await context.zone()
    for part in split_message(privacy.data_text(services.catalog, language, data, zone)):
        await context.bot.send_message(chat_id, part)
    if data.empty:
        return
    await context.bot.send_document(
        chat_id,
        InputFile(privacy.data_json(data), filename="pulse-my-data.json"),
        caption=services.catalog.text(language, "mydata.file_caption"),
    )


async def forget_command(update: Update, context: PulseContext) -> None:
    """Asks the customer to confirm that their data is to be erased."""
    services = context.services
    user_id, chat_id, language = await _language(update, context)
    if (await privacy.my_data(services.db, user_id)).empty:
        await _say(context, chat_id, Reply("forget.nothing", language))
        return
    buttons = (
        (
            Button("forget.button_yes", "forget:confirm:yes"),
            Button("forget.button_no", "forget:confirm:no"),
        ),
    )
    await _say(context, chat_id, Reply("forget.confirm", language, buttons=buttons))


async def forget_button(update: Update, context: PulseContext) -> None:
    """Erases the customer's data on yes; changes nothing on no."""
    services = context.services
    query, match = pressed(update, FORGET_DATA)
    user_id, _, language = await _language(update, context)
    if match[1] == "no":
        reply = Reply("forget.cancelled", language)
    else:
        try:
            await privacy.forget(services.db, user_id, now=services.now())
        except privacy.NothingStored:
            reply = Reply("forget.nothing", language)
        else:
            reply = Reply("forget.done", language)
    await answer_press(
        services.catalog, query, Outcome((reply,), close_buttons=True), spawn=services.spawn
    )


async def privacy_command(update: Update, context: PulseContext) -> None:
    """Says what Pulse stores, why, who sees it and for how long."""
    services = context.services
    _, chat_id, language = await _language(update, context)
    days = (await context.config()).retention_days
    catalog = services.catalog
    retention = (
        catalog.text(language, "privacy.retention_off")
        if days is None
        else catalog.text(language, "privacy.retention_days", days=days)
    )
    await context.bot.send_message(
        chat_id, catalog.text(language, "privacy.text", retention=retention)
    )
