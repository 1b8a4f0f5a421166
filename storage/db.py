"""The database handle: the process's connections to its SQLite file, and the single write path."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from storage.migrate import apply_migrations

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")
log = logging.getLogger(__name__)

# Commits between checkpoints of the write-ahead log (SQLite's own default is every 1,000
# pages; an answer writes a few), and the rows written that call for one at once.
CHECKPOINT_EVERY = 200
CHECKPOINT_ROWS = 1000


async def fetch_one(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> aiosqlite.Row | None:
    """The first row of a query that yields at most a few: on a read (`Database.read`) at
    once on the loop's thread, in a transaction in one hop to aiosqlite's thread.

    A cursor's execute, fetch and close are a hop each, and every hop waits for its turn
    on a busy event loop (and, in a transaction, holds the writer's lock meanwhile).
    Reads all rows: for a query by key or with LIMIT, not a long scan.
    """
    if isinstance(conn, _Reader):
        return next(iter(conn.read_now(sql, params)), None)
    rows = await conn.execute_fetchall(sql, params)
    return next(iter(rows), None)


async def fetch_all(
    conn: aiosqlite.Connection, sql: str, params: Params = ()
) -> list[aiosqlite.Row]:
    """Every row of a query, read as `fetch_one` reads. On a read it runs on the loop's
    thread: a long scan (a digest's figures) holds the loop for as long as it takes."""
    if isinstance(conn, _Reader):
        return conn.read_now(sql, params)
    return list(await conn.execute_fetchall(sql, params))


class StorageError(Exception):
    """The database could not be opened or used."""


class Database:
    """Every statement goes through `transaction()` or `read()`.

    Writes take one connection under a lock, one transaction at a time. Reads go to a
    second, read-only connection and take no lock: in WAL mode it sees only what was
    committed when each of its statements began, never a transaction in progress, so a
    read need not wait for the writer (measured: with one connection and one lock, the
    answers' reads and writes held that lock almost all the time, and throughput was the
    lock's). A read of several statements may see a commit land between two of them.
    An in-memory database has no second connection: its reads share the writer's
    connection and lock.
    """

    def __init__(self, conn: aiosqlite.Connection, raw: sqlite3.Connection, path: str) -> None:
        self._conn = conn
        # The same SQLite connection as `_conn`, for `run`: used only under the lock, so
        # never while aiosqlite's thread runs a statement on it.
        self._raw = raw
        self._reader: _Reader | None = None
        # Long reads (`scan`): a connection of their own, one scan at a time.
        self._scanner: aiosqlite.Connection | None = None
        self._scanning = asyncio.Lock()
        self._lock = asyncio.Lock()
        self._commits = 0  # since the last checkpoint
        self._changes = 0  # rows written, as of the last checkpoint
        self._checkpoint: asyncio.Task[None] | None = None
        self.path = path

    @classmethod
    async def open(cls, path: str | Path, migrations_dir: Path | None = None) -> Database:
        """Opens (creating if needed) the database at `path` and applies pending migrations."""
        path = str(path)
        conn: aiosqlite.Connection | None = None
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            made: list[sqlite3.Connection] = []

            def connect() -> sqlite3.Connection:
                # isolation_level=None: we issue BEGIN ourselves, so sqlite3 never opens one
                # behind our back. Not tied to aiosqlite's thread: `run` uses it from the loop's.
                made.append(sqlite3.connect(path, isolation_level=None, check_same_thread=False))
                return made[0]

            conn = await aiosqlite.Connection(connect, iter_chunk_size=64)
            await conn.execute("PRAGMA journal_mode=WAL")
        except (OSError, sqlite3.Error) as exc:
            if conn is not None:
                # aiosqlite's worker thread would otherwise keep the process alive.
                await conn.close()
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        db = cls(conn, made[0], path)
        try:
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA busy_timeout=5000")
            conn.row_factory = aiosqlite.Row
            async with db._lock:
                await apply_migrations(conn, migrations_dir)
            if path != ":memory:":
                db._reader = await _open_reader(path)
                db._scanner = await aiosqlite.Connection(partial(_read_only, path), 64)
                # Checkpoints run on the reader's thread (`_after_commit`), not inside a
                # commit: a commit that crossed SQLite's 1,000 pages would otherwise copy
                # them back on the event loop (run) or hold the writer meanwhile.
                await conn.execute("PRAGMA wal_autocheckpoint=0")
        except Exception:
            for opened in (db._reader, db._scanner):
                if opened is not None:
                    await opened.close()  # or its thread keeps the process alive
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        """Closes the connections after any transaction in progress."""
        async with self._lock:
            reader, self._reader = self._reader, None  # no checkpoint starts from now on
            await self.checkpointed()
            async with self._scanning:
                if self._scanner is not None:
                    await self._scanner.close()
            if reader is not None:
                await reader.close()
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
                await _to_the_end(self._conn.commit())
            except BaseException:
                # A no-op when BEGIN itself failed, or after a COMMIT that failed.
                await _to_the_end(self._conn.rollback())
                raise
        self._after_commit()

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `work` as one transaction (BEGIN IMMEDIATE, commit, or roll back on error)
        at once on the event loop's thread, under the writer's lock, and returns its result.

        For the short, hot transactions (an answer, the inbox, alerts): through
        `transaction()` every statement is a hop to aiosqlite's thread and back, each
        waiting for a turn of a busy event loop while the lock is held (measured: the lock
        was then held nearly all the time, and answers queued for it); here the statements
        run back to back in well under a millisecond. `work` gets the plain sqlite3
        connection and must be short: the loop waits for it. Pulse is the only writer of
        its file, so BEGIN does not wait for another process.
        """
        async with self._lock:
            result = self._in_transaction(work)
        self._after_commit()
        return result

    async def checkpointed(self) -> None:
        """Waits for the checkpoint in progress, if any."""
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)

    def _after_commit(self) -> None:
        """Starts a checkpoint on the reader's thread every CHECKPOINT_EVERY commits, or
        once a long write (CHECKPOINT_ROWS rows: a round's invitations) committed; one at
        a time. PASSIVE: it copies what no reader still needs and waits for nobody; what
        it leaves is copied by a later one."""
        self._commits += 1
        long_write = self._raw.total_changes - self._changes >= CHECKPOINT_ROWS
        if self._reader is None or (self._commits < CHECKPOINT_EVERY and not long_write):
            return
        if self._checkpoint is None or self._checkpoint.done():
            self._commits = 0
            self._changes = self._raw.total_changes
            self._checkpoint = asyncio.create_task(self._checkpoint_wal(self._reader))

    @staticmethod
    async def _checkpoint_wal(reader: aiosqlite.Connection) -> None:
        try:
            await reader.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)")
        except (sqlite3.Error, ValueError) as exc:  # ValueError: closed meanwhile
            log.warning("WAL checkpoint failed (tried again later): %s", exc)

    def _in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        self._raw.execute("BEGIN IMMEDIATE")
        try:
            result = work(self._raw)
            self._raw.commit()
        except BaseException:
            self._raw.rollback()  # after a failed COMMIT too: no transaction stays open
            raise
        return result

    @asynccontextmanager
    async def read(self) -> AsyncIterator[aiosqlite.Connection]:
        """The read-only connection: what is committed, without waiting for the writer."""
        if self._reader is None:
            async with self._lock:
                yield self._conn
        else:
            yield self._reader

    @asynccontextmanager
    async def scan(self) -> AsyncIterator[aiosqlite.Connection]:
        """A read for long scans (a digest's figures, a /tell's audience, an export page):
        one read transaction, so every statement sees the same state, on a connection of
        its own and on aiosqlite's thread, so the event loop is not held for its length
        (`read`'s fetches run on the loop). One scan at a time."""
        if self._scanner is None:
            async with self.read() as conn:
                yield conn
            return
        async with self._scanning:
            try:
                # Inside the try: a BEGIN still queued when the task is cancelled is rolled
                # back after it, in the thread's order.
                await self._scanner.execute("BEGIN")
                yield self._scanner
            finally:
                await _to_the_end(self._scanner.rollback())

    async def fetch_all(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Runs one read-only query and returns all its rows."""
        async with self.read() as conn:
            return await fetch_all(conn, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Writes many rows in one transaction and one thread hop."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def backup(self, target: str | Path) -> None:
        """Writes a consistent copy of the database to `target` (SQLite's online backup)."""
        async with self.read() as conn, aiosqlite.connect(str(target)) as dest:
            await conn.backup(dest)


async def _to_the_end(step: Awaitable[None]) -> None:
    """Awaits a COMMIT or ROLLBACK to its end even when the task is cancelled meanwhile (and
    then raises the cancellation): the writer's lock must not pass on while the statement
    still waits on aiosqlite's thread, or `run` would begin a transaction beside it."""
    task = asyncio.ensure_future(step)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is not None:
        raise cancelled
    task.result()


class _Reader(aiosqlite.Connection):
    """The read-only connection, with the short reads run at once on the event loop.

    `fetch_one` and `fetch_all` read through `read_now`, on a plain sqlite3 connection of
    its own in the loop's thread: a read by key takes tens of microseconds,
    while a hop to aiosqlite's thread and back waits for a turn of a busy event loop
    (measured under load: a read took 30 to 90 ms that way, most of an answer's time).
    Everything else (cursors, backup) goes through aiosqlite's thread as usual. Both
    refuse to write, so a write put in a read by mistake fails at once instead of
    slipping past the writer's lock.
    """

    def __init__(self, path: str) -> None:
        super().__init__(partial(_read_only, path), iter_chunk_size=64)
        self._direct = _read_only(path)

    def read_now(self, sql: str, params: Params) -> list[sqlite3.Row]:
        """Every row of a read, run at once on the calling (the event loop's) thread."""
        return self._direct.execute(sql, params).fetchall()

    async def close(self) -> None:
        self._direct.close()
        await super().close()


def _read_only(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.row_factory = sqlite3.Row
    return conn


async def _open_reader(path: str) -> _Reader:
    reader = _Reader(path)
    await reader  # starts aiosqlite's thread and opens its connection
    return reader
