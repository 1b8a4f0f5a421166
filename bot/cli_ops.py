"""The `pulsebot` commands an operator runs on the database beside the bot, or instead of
it: migrate (after a backup), backup, restore, export, the runtime settings and the health
of the running bot. Each prints one line (or a few) and returns the exit status."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from pathlib import Path

from bot.running import instance
from bot.settings import ConfigError, load_storage_settings
from storage import migrate as schema
from storage.db import Database, StorageError


def counted(number: int, noun: str) -> str:
    """ "1 answer", "2 answers": the operator's lines are English only."""
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {noun}s"


def migrate() -> int:
    """Applies pending migrations, after a backup of the database as it was."""
    path = load_storage_settings().database_path
    known = schema.status(path)
    known.refuse_newer()
    if known.exists and not known.pending:
        print(f"database {path}: schema {known.version}, up to date; nothing to do")
        return 0
    saved = None

    async def open_migrated() -> None:
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
        asyncio.run(open_migrated())
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


async def show_settings(language: str) -> int:
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
        config = await db.read(runtime_settings.load)
    finally:
        await db.close()
    now = SystemClock().now()
    text = settings_text(Catalog.load(), language, config, settings.timezone, now)
    print(plain_text(text))
    return 0


async def export(target: Path, kind: str) -> int:
    """Every answer as `kind` (csv or xlsx), of any size; the times in the schedules' time
    zone."""

    from bot.digest.export import TooManyForXlsx, write_file
    from storage import runtime_settings

    settings = load_storage_settings()
    if not settings.database_path.exists():
        raise StorageError(f"no database at {settings.database_path}")
    db = await Database.open(settings.database_path)
    try:
        config = await db.read(runtime_settings.load)
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
    print(f"exported {counted(count, 'answer')} to {target}")
    return 0


def health() -> int:
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


def backup(target: Path) -> int:
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


def restore(source: Path) -> int:
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
