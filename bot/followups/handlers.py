"""Follow-ups in Telegram: the alert's buttons (Reply, Add a reply, Send anyway, Cancel,
Mark done), the team's typed replies and the customers' answers to them, /followups,
/cancel and /alerts."""

from __future__ import annotations

import contextlib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.admin.settings_commands import change_setting, one
from bot.catalog import Html
from bot.common.admin_chat import AdminChat, admin_chat
from bot.common.context import PulseContext
from bot.common.display import run_text, value_text
from bot.common.fallbacks import unknown_button
from bot.common.profiles import sender
from bot.common.roles import role_of
from bot.followups import alerts, relaying
from bot.followups import threads as operations
from bot.followups.threads import Listed, Outcome, Step
from conversations.enrollment import language_for
from storage.followup_messages import Direction
from storage.followups import FollowupStatus

# "fu:<follow-up id>:<action>"; anchored, so no other feature's data can match.
FOLLOWUP_DATA = re.compile(r"^fu:(\d{1,18}):(reply|add|send|cancel|done)$")
# /followups shows this many threads, the most recently active first.
LIST_LIMIT = 20


def _buttons(chat: AdminChat, *pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(chat.text(key), callback_data=data) for key, data in pairs]]
    )


def _when(chat: AdminChat, zone: ZoneInfo, at: int) -> Html:
    return run_text(chat.catalog, chat.language, datetime.fromtimestamp(at, zone))


async def _report(chat: AdminChat, step: Step) -> None:
    """Tells the team member how a follow-up step ended."""
    zone = await chat.context.zone()
    bot = chat.context.bot
    followup, facts = step.followup, step.facts
    name = facts.first_name if facts is not None else ""
    fid = followup.id if followup is not None else 0
    outcome = step.outcome
    if outcome is Outcome.WRITING:
        text = chat.text("followups.write_reply", name=name, staff=step.staff_name or "")
        markup = _buttons(chat, ("followups.button_cancel", f"fu:{fid}:cancel"))
        await bot.send_message(chat.chat_id, text, reply_markup=markup)
    elif outcome in (Outcome.OTHERS, Outcome.MEANWHILE):
        lines = [
            chat.text(
                "followups.already_replied",
                who=other.name,
                name=name,
                when=_when(chat, zone, other.at),
                text=alerts.quote(other.text),
            )
            if other.text is not None
            else chat.text(
                "followups.already_writing",
                who=other.name,
                name=name,
                when=_when(chat, zone, other.at),
            )
            for other in step.others
        ]
        if outcome is Outcome.OTHERS:
            lines.append(chat.text("followups.add_anyway"))
            markup = _buttons(
                chat,
                ("followups.button_add", f"fu:{fid}:add"),
                ("followups.button_leave", f"fu:{fid}:cancel"),
            )
        else:
            lines.append(chat.text("followups.send_anyway"))
            markup = _buttons(
                chat,
                ("followups.button_send", f"fu:{fid}:send"),
                ("followups.button_cancel", f"fu:{fid}:cancel"),
            )
        await bot.send_message(chat.chat_id, "\n".join(lines), reply_markup=markup)
    elif outcome is Outcome.CLOSED:
        assert followup is not None
        when = _when(chat, zone, followup.closed_at or followup.last_activity_at)
        who = step.closed_by or chat.text("followups.someone")
        await chat.say("followups.closed", id=fid, who=who, when=when)
    elif outcome is Outcome.GONE:
        await chat.say("followups.customer_gone", name=name)
    elif outcome is Outcome.FAILED:
        await chat.say("followups.send_failed", name=name, reason=step.error or "?")
    elif outcome is Outcome.TOO_LONG:
        await chat.say("followups.too_long", limit=relaying.MAX_REPLY_CHARS)
    elif outcome is Outcome.DONE:
        await chat.say("followups.marked_done", id=fid, name=name)
    else:
        keys = {
            Outcome.SENT: "followups.sent",
            Outcome.CANCELLED: "followups.cancelled",
            Outcome.NOTHING: "followups.not_writing",
            Outcome.MISSING: "followups.unknown",
            Outcome.ALREADY: "admin.already_done",
        }
        await chat.say(keys[outcome], name=name)


async def followup_button(update: Update, context: PulseContext) -> None:
    """Reply, Add a reply, Send anyway, Cancel or Mark done on a follow-up: team only,
    checked against the database."""
    query = update.callback_query
    if query is None:
        return
    match = FOLLOWUP_DATA.match(query.data or "")
    if match is None:
        await unknown_button(update, context)
        return
    services = context.services
    user = query.from_user
    language = await services.enrollment.language_of(user.id, language_for(user.language_code))
    if await role_of(services.db, services.settings.admin_ids, user.id) is None:
        # A customer or stranger: nothing is read or stored, and nothing is said but this.
        await query.answer(services.catalog.text(language, "followups.not_for_you"))
        return
    followup_id, action = int(match[1]), match[2]
    if action in ("reply", "add"):
        step = await relaying.start_reply(
            services, followup_id, user.id, user.first_name, confirmed=action == "add"
        )
    elif action == "send":
        step = await relaying.relay(services, context.bot, user.id, user.first_name, None)
    elif action == "cancel":
        step = await relaying.cancel_reply(services, user.id)
    else:
        step = await operations.close(services, followup_id, user.id)
    popup = services.catalog.text(language, "followups.done_popup") if action == "done" else None
    await query.answer(popup)
    if action != "reply" and isinstance(query.message, Message):
        # These buttons have done their work; the alert's Reply stays for another reply.
        with contextlib.suppress(TelegramError):  # already without buttons
            await query.message.edit_reply_markup(reply_markup=None)
    await _report(AdminChat(context, user.id, user.id, language), step)


