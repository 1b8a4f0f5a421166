"""The database handle: the process's connections to its SQLite file, and the single write path."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from contextlib import closing
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from storage import effects
from storage.migrate import apply_migrations

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")
log = logging.getLogger(__name__)

# Commits between checkpoints of the write-ahead log (SQLite's own default is every 1,000
# pages; an answer writes a few), and the rows written that call for one at once.
CHECKPOINT_EVERY = 200
CHECKPOINT_ROWS = 1000


def fetch_one(conn: sqlite3.Connection, sql: str, params: Params = ()) -> sqlite3.Row | None:
    """The first row of a query."""
    row: sqlite3.Row | None = conn.execute(sql, params).fetchone()
    return row


def fetch_all(conn: sqlite3.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    """Every row of a query."""
    return conn.execute(sql, params).fetchall()


class Repeated(Enum):
    """What `Database.write_once` returns when an earlier handling of the same update
    already committed its effect."""

    REPEATED = "repeated"


REPEATED = Repeated.REPEATED


class StorageError(Exception):
    """The database could not be opened or used."""


class Database:
    """Every statement is a plain function of a `sqlite3.Connection`, run by one of four
    methods: `write` (and `write_once`), `read` and `scan`.

    Writes take one connection under a lock, one transaction at a time (datasette's
    `execute_write_fn` is the model): a short one at once on the event loop's thread, a
    long one (`long=True`) on a worker thread. Reads go to a second, read-only connection
    and take no lock: in WAL mode it sees only what was committed when each of its
    statements began, never a transaction in progress, so a read need not wait for the
    writer (measured: with one connection and one lock, the answers' reads and writes held
    that lock almost all the time, and throughput was the lock's). A read of several
    statements may see a commit land between two of them; a scan is one read transaction.
    An in-memory database has no second connection: its reads share the writer's
    connection and lock.
    """

    def __init__(self, conn: aiosqlite.Connection, raw: sqlite3.Connection, path: str) -> None:
        # aiosqlite's connection opened the file and ran the migrations; every statement
        # since goes through `raw`, the same SQLite connection, under the lock.
        self._conn = conn
        self._raw = raw
        self._reader: sqlite3.Connection | None = None
        # Long reads (`scan`) and checkpoints: connections of their own, used on a worker
        # thread, one at a time each.
        self._scanner: sqlite3.Connection | None = None
        self._scanning = asyncio.Lock()
        self._checkpointer: sqlite3.Connection | None = None
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
                # behind our back. Not tied to aiosqlite's thread: writes run on the loop's
                # thread or a worker's.
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
                db._reader = _read_only(path)
                db._scanner = _read_only(path, any_thread=True)
                db._checkpointer = _read_only(path, any_thread=True)
                # Checkpoints run on a worker thread (`_after_commit`), not inside a
                # commit: a commit that crossed SQLite's 1,000 pages would otherwise copy
                # them back on the event loop or hold the writer meanwhile.
                await conn.execute("PRAGMA wal_autocheckpoint=0")
        except Exception:
            db._close_side()
            await conn.close()  # or its thread keeps the process alive
            raise
        return db

    async def close(self) -> None:
        """Closes the connections after any transaction in progress."""
        async with self._lock:
            checkpointer, self._checkpointer = self._checkpointer, None  # none starts now
            await self.checkpointed()
            self._checkpointer = checkpointer
            async with self._scanning:
                self._close_side()
            await self._conn.close()

    def _close_side(self) -> None:
        for side in (self._reader, self._scanner, self._checkpointer):
            if side is not None:
                side.close()
        self._reader = self._scanner = self._checkpointer = None

    async def write(self, work: Callable[[sqlite3.Connection], T], *, long: bool = False) -> T:
        """Runs `work` as one transaction (BEGIN IMMEDIATE, commit, or roll back on error)
        under the writer's lock, and returns its result. The one write path.

        A short write runs at once on the event loop's thread: through aiosqlite every
        statement was a hop to its thread and back, each waiting for a turn of a busy
        event loop while the lock was held (measured: the lock was then held nearly all
        the time, and answers queued for it); here the statements run back to back in
        well under a millisecond. A long one (a round's invitations, an import, a demo's
        history) runs on a worker thread, in one hop, so the loop goes on meanwhile.
        Pulse is the only writer of its file, so BEGIN does not wait for another process.
        """
        return cast(T, await self._write(work, long=long, once=False))  # not once: never REPEATED

    async def write_once(
        self, work: Callable[[sqlite3.Connection], T], *, long: bool = False
    ) -> T | Repeated:
        """`write`, for an effect that must happen at most once per update (a setting
        changed, a message relayed, a round started): claims the update being handled
        (`storage.effects`) in the same transaction, and returns REPEATED without running
        `work` when an earlier handling of that update already committed it."""
        return await self._write(work, long=long, once=True)

    async def _write(
        self, work: Callable[[sqlite3.Connection], T], *, long: bool, once: bool
    ) -> T | Repeated:
        async with self._lock:
            if long:
                # To the end even when the caller is cancelled: the lock must not pass on
                # while the worker still runs the transaction.
                call = partial(self._in_transaction, work, once)
                result = await _to_the_end(asyncio.to_thread(call))
            else:
                result = self._in_transaction(work, once)
        self._after_commit()
        return result

    async def checkpointed(self) -> None:
        """Waits for the checkpoint in progress, if any."""
        if self._checkpoint is not None:
            await asyncio.gather(self._checkpoint, return_exceptions=True)

    def _after_commit(self) -> None:
        """Starts a checkpoint on a worker thread every CHECKPOINT_EVERY commits, or once a
        long write (CHECKPOINT_ROWS rows: a round's invitations) committed; one at a time.
        PASSIVE: it copies what no reader still needs and waits for nobody; what it leaves
        is copied by a later one."""
        self._commits += 1
        long_write = self._raw.total_changes - self._changes >= CHECKPOINT_ROWS
        if self._checkpointer is None or (self._commits < CHECKPOINT_EVERY and not long_write):
            return
        if self._checkpoint is None or self._checkpoint.done():
            self._commits = 0
            self._changes = self._raw.total_changes
            self._checkpoint = asyncio.create_task(self._checkpoint_wal(self._checkpointer))

    @staticmethod
    async def _checkpoint_wal(conn: sqlite3.Connection) -> None:
        try:
            await asyncio.to_thread(conn.execute, "PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.warning("WAL checkpoint failed (tried again later): %s", exc)

    def _in_transaction(self, work: Callable[[sqlite3.Connection], T], once: bool) -> T | Repeated:
        current = effects.handling.get()
        claimed_before = current is not None and current.claimed
        self._raw.execute("BEGIN IMMEDIATE")
        try:
            if once and not effects.claim(self._raw):
                result: T | Repeated = REPEATED
            else:
                result = work(self._raw)
            self._raw.commit()
        except BaseException:
            self._raw.rollback()  # after a failed COMMIT too: no transaction stays open
            if current is not None:
                current.claimed = claimed_before  # a claim rolled back is no claim
            raise
        return result

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `work` on the read-only connection at once on the event loop's thread: what
        is committed, without waiting for the writer. A read by key takes tens of
        microseconds, while a hop to a thread and back waits for a turn of a busy event
        loop (measured under load: 30 to 90 ms, most of an answer's time). For reads of a
        few rows; a long one holds the loop for as long as it takes (`scan`)."""
        if self._reader is None:
            async with self._lock:
                return work(self._raw)
        return work(self._reader)

    async def scan(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Runs `work` as one read transaction, so every statement sees the same state, on a
        connection of its own and on a worker thread, so the event loop is not held for its
        length: for long reads (a digest's figures, a /tell's audience, an export page).
        One scan at a time."""
        if self._scanner is None:
            return await self.read(work)
        async with self._scanning:
            return await _to_the_end(asyncio.to_thread(self._in_scan, self._scanner, work))

    @staticmethod
    def _in_scan(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
        conn.execute("BEGIN")
        try:
            return work(conn)
        finally:
            conn.rollback()

    async def backup(self, target: str | Path) -> None:
        """Writes a consistent copy of the database to `target` (SQLite's online backup)."""

        def copy(source: sqlite3.Connection) -> None:
            with closing(sqlite3.connect(str(target))) as dest:
                source.backup(dest)

        if self._scanner is None:
            async with self._lock:
                copy(self._raw)
            return
        async with self._scanning:
            await _to_the_end(asyncio.to_thread(copy, self._scanner))


async def _to_the_end(step: Awaitable[T]) -> T:
    """Awaits a step to its end even when the task is cancelled meanwhile (and then raises
    the cancellation): the writer's lock must not pass on while a transaction still runs on
    a worker thread, or the next write would begin beside it."""
    task = asyncio.ensure_future(step)
    cancelled: asyncio.CancelledError | None = None
    while not task.done():
        try:
            await asyncio.wait([task])
        except asyncio.CancelledError as exc:
            cancelled = exc
    if cancelled is not None:
        raise cancelled
    return task.result()


def _read_only(path: str, *, any_thread: bool = False) -> sqlite3.Connection:
    """A connection that refuses to write, so a write put in a read by mistake fails at
    once instead of slipping past the writer's lock."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=not any_thread)
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    conn.row_factory = sqlite3.Row
    return conn
