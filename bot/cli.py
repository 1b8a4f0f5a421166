"""The `pulsebot` command line: run the bot, the offline demo, and operational commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.customer_base import commands as customer_commands
from bot.running import instance
from bot.service import UNREADABLE, StartupError, excerpt, serve, unreadable
from bot.settings import ConfigError, Settings, load_settings, load_storage_settings
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
            return _migrate()
        if args.command == "backup":
            return _backup(args.target)
        if args.command == "restore":
            return _restore(args.source)
        if args.command == "export":
            kind = args.format or ("xlsx" if args.out.suffix.lower() == ".xlsx" else "csv")
            return asyncio.run(_export(args.out, kind))
        if args.command == "health":
            return _health()
        if args.command == "settings":
            return asyncio.run(_show_settings(args.language))
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


def _counted(number: int, noun: str) -> str:
    """ "1 answer", "2 answers": the operator's lines are English only."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def _tried(tries: int) -> str:
    return "tried once" if tries == 1 else f"tried {tries} times"


async def _check() -> int:
    """The configuration, the token and the database, checked; nothing is created or
    migrated (`pulsebot migrate` does that)."""
    settings = load_settings()
    admins = _counted(len(settings.admin_ids), "admin")
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
    pending = _counted(len(known.pending), "migration")
    return (
        f"database {path}: schema {known.version}, {pending} pending"
        f" ({names}): pulsebot migrate applies them (run does too)"
    )


def _migrate() -> int:
    """Applies pending migrations, after a backup of the database as it was."""
    path = load_storage_settings().database_path
    known = schema.status(path)
    known.refuse_newer()
    if known.exists and not known.pending:
        print(f"database {path}: schema {known.version}, up to date; nothing to do")
        return 0
    saved = None

    async def migrate() -> None:
        db = await Database.open(path)
        await db.close()

    # Under the running bot's lock: a bot of the old version must not go on beside it.
    with instance.running(path):
        if known.exists:
            saved = _free_name(path.with_name(f"{path.name}.schema-{known.version}.bak"))
            try:
                schema.copy_database(path, saved)
            except sqlite3.Error as exc:
                saved.unlink(missing_ok=True)
                raise StorageError(f"cannot back up {path} before migrating: {exc}") from None
        asyncio.run(migrate())
    after = schema.status(path)
    if saved is None:
        print(f"database {path} created at schema {after.version}")
    else:
        print(
            f"database {path} migrated from schema {known.version} to {after.version};"
            f" the database as it was is in {saved}"
        )
    return 0


def _copy_files(database: Path, target: Path) -> None:
    """The database file and its write-ahead log, copied as they are, whatever they hold."""
    shutil.copyfile(database, target)
    wal = database.with_name(database.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + "-wal"))


def _free_name(wanted: Path) -> Path:
    """`wanted`, or `wanted` with a number before its suffix when that file exists."""
    candidate, n = wanted, 1
    while candidate.exists():
        n += 1
        candidate = wanted.with_name(f"{wanted.stem}-{n}{wanted.suffix}")
    return candidate


async def _show_settings(language: str) -> int:
    """What an admin's /settings shows, for an operator without Telegram at hand."""
    from bot.catalog import Catalog
    from bot.clock import SystemClock
    from bot.common.display import plain_text, settings_text
    from storage import runtime_settings

    settings = load_storage_settings()  # an operator may have no token at hand
    if not settings.database_path.exists():
        raise StorageError(f"no database at {settings.database_path}")
    db = await Database.open(settings.database_path)
    try:
        async with db.read() as conn:
            config = await runtime_settings.load(conn)
    finally:
        await db.close()
    now = SystemClock().now()
    text = settings_text(Catalog.load(), language, config, settings.timezone, now)
    print(plain_text(text))
    return 0


