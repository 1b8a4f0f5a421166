"""Command menus that fit the person: customers see the customer commands, staff and admins
also theirs (setMyCommands with a per-chat scope), refreshed whenever a role changes."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError
from telegram.ext import JobQueue

from bot.catalog import Catalog, Html
from bot.common.commands import CommandTable
from bot.common.context import PulseContext, Services
from bot.sending import retries
from storage import team
from storage.team import Role

log = logging.getLogger(__name__)

# Menus are set for English (no language code: every other client language too) and Dutch.
MENU_LANGUAGES: tuple[tuple[str | None, str], ...] = ((None, "en"), ("nl", "nl"))
RETRY_JOB = "menus:retry"


def description(catalog: Catalog, language: str, name: str, *, customer: bool = False) -> str:
    """The one line that describes a command in menus and /help (`customer`: as a customer
    uses it, for the commands whose meaning follows the role)."""
    keys = catalog.keys(language)
    if customer and f"customer_commands.{name}" in keys:
        return catalog.text(language, f"customer_commands.{name}")
    key = f"commands.{name}"
    return catalog.text(language, key) if key in keys else f"/{name}"


def menu(
    catalog: Catalog, commands: CommandTable, language: str, role: Role | None
) -> list[BotCommand]:
    """The command menu of a customer (role None), staff member or admin."""
    if role is None:
        return [
            BotCommand(name, description(catalog, language, name, customer=True))
            for name in commands.customer_menu()
        ]
    return [
        BotCommand(name, description(catalog, language, name)) for name in commands.team_menu(role)
    ]


async def refresh(bot: Bot, services: Services, user_id: int, role: Role | None) -> bool:
    """Sets the menu of one person's private chat for their role (customers: the default);
    False after a passing failure (a 5xx, say), which `retry_later` mends.

    A person who never started the bot has no chat to set it in; they get theirs at the
    next start-up after they do.
    """
    scope = BotCommandScopeChat(user_id)
    try:
        for language_code, language in MENU_LANGUAGES:
            if role is None:
                await bot.delete_my_commands(scope, language_code=language_code)
            else:
                commands = menu(services.catalog, services.commands, language, role)
                await bot.set_my_commands(commands, scope, language_code=language_code)
    except TelegramError as exc:
        passing = retries.MENUS.delay(exc, 1) is not None
        log.log(
            logging.WARNING if passing else logging.INFO,
            "could not set the command menu of user %s: %s",
            user_id,
            exc,
        )
        return not passing
    return True


async def publish(
    bot: Bot, services: Services, jobs: JobQueue[Any] | None, failures: int = 0
) -> None:
    """Sets every menu: the default ones (customer commands, in Dutch for Dutch clients,
    else English) and each team member's. A failure is logged and tried again later by a
    job: menus are never a reason not to run."""
    try:
        for language_code, language in MENU_LANGUAGES:
            await bot.set_my_commands(
                menu(services.catalog, services.commands, language, None),
                BotCommandScopeDefault(),
                language_code=language_code,
            )
    except TelegramError as exc:
        log.warning("could not set the default command menus: %s", exc)
        retry_later(jobs, failures + 1)
        return
    members = await services.db.read(team.list_all)
    roles = {member.user_id: member.role for member in members}
    roles.update(dict.fromkeys(services.settings.admin_ids, Role.ADMIN))
    done = [await refresh(bot, services, user_id, role) for user_id, role in roles.items()]
    if not all(done):
        retry_later(jobs, failures + 1)


def retry_later(jobs: JobQueue[Any] | None, failures: int = 1) -> None:
    """Publishes every menu again after the menus policy's wait (one job, replaced)."""
    assert jobs is not None
    delay = retries.MENUS.backoff(failures)
    for job in jobs.get_jobs_by_name(RETRY_JOB):
        job.schedule_removal()
    jobs.run_once(_publish_job, when=delay, name=RETRY_JOB, data=failures)
    log.info("command menus are set again in %.0f s", delay)


async def _publish_job(context: PulseContext) -> None:
    """Tries the menus again after a failure."""
    failures = context.job.data if context.job is not None else 1
    assert isinstance(failures, int)
    await publish(context.bot, context.services, context.job_queue, failures)


def team_help(services: Services, language: str, role: Role) -> str:
    """/help's team part: every command the role may use, with its arguments and a line."""
    catalog = services.catalog
    lines = [catalog.text(language, "admin.help_title")]
    for name in services.commands.team_commands(role):
        key = f"command_args.{name}"
        args = catalog.text(language, key) if key in catalog.keys(language) else ""
        lines.append(
            catalog.text(
                language,
                "admin.help_line",
                command=Html(f"/{name} {args}" if args else f"/{name}"),
                description=description(catalog, language, name),
            )
        )
    return "\n".join(lines)
