"""The `pulsebot` command line: run the bot, the offline demo, and operational commands.
Here are the parser, `pulsebot run` with its preflight and `pulsebot check`; the commands
on the database an operator runs beside the bot are cli_ops.py's."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import cli_ops
from bot.customer_base import commands as customer_commands
from bot.running import instance
from bot.service import UNREADABLE, StartupError, excerpt, serve, unreadable
from bot.settings import ConfigError, Settings, load_settings
from storage import migrate as schema
from storage.db import Database, StorageError
from storage.migrate import MigrationError

if TYPE_CHECKING:
    from bot.sending.retries import Policy

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pulsebot", description="Pulse: quick customer pulse feedback over Telegram."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run the bot (long polling, or --webhook); needs PULSE_BOT_TOKEN"
    )
    run.add_argument(
        "--webhook",
        action="store_true",
        help="take updates by webhook at PULSE_WEBHOOK_URL instead of polling",
    )
    demo = commands.add_parser(
        "demo", help="run Pulse offline against the sandbox, with a transcript"
    )
    demo.add_argument("--out", type=Path, help="folder for the demo's database and transcript")
    commands.add_parser(
        "check",
        help="check the configuration, the token (getMe) and the database's schema; changes"
        " nothing",
    )
    commands.add_parser(
        "migrate", help="bring the database's schema up to date, after writing a backup of it"
    )
    backup = commands.add_parser(
        "backup", help="write a consistent copy of the database (while the bot runs, too)"
    )
    backup.add_argument("target", type=Path, help="new file to write the copy to")
    restore = commands.add_parser(
        "restore", help="replace the database with a backup; refused while the bot runs"
    )
    restore.add_argument("source", type=Path, help="the backup to restore")
    export = commands.add_parser(
        "export", help="write every answer as CSV or an Excel workbook, as /export sends it"
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write")
    export.add_argument(
        "--format",
        choices=("csv", "xlsx"),
        help="csv or xlsx (default: from the file's name, else csv)",
    )
    commands.add_parser(
        "health",
        help="ask the running bot's /healthz; exit status 0 when healthy (for HEALTHCHECK)",
    )
    shown = commands.add_parser(
        "settings", help="print the runtime settings and the next runs, as /settings shows them"
    )
    shown.add_argument("--language", choices=("en", "nl"), default="en")
    customer_commands.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a `pulsebot` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "run":
            return _run(webhook=args.webhook)
        if args.command == "demo":
            from bot.demo.offline import run_demo

            return asyncio.run(run_demo(args.out))
        if args.command == "check":
            return asyncio.run(_check())
        if args.command == "migrate":
            return cli_ops.migrate()
        if args.command == "backup":
            return cli_ops.backup(args.target)
        if args.command == "restore":
            return cli_ops.restore(args.source)
        if args.command == "export":
            kind = args.format or ("xlsx" if args.out.suffix.lower() == ".xlsx" else "csv")
            return asyncio.run(cli_ops.export(args.out, kind))
        if args.command == "health":
            return cli_ops.health()
        if args.command == "settings":
            return asyncio.run(cli_ops.show_settings(args.language))
        if args.command == "customers":
            return customer_commands.run(args)
    except ConfigError as exc:
        # A check says every problem at once; the other commands stop at the first.
        for problem in exc.problems if args.command == "check" else (str(exc),):
            print(f"pulsebot: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    except (StorageError, MigrationError, StartupError) as exc:
        print(f"pulsebot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    raise AssertionError(f"unhandled command {args.command}")


def _run(*, webhook: bool = False) -> int:
    from bot.running.logs import configure_logging, redact

    settings = load_settings()
    token = settings.bot_token.get_secret_value()
    if webhook and settings.webhook_problems():
        raise ConfigError(settings.webhook_problems()[0], settings.webhook_problems())
    configure_logging(settings.log_level, token, settings.log_format)
    try:
        with instance.running(settings.database_path):
            asyncio.run(_preflight(settings))
            return asyncio.run(serve(settings, webhook=webhook))
    except (ConfigError, StartupError) as exc:
        # A server or proxy may repeat the request path, token and all, in its error.
        raise type(exc)(redact(str(exc), token)) from None
    except (StorageError, MigrationError):
        raise  # one line each, printed by main()
    except Exception as exc:
        # A defect, not a condition we know: its traceback goes to the log, through the
        # token's redaction (Python's own printing of it would not be), and one line here.
        logging.getLogger(__name__).critical("Pulse stopped on an unexpected error", exc_info=True)
        said = excerpt(redact(str(exc), token))
        print(f"pulsebot: stopped: {type(exc).__name__}: {said}", file=sys.stderr)
        return 1


async def _preflight(settings: Settings) -> None:
    """Opens (and migrates) the database and asks the Bot API who we are, before running.

    Without it a wrong token, an unreachable server or an answer PTB cannot read ends in
    PTB's own traceback; with it, in one line that says what to fix.
    """
    from bot.sending import retries

    db = await Database.open(settings.database_path)
    await db.close()
    # A restart during a short Telegram hiccup (a 502, a 429) waits it out.
    await _get_me(settings, retries.STARTUP)


async def _get_me(settings: Settings, policy: Policy) -> str:
    """Who the bot is ("@name (id N)"), by getMe tried as `policy` says; a refused token,
    an unreachable server or an answer PTB cannot read becomes one line that says what to
    fix."""
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError

    from bot.running.logs import redact
    from bot.sending import retries

    token = settings.bot_token.get_secret_value()
    bot = Bot(token, base_url=settings.api_base_url)
    tries = 0

    async def get_me() -> None:
        nonlocal tries
        tries += 1
        await bot.initialize()

    try:
        await retries.with_retries(get_me, policy, what="getMe")
        return f"@{bot.username} (id {bot.id})"
    except InvalidToken:
        raise ConfigError(
            "PULSE_BOT_TOKEN was refused by the Bot API: copy the token from @BotFather again."
        ) from None
    except TelegramError as exc:
        raise StartupError(
            f"cannot reach the Bot API at {settings.telegram_base_url}: "
            f"{excerpt(redact(exc.message, token))} ({_tried(tries)}); "
            "check the network or PULSE_TELEGRAM_BASE_URL."
        ) from None
    except UNREADABLE as exc:
        raise StartupError(unreadable(settings, exc)) from None
    finally:
        await bot.shutdown()


def _tried(tries: int) -> str:
    return "tried once" if tries == 1 else f"tried {tries} times"


async def _check() -> int:
    """The configuration, the token and the database, checked; nothing is created or
    migrated (`pulsebot migrate` does that)."""
    settings = load_settings()
    admins = cli_ops.counted(len(settings.admin_ids), "admin")
    print(f"configuration ok: {admins}; time zone {settings.timezone}")
    known = schema.status(settings.database_path)
    known.refuse_newer()
    print(_schema_line(settings.database_path, known))
    from bot.sending import retries

    # Once: a check reports, it does not wait.
    print(f"token ok: the bot is {await _get_me(settings, retries.ONCE)}")
    return 0


def _schema_line(path: Path, known: schema.SchemaStatus) -> str:
    if not known.exists:
        return f"database {path} does not exist yet: pulsebot migrate (or run) creates it"
    if not known.pending:
        return f"database {path}: schema {known.version}, up to date"
    names = ", ".join(f"{m.number:04d}_{m.name}" for m in known.pending)
    pending = cli_ops.counted(len(known.pending), "migration")
    return (
        f"database {path}: schema {known.version}, {pending} pending"
        f" ({names}): pulsebot migrate applies them (run does too)"
    )
