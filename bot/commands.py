"""Every command of the bot, declared once, in menu order: the customers' commands first,
then the team's. A command that sets one runtime setting is one line: `_sets(...)`; a
count setting (a number of days or hours) is not even that: its command comes from its
field (`_counts`).

`bot.app` registers a handler per name from this table; gatekeeping, the menus, /help and
the permission tests read it (`bot.common.commands`). A command's texts are its catalog
lines: `commands.<name>`, `customer_commands.<name>` and `command_args.<name>`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from bot.admin import audit_commands, settings_commands
from bot.admin.settings_commands import one, quiet_values, setting
from bot.checkins import enrollment, question_commands, round_commands
from bot.common import parsing as p
from bot.common.commands import Command, CommandTable, Who
from bot.digest import commands as digest
from bot.followups import handlers as followups
from bot.hypotheses import commands as hypotheses
from bot.privacy import commands as controls
from bot.segments import commands as segments
from bot.segments import invite_commands
from bot.team import commands as team
from bot.team import help
from bot.tell import commands as tell
from storage.runtime_settings import COUNTS, RuntimeSettings


def _sets(name: str, field: str, parse: Callable[[list[str]], Any], example: str) -> Command:
    """An admin command that sets the one runtime setting `field` to `parse(args)`."""
    return Command(name, Who.ADMIN, setting(name, one(field, parse)), example)


def _shown(default: int | None) -> str:
    return "off" if default is None else str(default)


def _counts() -> tuple[Command, ...]:
    """The command of every count setting, derived from its declaration alone
    (`storage.runtime_settings.Count`), with its default as the example."""
    return tuple(
        _sets(
            count.name(field),
            field,
            partial(p.parse_count, count),
            f"/{count.name(field)} {_shown(getattr(RuntimeSettings(), field))}",
        )
        for field, count in COUNTS.items()
    )


COMMANDS = CommandTable(
    (
        Command("start", Who.EVERYONE, enrollment.start_command),
        Command("pause", Who.CUSTOMER, controls.pause_command),
        Command("resume", Who.CUSTOMER, controls.resume_command),
        Command("frequency", Who.EVERYONE, controls.frequency_command),
        Command("mydata", Who.EVERYONE, controls.mydata_command),
        Command("privacy", Who.EVERYONE, controls.privacy_command),
        Command("forget", Who.EVERYONE, controls.forget_command),
        Command("language", Who.EVERYONE, enrollment.language_command),
        Command("stop", Who.EVERYONE, enrollment.stop_command),
        Command("help", Who.EVERYONE, help.help_command),
        # The team's, as their menus and /help list them.
        Command("digest", Who.STAFF, digest.digest_command, "/digest"),
        Command("export", Who.STAFF, digest.export_command, "/export"),
        Command("tell", Who.STAFF, tell.tell_command, "/tell"),
        Command("followups", Who.STAFF, followups.followups_command, "/followups"),
        Command("cancel", Who.STAFF, followups.cancel_command, "/cancel"),
        Command("settings", Who.STAFF, settings_commands.settings_command, "/settings"),
        Command("segments", Who.STAFF, segments.segments_command, "/segments"),
        Command(
            "schedule",
            Who.ADMIN,
            settings_commands.schedule_command,
            "/schedule checkin mon-fri 09:30",
        ),
        Command("pause", Who.ADMIN, controls.pause_command, "/pause"),
        Command("resume", Who.ADMIN, controls.resume_command, "/resume"),
        Command("checkin_now", Who.ADMIN, round_commands.checkin_now_command, "/checkin_now"),
        Command("digest_now", Who.ADMIN, digest.digest_now_command, "/digest_now"),
        Command("sample", Who.ADMIN, settings_commands.sample_command, "/sample 10%"),
        *_counts(),
        Command("quiet", Who.ADMIN, setting("quiet", quiet_values), "/quiet off"),
        Command("alerts", Who.ADMIN, followups.alerts_command, "/alerts 3"),
        _sets("timezone", "timezone", p.parse_timezone, "/timezone Europe/London"),
        Command("invite", Who.ADMIN, invite_commands.invite_command, "/invite retail"),
        Command(
            "segment",
            Who.ADMIN,
            segments.segment_command,
            "/segment rename general -> everyone",
        ),
        Command(
            "questions",
            Who.ADMIN,
            question_commands.questions_command,
            "/questions set score en How are we doing?",
        ),
        Command(
            "hypothesis",
            Who.ADMIN,
            hypotheses.hypothesis_command,
            "/hypothesis add Deliveries worry our customers most",
        ),
        Command("staff", Who.ADMIN, team.staff_command, "/staff add 700"),
        Command("admin", Who.ADMIN, team.admin_command, "/admin add 700"),
        Command("audit", Who.ADMIN, audit_commands.audit_command, "/audit"),
    )
)