async def followup_text(update: Update, context: PulseContext) -> bool:
    """Takes typed text that belongs to a follow-up: the reply a team member is writing, or a
    customer's answer to one when no check-in question of theirs is open. False when the
    text is neither."""
    message = update.effective_message
    user = update.effective_user
    if message is None or message.text is None or user is None:
        return False
    services = context.services
    route = await operations.route_text(services, user.id)
    if route.staff_draft is not None:
        chat = await admin_chat(update, context)
        step = await relaying.relay(services, context.bot, user.id, user.first_name, message.text)
        await _report(chat, step)
        return True
    if route.customer_thread is None:
        return False
    passed = await relaying.pass_back(services, context.bot, route.customer_thread, message.text)
    if passed is None:
        return False  # marked done in the meantime: an ordinary message now
    if passed.facts is None:
        return True  # passed on by an earlier handling of this message
    profile, _ = sender(update)
    key = "followups.passed_on" if passed.error is None else "followups.not_passed_on"
    text = services.catalog.text(passed.facts.language, key, staff=passed.staff_name or "")
    await context.bot.send_message(profile.chat_id, text)
    return True


def _entry(chat: AdminChat, item: Listed, zone: ZoneInfo) -> Html:
    """One thread as /followups shows it."""
    followup, facts = item.followup, item.facts
    lines = [
        chat.text(
            "followups.entry_title",
            id=followup.id,
            customer=alerts.customer_label(chat.catalog, chat.language, facts),
        ),
        *alerts.said_lines(chat.catalog, chat.language, facts),
    ]
    if followup.alerted_at is None and followup.status is FollowupStatus.OPEN:
        lines.append(chat.text("followups.held", when=_when(chat, zone, followup.alert_after)))
    if item.repliers:
        lines.append(chat.text("followups.replied_by", names=", ".join(item.repliers)))
    else:
        lines.append(chat.text("followups.no_reply_yet"))
    if item.last is not None:
        who = (
            facts.first_name
            if item.last.direction is Direction.FROM_CUSTOMER
            else item.last.staff_name or str(item.last.staff_id)
        )
        quoted = alerts.quote(item.last.text)
        lines.append(chat.text("followups.last_message", who=who, text=quoted))
    lines.append(
        chat.text("followups.last_activity", when=_when(chat, zone, followup.last_activity_at))
    )
    if followup.status is FollowupStatus.DONE and followup.closed_at is not None:
        who = item.closed_by or chat.text("followups.someone")
        when = _when(chat, zone, followup.closed_at)
        lines.append(chat.text("followups.done_by", who=who, when=when))
    return Html("\n".join(lines))


async def followups_command(update: Update, context: PulseContext) -> None:
    """Lists the open follow-ups, each with Reply and Mark done; `done` lists the closed."""
    chat = await admin_chat(update, context)
    args = [a.lower() for a in context.args or []]
    if args not in ([], ["open"], ["done"]):
        await chat.usage("followups")
        return
    status = FollowupStatus.DONE if args == ["done"] else FollowupStatus.OPEN
    listed, total = await operations.listing(chat.services, status, LIST_LIMIT)
    if not listed:
        await chat.say(f"followups.empty_{status.value}")
        return
    zone = await chat.context.zone()
    title = chat.text(f"followups.title_{status.value}", count=total)
    if total > len(listed):
        title = Html(f"{title}\n{chat.text('followups.more', shown=len(listed), count=total)}")
    if status is FollowupStatus.DONE:
        await chat.send("\n\n".join([title, *(_entry(chat, item, zone) for item in listed)]))
        return
    await chat.send(title)
    for item in listed:
        markup = alerts.thread_markup(chat.catalog, chat.language, item.followup.id)
        await context.bot.send_message(chat.chat_id, _entry(chat, item, zone), reply_markup=markup)


async def cancel_command(update: Update, context: PulseContext) -> None:
    """Cancels the reply the team member is writing; nothing is sent."""
    chat = await admin_chat(update, context)
    await _report(chat, await relaying.cancel_reply(context.services, chat.user_id))


async def alerts_command(update: Update, context: PulseContext) -> None:
    """Shows or sets when the team is alerted: the score (`<1-5>` or `off`) and the staff
    quiet hours (`quiet <HH:MM-HH:MM>` or `quiet off`)."""
    chat = await admin_chat(update, context)
    services = context.services
    args = list(context.args or [])
    if not args:
        config = await context.config()
        lines = [
            chat.text(
                "admin.line",
                setting=chat.text(f"admin.setting.{group}"),
                value=value_text(
                    services.catalog, chat.language, group, config, services.settings.timezone
                ),
            )
            for group in ("alerts", "alert_quiet")
        ]
        await chat.send("\n".join([*lines, chat.text("admin.usage.alerts")]))
        return
    if args[0].lower() == "quiet":
        group = "alert_quiet"
        parse = one("alert_quiet", lambda a: alerts.parse_alert_quiet(a[1:]))
    else:
        group, parse = "alerts", one("alert_score", alerts.parse_alert_score)
    await change_setting(update, context, "alerts", group, parse)
