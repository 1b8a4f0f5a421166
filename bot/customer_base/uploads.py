"""A customer base file sent to the bot: kept on disk and previewed, then imported (or
dropped) when the admin who sent it presses a button; each import is decided once."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from bot.customer_base.importing import ImportAlreadyDecided, ImportReport, preview, run_import
from storage import base_imports
from storage.base_imports import PendingImport
from storage.db import Database

# Telegram lets a bot download files up to 20 MB.
DOWNLOAD_LIMIT = 20 * 1024 * 1024


class NotYours(Exception):
    """Only the admin who sent the file may confirm or cancel its import."""


class FileLost(Exception):
    """The previewed file is gone from the server, or no longer the one previewed."""


class UnknownImport(LookupError):
    """No import has that id."""


def folder_for(database_path: Path) -> Path:
    """Where files sent to the bot wait for their confirmation: beside the database."""
    return database_path.with_name(database_path.name + ".imports")


def new_path(folder: Path) -> Path:
    """A fresh file name in the folder (created if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{secrets.token_hex(8)}.csv"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _digest_or_none(path: Path) -> str | None:
    try:
        return _sha256(path)
    except OSError:
        return None


@dataclass(frozen=True)
class Previewed:
    pending: PendingImport | None  # None when no row can be imported: nothing to confirm
    report: ImportReport


async def receive(
    db: Database, path: Path, *, file_name: str, actor_id: int, now: int
) -> Previewed:
    """Previews a downloaded file and records it as waiting for a confirmation; raises
    FileProblem (the file is then deleted)."""
    try:
        report = await preview(db, path)
    except BaseException:
        await asyncio.to_thread(path.unlink, True)
        raise
    if report.valid == 0:
        await asyncio.to_thread(path.unlink, True)
        return Previewed(None, report)
    digest = await asyncio.to_thread(_sha256, path)

    def replace_pending(conn: sqlite3.Connection) -> tuple[list[str], PendingImport]:
        # One preview per admin: a newer file replaces the one still waiting (and its file).
        replaced = base_imports.cancel_pending_imports(conn, actor_id, now)
        pending = base_imports.open_import(
            conn, actor_id=actor_id, file_name=file_name, path=str(path), sha256=digest, now=now
        )
        return replaced, pending

    replaced, pending = await db.write(replace_pending)
    for old in replaced:
        await asyncio.to_thread(Path(old).unlink, True)
    return Previewed(pending, report)


async def _pending(db: Database, import_id: int, actor_id: int) -> PendingImport:
    found = await db.read(lambda conn: base_imports.find_import(conn, import_id))
    if found is None:
        raise UnknownImport(import_id)
    if found.actor_id != actor_id:
        raise NotYours(import_id)
    if found.status != "pending":
        raise ImportAlreadyDecided(import_id)
    return found


async def confirm(
    db: Database, import_id: int, *, actor_id: int, mark_gone: bool, now: int
) -> ImportReport:
    """Imports a previewed file (its good rows), once; raises UnknownImport, NotYours,
    ImportAlreadyDecided, FileLost or FileProblem."""
    found = await _pending(db, import_id, actor_id)
    path = Path(found.path)
    if await asyncio.to_thread(_digest_or_none, path) != found.sha256:
        raise FileLost(import_id)
    report = await run_import(
        db,
        path,
        skip_bad=True,  # the preview showed the bad rows, and the button said so
        mark_gone=mark_gone,
        actor_id=actor_id,
        now=now,
        source=found.file_name,
        pending_id=import_id,
    )
    await asyncio.to_thread(path.unlink, True)
    return report


async def cancel(db: Database, import_id: int, *, actor_id: int, now: int) -> None:
    """Drops a previewed file; raises UnknownImport, NotYours or ImportAlreadyDecided."""
    found = await _pending(db, import_id, actor_id)
    decided = partial(base_imports.decide_import, import_id=import_id, status="cancelled", now=now)
    if not await db.write(decided):
        raise ImportAlreadyDecided(import_id)
    await asyncio.to_thread(Path(found.path).unlink, True)
