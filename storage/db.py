"""The database handle: one aiosqlite connection per process and its single write path."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrate import apply_migrations

Params = Sequence[Any] | dict[str, Any]


class StorageError(Exception):
    """The database could not be opened or used."""


class Database:
    """One connection; every statement goes through `transaction()` or `read()`.

    Both take the same lock. With a single connection, a read interleaved with another
    coroutine's open transaction would see that transaction's uncommitted rows, so reads
    wait for it: transactions never await Telegram, so they are short.
    """

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: str | Path, migrations_dir: Path | None = None) -> Database:
        """Opens (creating if needed) the database at `path` and applies pending migrations."""
        path = str(path)
        conn: aiosqlite.Connection | None = None
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN ourselves, so sqlite3 never opens one
            # behind our back.
            conn = await aiosqlite.connect(path, isolation_level=None)
            await conn.execute("PRAGMA journal_mode=WAL")
        except (OSError, sqlite3.Error) as exc:
            if conn is not None:
                # aiosqlite's worker thread would otherwise keep the process alive.
                await conn.close()
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        db = cls(conn, path)
        try:
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA busy_timeout=5000")
            conn.row_factory = aiosqlite.Row
            async with db._lock:
                await apply_migrations(conn, migrations_dir)
        except Exception:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        """Closes the connection after any transaction in progress."""
        async with self._lock:
            await self._conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """The one write path: `BEGIN IMMEDIATE` under the lock; commit, or roll back on error."""
        async with self._lock:
            try:
                # Inside the try: a task cancelled while BEGIN is queued on the connection's
                # thread must still roll it back, or the next writer finds a transaction open.
                await self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
            except BaseException:
                await self._conn.rollback()  # a no-op when BEGIN itself failed
                raise
            await self._conn.commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read: the connection, once no transaction is open."""
        async with self._lock:
            yield self._conn

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Runs one read-only query and returns all its rows."""
        async with self.read() as conn, conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Writes many rows in one transaction and one thread hop."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def backup(self, target: str | Path) -> None:
        """Writes a consistent copy of the database to `target` (SQLite's online backup)."""
        async with self.read() as conn, aiosqlite.connect(str(target)) as dest:
            await conn.backup(dest)
