"""Numbered migrations: each applied once, in one transaction together with its record."""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(Exception):
    """A migration failed; it was rolled back and nothing of it remains."""


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    sql: str


def load_migrations(directory: Path) -> list[Migration]:
    """Reads `NNNN_name.sql` files in number order; a gap or duplicate number is an error."""
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    for expected, migration in enumerate(found, start=1):
        if migration.number != expected:
            raise MigrationError(f"migration {expected:04d} is missing or duplicated")
    return found


def split_statements(sql: str) -> list[str]:
    """Splits a script into statements; `executescript` would commit our transaction."""
    statements: list[str] = []
    current = ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in current.splitlines()
    ):
        raise MigrationError(f"unterminated statement: {current.strip()[:60]}")
    return statements


async def applied_numbers(conn: aiosqlite.Connection) -> set[int]:
    """The numbers of the migrations already recorded."""
    async with conn.execute("SELECT number FROM schema_migrations") as cursor:
        return {row[0] for row in await cursor.fetchall()}


async def apply_migrations(conn: aiosqlite.Connection, directory: Path | None = None) -> list[int]:
    """Applies every pending migration in order; returns the numbers it applied. A
    database newer than this code (a migration it does not know) is refused, untouched."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    done = await applied_numbers(conn)
    known = load_migrations(directory or MIGRATIONS_DIR)
    if unknown := sorted(done - {m.number for m in known}):
        raise MigrationError(newer(unknown[-1], len(known)))
    applied: list[int] = []
    for migration in known:
        if migration.number in done:
            continue
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in split_statements(migration.sql):
                await conn.execute(statement)
            await conn.execute(
                "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, ?, ?)",
                (migration.number, migration.name, int(time.time())),
            )
        except sqlite3.Error as exc:
            await conn.rollback()
            raise MigrationError(
                f"migration {migration.number:04d}_{migration.name} failed: {exc}"
            ) from exc
        await conn.commit()
        applied.append(migration.number)
    return applied


def newer(schema: int, known: int) -> str:
    """The refusal for a database migrated by a newer Pulse."""
    return (
        f"the database is at schema {schema}, newer than this Pulse knows (up to {known}):"
        " it was used by a newer version; upgrade Pulse, or restore a backup made for this one"
    )


@dataclass(frozen=True)
class SchemaStatus:
    """What a database file holds, read without changing it: whether it exists, its schema
    version (the highest migration applied), the migrations still to apply, and those this
    code does not know (a newer Pulse migrated it)."""

    exists: bool
    version: int
    pending: tuple[Migration, ...]
    unknown: tuple[int, ...]
    known: int  # how many migrations this code has

    def refuse_newer(self) -> None:
        """Raises MigrationError when a newer Pulse migrated this database."""
        if self.unknown:
            raise MigrationError(newer(self.version, self.known))


def status(path: Path, directory: Path | None = None) -> SchemaStatus:
    """The schema status of the database at `path`, opened read-only (nothing is created,
    migrated or locked for long)."""
    known = load_migrations(directory or MIGRATIONS_DIR)
    if not path.exists():
        return SchemaStatus(False, 0, tuple(known), (), len(known))
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise MigrationError(f"cannot read {path}: {exc}") from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        done = (
            {int(r[0]) for r in conn.execute("SELECT number FROM schema_migrations")}
            if "schema_migrations" in tables
            else set()
        )
    except sqlite3.DatabaseError as exc:
        raise MigrationError(f"{path} is not a Pulse database: {exc}") from None
    finally:
        conn.close()
    numbers = {m.number for m in known}
    return SchemaStatus(
        True,
        max(done, default=0),
        tuple(m for m in known if m.number not in done),
        tuple(sorted(done - numbers)),
        len(known),
    )


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of the database at `source` in `target`, by SQLite's online backup
    API: safe while the bot writes, and the source is opened read-only, so nothing in it
    changes (no migration, no journal mode). The copy is one self-contained file (rollback
    journal, not WAL), readable from read-only media."""
    origin = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            origin.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        origin.close()
