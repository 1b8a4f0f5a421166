"""/settings and the commands that change settings: each parses, checks, stores and confirms
old → new (for schedules, with the next times they run). A command that sets one value is
a line of the command table (`setting(...)` in `bot.commands`); schedules and sampling, whose
arguments choose what they set, have handlers of their own here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot.admin.steering import SettingsChange, apply_change, change_settings
from bot.catalog import Html
from bot.common import parsing
from bot.common.admin_chat import AdminChat, admin_chat
from bot.common.commands import Handler
from bot.common.context import PulseContext
from bot.common.display import checkin_runs, digest_run, settings_text, value_text
from bot.common.parsing import InvalidArgument, WrongUsage
from storage import customer_base

Parse = Callable[[list[str]], dict[str, Any]]
# A line added to a confirmation, read after the change (None: nothing to add).
Note = Callable[[AdminChat, SettingsChange], Awaitable[Html | None]]


async def settings_command(update: Update, context: PulseContext) -> None:
    """Shows every setting, its value, and the next check-in and digest times."""
    chat = await admin_chat(update, context)
    services = context.services
    config = await context.config()
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


async def change_setting(
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
    await change_setting(update, context, "schedule", group, _schedule_values)


async def sample_command(update: Update, context: PulseContext) -> None:
    """Sets how many customers a round asks (a number, or a percentage), or with `by` the
    base attribute each segment's invitations are split by."""
    args = context.args or []
    if args and args[0].lower() == "by":
        await change_setting(
            update,
            context,
            "sample",
            "sample_by",
            lambda a: {"sample_by": parsing.parse_sample_by(a)},
            _without_base,
        )
        return
    await change_setting(
        update, context, "sample", "sample", lambda a: {"sample_size": parsing.parse_sample(a)}
    )


async def _without_base(chat: AdminChat, change: SettingsChange) -> Html | None:
    """That the attribute waits for an imported base, when there is none yet."""
    if change.new.sample_by is None:
        return None
    if await chat.services.db.read(customer_base.has_base):
        return None
    return chat.text("admin.sample_by_no_base", attribute=change.new.sample_by)


def one(name: str, parse: Callable[[list[str]], Any]) -> Parse:
    """The parse of a command that sets the one setting `name`."""
    return lambda args: {name: parse(args)}


def setting(command: str, parse: Parse, *, group: str | None = None) -> Handler:
    """The handler of an admin command that changes settings: `parse` turns its arguments
    into new values, which are checked, stored and confirmed as `group` (the command's name
    unless told) in /settings' words."""

    async def handle(update: Update, context: PulseContext) -> None:
        await change_setting(update, context, command, group or command, parse)

    return handle


def quiet_values(args: list[str]) -> dict[str, Any]:
    """/quiet's values: the window, or off."""
    window = parsing.parse_quiet(args)
    start, end = window if window is not None else (None, None)
    return {"quiet_start": start, "quiet_end": end}


def _no_arguments(values: dict[str, Any]) -> Parse:
    def parse(args: list[str]) -> dict[str, Any]:
        if args:
            raise WrongUsage(args)
        return values

    return parse


# Every check-in round paused (the digest still goes out), and resumed on its schedule.
pause_command = setting("pause", _no_arguments({"checkins_paused": True}), group="checkins")
resume_command = setting("resume", _no_arguments({"checkins_paused": False}), group="checkins")
