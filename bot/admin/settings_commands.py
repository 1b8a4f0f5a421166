"""/settings and the commands that change one setting: schedules, sampling, reminders,
quiet hours, time zone, pause and resume. Each confirms old → new and, for schedules,
the next times they run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot.admin.steering import SettingsChange, apply_change, change_settings
from bot.catalog import Html
from bot.common import parsing
from bot.common.admin_chat import AdminChat, admin_chat
from bot.common.context import PulseContext
from bot.common.display import checkin_runs, digest_run, settings_text, value_text
from bot.common.parsing import InvalidArgument, WrongUsage
from storage import customer_base, runtime_settings

Parse = Callable[[list[str]], dict[str, Any]]
# A line added to a confirmation, read after the change (None: nothing to add).
Note = Callable[[AdminChat, SettingsChange], Awaitable[Html | None]]


async def settings_command(update: Update, context: PulseContext) -> None:
    """Shows every setting, its value, and the next check-in and digest times."""
    chat = await admin_chat(update, context)
    services = context.services
    async with services.db.read() as conn:
        config = await runtime_settings.load(conn)
    await chat.send(
        settings_text(
            services.catalog,
            chat.language,
            config,
            services.settings.timezone,
            services.clock.now(),
        )
    )


def confirmation(chat: AdminChat, group: str, change: SettingsChange) -> Html:
    """old → new (or that nothing changed), and the next runs the change moved."""
    services = chat.services
    configured = services.settings.timezone
    catalog, language = services.catalog, chat.language
    setting = chat.text(f"admin.setting.{group}")
    new_value = value_text(catalog, language, group, change.new, configured)
    if not change.changed:
        lines = [chat.text("admin.unchanged", setting=setting, value=new_value)]
    else:
        old_value = value_text(catalog, language, group, change.old, configured)
        lines = [chat.text("admin.changed", setting=setting, old=old_value, new=new_value)]
    zone = change.new.zone_name(configured)
    now = services.clock.now()
    if group in ("checkin_schedule", "checkins", "timezone"):
        lines.append(checkin_runs(catalog, language, change.new, zone, now))
    if group in ("digest_schedule", "timezone"):
        lines.append(digest_run(catalog, language, change.new, zone, now))
    if group == "checkins" and change.new.checkins_paused:
        lines.append(chat.text("admin.paused_note"))
    return Html("\n".join(lines))


async def _change(
    update: Update,
    context: PulseContext,
    command: str,
    group: str,
    parse: Parse,
    note: Note | None = None,
) -> None:
    """Parses, checks and stores a change, reschedules what it moves, and confirms it (with
    the line `note` adds, if any)."""
    chat = await admin_chat(update, context)
    services = context.services
    try:
        values = parse(list(context.args or []))
        change = await change_settings(
            services.db,
            values,
            configured_zone=services.settings.timezone,
            actor_id=chat.user_id,
            now=services.clock.now(),
        )
    except WrongUsage:
        await chat.usage(command)
        return
    except InvalidArgument as exc:
        await chat.refuse(exc, command)
        return
    if change is None:
        await chat.say("admin.already_done")
        return
    await apply_change(context, change)
    text = confirmation(chat, group, change)
    if note is not None and (extra := await note(chat, change)):
        text = Html(f"{text}\n{extra}")
    await chat.send(text)


def _schedule_values(args: list[str]) -> dict[str, Any]:
    schedule = parsing.parse_schedule(args)
    if schedule.kind == "checkin":
        return {"checkin_days": schedule.days, "checkin_time": schedule.at}
    return {"digest_day": schedule.days[0], "digest_time": schedule.at}


async def schedule_command(update: Update, context: PulseContext) -> None:
    """Sets when check-ins (`checkin <days> <HH:MM>`) or the digest (`digest <day> <HH:MM>`)
    run."""
    kind = (context.args or [""])[0].lower()
    group = "digest_schedule" if kind == "digest" else "checkin_schedule"
    await _change(update, context, "schedule", group, _schedule_values)


async def sample_command(update: Update, context: PulseContext) -> None:
    """Sets how many customers a round asks (a number, or a percentage), or with `by` the
    base attribute each segment's invitations are split by."""
    args = context.args or []
    if args and args[0].lower() == "by":
        await _change(
            update,
            context,
            "sample",
            "sample_by",
            lambda a: {"sample_by": parsing.parse_sample_by(a)},
            _without_base,
        )
        return
    await _change(
        update, context, "sample", "sample", lambda a: {"sample_size": parsing.parse_sample(a)}
    )


async def _without_base(chat: AdminChat, change: SettingsChange) -> Html | None:
    """That the attribute waits for an imported base, when there is none yet."""
    if change.new.sample_by is None:
        return None
    async with chat.services.db.read() as conn:
        if await customer_base.has_base(conn):
            return None
    return chat.text("admin.sample_by_no_base", attribute=change.new.sample_by)


async def cooldown_command(update: Update, context: PulseContext) -> None:
    """Sets the days before a customer may be asked again."""
    await _change(
        update,
        context,
        "cooldown",
        "cooldown",
        lambda a: {"cooldown_days": parsing.parse_cooldown(a)},
    )


async def notnow_command(update: Update, context: PulseContext) -> None:
    """Sets the days after a "Not now" before that customer may be asked again."""
    await _change(
        update, context, "notnow", "notnow", lambda a: {"notnow_days": parsing.parse_notnow(a)}
    )


async def retention_command(update: Update, context: PulseContext) -> None:
    """Sets the days free-text answers are kept, or keeps them until a customer erases them."""
    await _change(
        update,
        context,
        "retention",
        "retention",
        lambda a: {"retention_days": parsing.parse_retention(a)},
    )


async def reminder_command(update: Update, context: PulseContext) -> None:
    """Sets the hours before the one reminder, or turns it off."""
    await _change(
        update,
        context,
        "reminder",
        "reminder",
        lambda a: {"reminder_hours": parsing.parse_reminder(a)},
    )


async def expiry_command(update: Update, context: PulseContext) -> None:
    """Sets the hours an invitation stays open."""
    await _change(
        update, context, "expiry", "expiry", lambda a: {"expiry_hours": parsing.parse_expiry(a)}
    )


def _quiet_values(args: list[str]) -> dict[str, Any]:
    window = parsing.parse_quiet(args)
    start, end = window if window is not None else (None, None)
    return {"quiet_start": start, "quiet_end": end}


async def quiet_command(update: Update, context: PulseContext) -> None:
    """Sets the quiet hours (nothing is sent unprompted in them), or turns them off."""
    await _change(update, context, "quiet", "quiet", _quiet_values)


async def timezone_command(update: Update, context: PulseContext) -> None:
    """Sets the time zone of schedules and quiet hours."""
    await _change(
        update,
        context,
        "timezone",
        "timezone",
        lambda a: {"timezone": parsing.parse_timezone(a)},
    )


def _no_arguments(values: dict[str, Any]) -> Parse:
    def parse(args: list[str]) -> dict[str, Any]:
        if args:
            raise WrongUsage(args)
        return values

    return parse


async def pause_command(update: Update, context: PulseContext) -> None:
    """Pauses every check-in round (the digest still goes out)."""
    await _change(update, context, "pause", "checkins", _no_arguments({"checkins_paused": True}))


async def resume_command(update: Update, context: PulseContext) -> None:
    """Resumes check-in rounds on their schedule."""
    await _change(update, context, "resume", "checkins", _no_arguments({"checkins_paused": False}))
