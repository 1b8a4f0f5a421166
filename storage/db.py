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


class _Connection(aiosqlite.Connection):
    """aiosqlite's connection, whose statements run in the calling thread while `inline`.

    Every statement aiosqlite sends to its thread is a hop there and back, and the way
    back waits for a turn of the event loop, a millisecond or more while updates are being
    handled; a lock holder that awaits lets every other session queue behind it, and each
    hand-over of the lock costs another turn. Measured: about 13 ms of lock per answer, so
    about 80 answers/s whatever the concurrency. Run where they are called, under the lock,
    a session's statements finish without yielding, so the lock is never contended: the
    short statements of WAL SQLite cost far less than one hop. What is left on the thread:
    opening, migrating and closing.
    """

    inline = False

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self.inline and self._connection is not None:
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


def _connect(path: str) -> _Connection:
    def connector() -> sqlite3.Connection:
        # isolation_level=None: we issue BEGIN ourselves, so sqlite3 never opens one
        # behind our back. Used from two threads (see _Connection), never at once.
        return sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    return _Connection(connector, iter_chunk_size=64)


class Database:
    """One connection; every statement goes through `transaction()` or `read()`.

    Both take the same lock. With a single connection, a read interleaved with another
    coroutine's open transaction would see that transaction's uncommitted rows, so reads
    wait for it: transactions never await Telegram, so they are short.

    Their statements run in the event loop's thread (see `_Connection`): a session holds
    the loop for as long as SQLite takes, which is what makes sessions cheap. The price is
    paid by a long query (a digest's reads, a round's load: up to about a second over a
    million rows), which holds the loop as long, and by a write that finds another
    process writing (an operator's command), which waits for it up to `busy_timeout`.
    """

    def __init__(self, conn: _Connection, path: str) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: str | Path, migrations_dir: Path | None = None) -> Database:
        """Opens (creating if needed) the database at `path` and applies pending migrations."""
        path = str(path)
        conn: _Connection | None = None
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            connecting = _connect(path)
            await connecting  # starts its thread and opens the file there
            conn = connecting
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
            self._conn.inline = True
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
            except BaseException:
                await self._conn.rollback()  # a no-op when BEGIN itself failed
                raise
            else:
                await self._conn.commit()
            finally:
                self._conn.inline = False

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """A consistent read: the connection, once no transaction is open."""
        async with self._lock:
            self._conn.inline = True
            try:
                yield self._conn
            finally:
                self._conn.inline = False

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Runs one read-only query and returns all its rows."""
        async with self.read() as conn, conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Writes many rows in one transaction and one statement."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def backup(self, target: str | Path) -> None:
        """Writes a consistent copy of the database to `target` (SQLite's online backup)."""
        # On the connection's thread, not inline: the target's connection lives on its own.
        async with self._lock, aiosqlite.connect(str(target)) as dest:
            await self._conn.backup(dest)