async def _export(target: Path, kind: str) -> int:
    """Every answer as `kind` (csv or xlsx), of any size; the times in the schedules' time
    zone."""

    from bot.digest.export import TooManyForXlsx, write_file
    from storage import runtime_settings

    settings = load_storage_settings()
    if not settings.database_path.exists():
        raise StorageError(f"no database at {settings.database_path}")
    db = await Database.open(settings.database_path)
    try:
        async with db.read() as conn:
            config = await runtime_settings.load(conn)
        zone = config.zone(settings.timezone)
        try:
            count = await write_file(db, target, zone, kind)
        except OSError as exc:
            raise StorageError(f"cannot write {target}: {exc.strerror}") from None
        except TooManyForXlsx as exc:
            await asyncio.to_thread(target.unlink, True)  # missing_ok: what was begun goes
            raise StorageError(f"cannot write {target}: {exc}; export as CSV instead") from None
    finally:
        await db.close()
    print(f"exported {_counted(count, 'answer')} to {target}")
    return 0


def _health() -> int:
    """One line on the running bot's health, from its /healthz; 0 when healthy."""
    import json
    import urllib.error
    import urllib.request

    settings = load_storage_settings()
    if settings.health_port == 0:
        raise ConfigError(
            "PULSE_HEALTH_PORT is 0 (any free port): set a fixed port to ask the bot's health."
        )
    host = settings.health_listen
    host = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host  # noqa: S104
    url = f"http://{f'[{host}]' if ':' in host else host}:{settings.health_port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"pulsebot: no answer from {url}: {reason}", file=sys.stderr)
        return 1
    try:
        checks = json.loads(body)["checks"]
        failing = [name for name, check in checks.items() if not check["ok"]]
    except (ValueError, KeyError, TypeError):
        print(f"pulsebot: {url} answered {status}, not with Pulse's health", file=sys.stderr)
        return 1
    print("healthy" if status == 200 else f"failing: {', '.join(failing)}")
    return 0 if status == 200 else 1


def _backup(target: Path) -> int:
    """A consistent copy by SQLite's online backup, the bot running or not; the database
    itself is neither migrated nor changed."""
    path = load_storage_settings().database_path
    if not path.exists():
        raise StorageError(f"no database at {path}")
    if target.exists():
        raise StorageError(f"{target} exists: pick a new file for the backup")
    try:
        schema.copy_database(path, target)
    except sqlite3.Error as exc:
        raise StorageError(f"cannot back up {path} to {target}: {exc}") from None
    print(f"backed up {path} to {target}")
    return 0


def _restore(source: Path) -> int:
    """Replaces the database with the backup `source`, only while no bot runs on it; the
    database being replaced is kept beside it first."""
    path = load_storage_settings().database_path
    if not source.exists():
        raise StorageError(f"no backup at {source}")
    backup = schema.status(source)
    if not backup.version:
        raise StorageError(f"{source} is not a Pulse database (it has no schema)")
    backup.refuse_newer()
    with instance.running(path):
        kept = None
        if path.exists():
            # A plain copy of the files, not SQLite's backup: the database being replaced
            # may be the damaged one the restore is for. No bot runs, so they are at rest.
            kept = _free_name(path.with_name(f"{path.name}.before-restore.bak"))
            _copy_files(path, kept)
        # The backup goes in under a temporary name, then replaces the database in one
        # rename; the old one's -wal and -shm go first, or SQLite would replay them into it.
        incoming = path.with_name(f"{path.name}.restoring")
        try:
            schema.copy_database(source, incoming)
            with incoming.open("rb") as written:
                os.fsync(written.fileno())
            for side in ("-wal", "-shm"):
                path.with_name(path.name + side).unlink(missing_ok=True)
            os.replace(incoming, path)
        except (OSError, sqlite3.Error) as exc:
            incoming.unlink(missing_ok=True)
            raise StorageError(f"cannot restore {source} to {path}: {exc}") from None
    print(
        f"restored {path} from {source} (schema {backup.version}"
        + (", pending migrations apply at the next run or migrate" if backup.pending else "")
        + ")"
        + (f"; the database it replaced is in {kept}" if kept else "")
    )
    return 0
