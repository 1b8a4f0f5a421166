"""`pulsebot customers import|links`: the customer base from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from bot.catalog import Catalog
from bot.common.display import plain_text
from bot.customer_base.importing import run_import
from bot.customer_base.links import VALID_DAYS, UnknownSegment, write_links
from bot.customer_base.report import file_problem_text, report_text
from bot.customer_base.rows import FileProblem
from bot.settings import load_settings, load_storage_settings
from storage.db import Database, StorageError


def add_parser(commands: Any) -> None:
    """Adds `customers` and its subcommands to the `pulsebot` parser."""
    customers = commands.add_parser(
        "customers", help="import the customer base from CSV, or write personal invite links"
    )
    verbs = customers.add_subparsers(dest="verb", required=True, metavar="VERB")
    imported = verbs.add_parser(
        "import",
        help="import (upsert by external id) a CSV of external_id, name, segment, language"
        " and any other columns as attributes",
    )
    imported.add_argument("file", type=Path, help="the CSV file")
    imported.add_argument(
        "--skip-bad", action="store_true", help="import the good rows even when some are bad"
    )
    imported.add_argument(
        "--mark-missing-gone",
        action="store_true",
        help="mark customers of the base that are not in the file as gone (no longer asked)",
    )
    links = verbs.add_parser(
        "links", help="write a personal one-time invite link per customer, for a mail merge"
    )
    links.add_argument("--out", type=Path, required=True, help="the new CSV file to write")
    links.add_argument("--segment", help="only this segment's customers")
    links.add_argument(
        "--days", type=int, default=VALID_DAYS, help=f"days the links stay valid ({VALID_DAYS})"
    )
    links.add_argument(
        "--bot", help="the bot's @username (default: asked from the Bot API with the token)"
    )


def run(args: argparse.Namespace) -> int:
    """Runs `pulsebot customers <verb>`; returns the exit status."""
    if args.verb == "import":
        if not args.file.is_file():
            raise StorageError(f"no file at {args.file}")
        return asyncio.run(_import(args.file, args.skip_bad, args.mark_missing_gone))
    if args.days < 1 or args.days > 365:
        raise StorageError("--days must be between 1 and 365")
    if args.out.exists():
        raise StorageError(f"{args.out} exists: pick a new file for the links")
    username = args.bot.lstrip("@") if args.bot else asyncio.run(_bot_username())
    return asyncio.run(_links(args.out, args.segment, username, args.days))


async def _open() -> Database:
    settings = load_storage_settings()
    if not settings.database_path.exists():
        raise StorageError(f"no database at {settings.database_path}")
    return await Database.open(settings.database_path)


async def _import(path: Path, skip_bad: bool, mark_gone: bool) -> int:
    """Imports the file; exit status 1 when nothing could be written."""
    catalog = Catalog.load()
    db = await _open()
    try:
        report = await run_import(
            db,
            path,
            skip_bad=skip_bad,
            mark_gone=mark_gone,
            actor_id=None,
            now=int(time.time()),
            source=path.name,
        )
    except FileProblem as problem:
        print(plain_text(file_problem_text(catalog, "en", problem)), file=sys.stderr)
        return 1
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        await db.close()
    print(plain_text(report_text(catalog, "en", report, preview=False)))
    if report.blocked:
        print(plain_text(catalog.text("en", "base.cli_skip_bad")), file=sys.stderr)
        return 1
    if report.missing and not mark_gone:
        print(plain_text(catalog.text("en", "base.cli_mark_gone", missing=report.missing)))
    return 0


async def _bot_username() -> str:
    """The bot's username from getMe, tried once."""
    from telegram import Bot
    from telegram.error import TelegramError

    from bot.sending import retries

    settings = load_settings()
    bot = Bot(settings.bot_token.get_secret_value(), base_url=settings.api_base_url)
    try:
        await retries.with_retries(bot.initialize, retries.ONCE, what="getMe")
        return bot.username
    except TelegramError:
        raise StorageError(
            "cannot ask the Bot API for the bot's name: pass --bot <username> instead"
        ) from None
    finally:
        await bot.shutdown()


async def _links(target: Path, segment: str | None, username: str, days: int) -> int:
    db = await _open()
    try:
        written = await write_links(
            db,
            target,
            segment=segment,
            bot_username=username,
            actor_id=None,
            now=int(time.time()),
            days=days,
        )
    except UnknownSegment:
        raise StorageError(f"there is no segment called {segment}") from None
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror}") from None
    finally:
        await db.close()
    joined = _counted(written.joined, "customer")
    print(
        f"wrote {_counted(written.written, 'personal link')} to {target},"
        f" valid for {_counted(days, 'day')}"
        + (f"; {joined} already take part and need none" if written.joined else "")
    )
    return 0


def _counted(number: int, noun: str) -> str:
    """ "1 link", "2 links": the operator's lines are English only."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"
