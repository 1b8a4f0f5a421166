"""The database handle and the repositories, on a real migrated SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import pytest

from storage import customers, effects, enrollments, inbox, segments
from storage.customers import CustomerNotFound, CustomerStatus, Profile
from storage.db import REPEATED, Database, StorageError, fetch_all, fetch_one

BRAM = Profile(user_id=11, chat_id=11, first_name="Bram", last_name=None, username="bram")
# Seconds a test waits for a worker thread before it counts as hung.
WAIT = 5.0


class Boom(Exception):
    pass


def insert_segment(name: str, conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO segments (name, created_at) VALUES (?, 0)", (name,))


def add_segment(name: str, conn: sqlite3.Connection) -> str:
    return segments.create(conn, name, now=1).name


async def segment_names(db: Database) -> list[str]:
    rows = await db.read(lambda conn: fetch_all(conn, "SELECT name FROM segments ORDER BY id"))
    return [str(row[0]) for row in rows]


async def test_pragmas_are_set(db: Database) -> None:
    # On the connection that writes; reads have one of their own.
    def pragmas(conn: sqlite3.Connection) -> list[object]:
        return [
            conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "foreign_keys", "synchronous")
        ]

    journal, foreign, sync = await db.write(pragmas)
    assert journal == "wal"
    assert foreign == 1
    assert sync == 1  # NORMAL


async def test_reads_cannot_write(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await db.read(partial(insert_segment, "x"))
    assert "x" not in await segment_names(db)


async def test_a_read_does_not_wait_for_a_write_in_progress(db: Database) -> None:
    # A short write runs to its end on the loop's thread, so nothing else runs meanwhile;
    # a long one runs on a worker thread while the loop goes on. Held in the middle here.
    inserted = threading.Event()
    release = threading.Event()

    def insert_and_wait(conn: sqlite3.Connection) -> None:
        insert_segment("x", conn)
        inserted.set()
        release.wait(WAIT)

    writing = asyncio.create_task(db.write(insert_and_wait, long=True))
    try:
        assert await asyncio.to_thread(inserted.wait, WAIT)
        # Not yet committed: a read goes ahead and sees what was committed before.
        assert "x" not in await asyncio.wait_for(segment_names(db), WAIT)
        assert not writing.done()
    finally:
        release.set()
    await writing
    assert (await segment_names(db)).count("x") == 1


async def test_the_write_ahead_log_is_copied_back_after_a_long_write(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "pulse.db")

    def insert_many(conn: sqlite3.Connection) -> None:
        conn.executemany(
            "INSERT INTO segments (name, created_at) VALUES (?, 0)",
            [(f"segment {i} " + "x" * 200,) for i in range(5000)],
        )

    def touch(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE segments SET created_at = 1 WHERE id = 1")

    try:
        await db.write(insert_many, long=True)
        await db.checkpointed()
        await db.write(touch)
        with sqlite3.connect(tmp_path / "pulse.db") as plain:
            _, frames, _ = plain.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        # Checkpointed in the background, so the next write started the log over; without
        # it the log would still hold the hundreds of pages of the long write.
        assert frames < 20
    finally:
        await db.close()


async def test_a_scan_sees_one_state_and_cannot_write(db: Database) -> None:
    # The scan runs on a worker thread; it waits in the middle while the loop commits a write.
    counted = threading.Event()
    written = threading.Event()

    def count(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0])

    def scan(conn: sqlite3.Connection) -> tuple[int, int, str]:
        before = count(conn)
        counted.set()
        written.wait(WAIT)
        after = count(conn)
        try:
            insert_segment("t", conn)
        except sqlite3.OperationalError as exc:
            refused = str(exc)
        else:
            refused = ""
        return before, after, refused

    scanning = asyncio.create_task(db.scan(scan))
    try:
        assert await asyncio.to_thread(counted.wait, WAIT)
        await db.write(partial(insert_segment, "s"))
    finally:
        written.set()
    before, after, refused = await scanning
    # Committed meanwhile, but the scan's read transaction still sees its own state.
    assert after == before
    assert "readonly" in refused
    names = await segment_names(db)
    assert names.count("s") == 1
    assert "t" not in names


def insert_pair(name: str, conn: sqlite3.Connection) -> None:
    insert_segment(f"{name} a", conn)
    insert_segment(f"{name} b", conn)


async def test_a_cancelled_long_write_leaves_nothing_open_for_the_next_write(
    db: Database,
) -> None:
    for n in range(40):
        task = asyncio.create_task(db.write(partial(insert_pair, f"cancelled {n}"), long=True))
        for _ in range(n % 8):  # cancelled waiting for the lock, on the worker, or after
            await asyncio.sleep(0)
        # Twice, as a stop that gives up on a task does: the second lands while it finishes.
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # A transaction still open on the worker would make this BEGIN fail.
        await db.write(partial(insert_segment, f"after {n}"))
    names = await segment_names(db)
    for n in range(40):
        assert names.count(f"after {n}") == 1
        # Committed to its end or not begun: never half of it.
        assert (f"cancelled {n} a" in names) == (f"cancelled {n} b" in names)


@pytest.mark.parametrize("fails", [False, True], ids=["commits", "rolls-back"])
async def test_a_cancelled_long_write_runs_to_its_end_before_the_lock_passes_on(
    db: Database, fails: bool
) -> None:
    started = threading.Event()
    release = threading.Event()

    def insert_slowly(conn: sqlite3.Connection) -> None:
        insert_segment("slow a", conn)
        started.set()
        release.wait(WAIT)
        insert_segment("slow b", conn)
        if fails:
            raise Boom

    task = asyncio.create_task(db.write(insert_slowly, long=True))
    try:
        assert await asyncio.to_thread(started.wait, WAIT)
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()
        following = asyncio.create_task(db.write(partial(insert_segment, "following")))
        given_up = asyncio.create_task(db.write(partial(insert_segment, "given up")))
        for _ in range(8):
            await asyncio.sleep(0)
        # Cancelled, but the worker still runs its transaction: the lock is still held.
        assert not task.done()
        assert not following.done()
        # A write cancelled while it waits for the lock never runs.
        given_up.cancel()
        assert "slow a" not in await segment_names(db)
    finally:
        release.set()
    (outcome,) = await asyncio.gather(task, return_exceptions=True)
    assert isinstance(outcome, asyncio.CancelledError)  # the caller still sees it cancelled
    await following
    (dropped,) = await asyncio.gather(given_up, return_exceptions=True)
    assert isinstance(dropped, asyncio.CancelledError)
    names = await segment_names(db)
    assert "following" in names
    assert "given up" not in names
    if fails:
        assert "slow a" not in names
        assert "slow b" not in names
    else:
        assert names.index("slow a") < names.index("slow b") < names.index("following")


@pytest.mark.parametrize("long", [False, True], ids=["short", "long"])
async def test_a_write_commits_or_rolls_back_in_one_go(db: Database, long: bool) -> None:
    def add(raw: sqlite3.Connection) -> int:
        raw.execute("INSERT INTO segments (name, created_at) VALUES ('y', 0)")
        return 7

    def add_then_fail(raw: sqlite3.Connection) -> None:
        raw.execute("INSERT INTO segments (name, created_at) VALUES ('z', 0)")
        raise Boom

    assert await db.write(add, long=long) == 7
    with pytest.raises(Boom):
        await db.write(add_then_fail, long=long)
    names = await segment_names(db)
    assert "y" in names
    assert "z" not in names
    # The connection is usable afterwards: no transaction was left open.
    await db.write(partial(insert_segment, "z"), long=long)
    assert "z" in await segment_names(db)


async def test_a_write_rolls_back_on_any_exception(db: Database) -> None:
    def create_then_fail(conn: sqlite3.Connection) -> None:
        segments.create(conn, "retail", now=1)
        raise Boom

    with pytest.raises(Boom):
        await db.write(create_then_fail)
    assert await db.read(lambda conn: segments.find_by_name(conn, "retail")) is None


@pytest.mark.parametrize("long", [False, True], ids=["short", "long"])
async def test_a_writer_cancelled_at_any_moment_leaves_no_transaction_open(
    db: Database, long: bool
) -> None:
    # Cancel a writer after each number of loop turns: while it waits for its turn, while
    # a long one runs on its worker, after it committed. The next writer must always get in.
    for turns in range(8):
        task = asyncio.create_task(db.write(partial(add_segment, f"c{turns}"), long=long))
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await db.write(partial(add_segment, f"after{turns}"), long=long)

    def found(conn: sqlite3.Connection) -> list[bool]:
        return [segments.find_by_name(conn, f"after{turns}") is not None for turns in range(8)]

    assert await db.read(found) == [True] * 8


async def test_a_write_commits_and_survives_reopening(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "p.db")
    await db.write(partial(add_segment, "retail"))
    await db.close()
    db = await Database.open(tmp_path / "p.db")
    found = await db.read(lambda conn: segments.find_by_name(conn, "RETAIL"))
    await db.close()
    assert found is not None
    assert found.name == "retail"


async def test_concurrent_writes_do_not_interleave(db: Database) -> None:
    # Short writes on the loop's thread and long ones on workers, all at once: one at a time.
    inside = 0
    most = 0
    counting = threading.Lock()

    def add(name: str, conn: sqlite3.Connection) -> None:
        nonlocal inside, most
        with counting:
            inside += 1
            most = max(most, inside)
        try:
            segment = segments.create(conn, name, now=1)
            time.sleep(0.002)  # give another write the time to try to get in
            segments.create_code(conn, segment.id, created_by=1, now=1)
        finally:
            with counting:
                inside -= 1

    await asyncio.gather(*(db.write(partial(add, f"s{i}"), long=i % 2 == 0) for i in range(10)))
    assert most == 1
    rows = await db.read(lambda conn: fetch_all(conn, "SELECT COUNT(*) FROM invite_codes"))
    assert rows[0][0] == 10


# --- at most once: write_once ------------------------------------------------------------


@contextmanager
def handling(update_id: int) -> Iterator[effects.Handling]:
    """Handles `update_id` as the update pipeline does, around what the block runs."""
    current = effects.Handling(update_id)
    token = effects.handling.set(current)
    try:
        yield current
    finally:
        effects.handling.reset(token)


async def received(db: Database, update_id: int) -> None:
    """Records an update in the inbox, as the pipeline does before handling it."""
    row = inbox.Received(update_id, None, "{}")
    await db.write(partial(inbox.record, updates=[row], now=1))


async def effect_at(db: Database, update_id: int) -> int | None:
    row = await db.read(
        lambda conn: fetch_one(
            conn, "SELECT effect_at FROM inbox WHERE update_id = ?", (update_id,)
        )
    )
    assert row is not None
    return None if row[0] is None else int(row[0])


@pytest.mark.parametrize("long", [False, True], ids=["short", "long"])
async def test_write_once_returns_repeated_for_an_update_whose_effect_was_committed(
    db: Database, long: bool
) -> None:
    await received(db, 5)
    with handling(5) as first:
        assert await db.write_once(partial(add_segment, "first"), long=long) == "first"
        assert first.claimed
        # Later writes of the same handling pass: the effect is this handling's own.
        assert await db.write_once(partial(add_segment, "second"), long=long) == "second"
    assert await effect_at(db, 5) == first.started_at
    # Handled again after a crash: the effect stays claimed, and the work does not run.
    with handling(5) as again:
        assert await db.write_once(partial(add_segment, "again"), long=long) is REPEATED
        assert not again.claimed
        # A plain write claims nothing, so it still runs.
        assert await db.write(partial(add_segment, "plain"), long=long) == "plain"
    names = await segment_names(db)
    assert {"first", "second", "plain"} <= set(names)
    assert "again" not in names
    assert await effect_at(db, 5) == first.started_at


@pytest.mark.parametrize("long", [False, True], ids=["short", "long"])
async def test_a_claim_rolled_back_by_an_exception_is_no_claim(db: Database, long: bool) -> None:
    await received(db, 6)

    def add_then_fail(name: str, conn: sqlite3.Connection) -> None:
        segments.create(conn, name, now=1)
        raise Boom

    with handling(6) as current:
        with pytest.raises(Boom):
            await db.write_once(partial(add_then_fail, "failed"), long=long)
        assert not current.claimed
        assert await effect_at(db, 6) is None
        # The same handling goes on (it answers the error, say): its next write claims.
        assert await db.write_once(partial(add_segment, "retried"), long=long) == "retried"
        assert current.claimed
        # Once claimed, a later write of the handling that fails leaves the claim standing.
        with pytest.raises(Boom):
            await db.write_once(partial(add_then_fail, "failed later"), long=long)
        assert current.claimed
    names = await segment_names(db)
    assert "retried" in names
    assert "failed" not in names
    assert "failed later" not in names
    assert await effect_at(db, 6) == current.started_at
    with handling(6):
        assert await db.write_once(partial(add_segment, "replayed"), long=long) is REPEATED


async def test_write_once_outside_a_recorded_update_just_writes(db: Database) -> None:
    # No update being handled, or one not in the inbox: no earlier handling to clash with.
    assert await db.write_once(partial(add_segment, "no update")) == "no update"
    with handling(99):
        assert await db.write_once(partial(add_segment, "not recorded")) == "not recorded"
        assert await db.write_once(partial(add_segment, "again")) == "again"
    assert {"no update", "not recorded", "again"} <= set(await segment_names(db))


# --- the repositories ---------------------------------------------------------------------


async def test_get_raises_and_find_returns_none_for_an_unknown_customer(db: Database) -> None:
    assert await db.read(lambda conn: customers.find(conn, 1)) is None
    with pytest.raises(CustomerNotFound):
        await db.read(lambda conn: customers.get(conn, 1))


async def test_re_enrolling_a_stopped_customer_keeps_when_they_were_last_asked(
    db: Database,
) -> None:
    def stop_and_enroll_again(conn: sqlite3.Connection) -> customers.Customer:
        customers.enroll(conn, BRAM, language="nl", segment_id=1, now=100)
        conn.execute("UPDATE customers SET last_asked_at = 150 WHERE user_id = 11")
        customers.set_status(conn, 11, CustomerStatus.STOPPED, now=200)
        return customers.enroll(conn, BRAM, language="en", segment_id=1, now=300)

    again = await db.write(stop_and_enroll_again)
    assert again.status is CustomerStatus.ACTIVE
    assert again.last_asked_at == 150
    assert again.stopped_at is None
    assert again.consented_at == 300
    assert again.enrolled_at == 100
    assert again.language == "en"


async def test_a_customer_cannot_be_in_a_segment_that_does_not_exist(db: Database) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"):
        await db.write(
            lambda conn: customers.enroll(conn, BRAM, language="nl", segment_id=42, now=1)
        )


async def test_opening_a_new_consent_question_replaces_the_old_one(db: Database) -> None:
    def open_twice(
        conn: sqlite3.Connection,
    ) -> tuple[
        enrollments.PendingEnrollment,
        enrollments.PendingEnrollment,
        enrollments.PendingEnrollment | None,
    ]:
        first = enrollments.open_pending(
            conn, user_id=11, chat_id=11, segment_id=1, language="nl", now=1
        )
        second = enrollments.open_pending(
            conn, user_id=11, chat_id=11, segment_id=1, language="en", now=2
        )
        return first, second, enrollments.find_for_user(conn, 11)

    first, second, current = await db.write(open_twice)
    assert current == second
    assert first.id != second.id


async def test_invite_codes_resolve_to_their_segment_until_revoked(db: Database) -> None:
    def create_and_revoke(
        conn: sqlite3.Connection,
    ) -> tuple[segments.Segment, list[segments.Segment | None]]:
        segment = segments.create(conn, "retail", now=1)
        code = segments.create_code(conn, segment.id, created_by=500, now=1)
        resolved = [segments.find_by_code(conn, code.code)]
        conn.execute("UPDATE invite_codes SET revoked_at = 2 WHERE code = ?", (code.code,))
        resolved.append(segments.find_by_code(conn, code.code))
        resolved.append(segments.find_by_code(conn, "nonsense"))
        return segment, resolved

    segment, resolved = await db.write(create_and_revoke)
    assert resolved == [segment, None, None]


async def test_backup_writes_a_database_with_the_same_rows(db: Database, tmp_path: Path) -> None:
    await db.write(partial(add_segment, "retail"))
    await db.backup(tmp_path / "copy.db")
    copy = await Database.open(tmp_path / "copy.db")
    names = await copy.read(
        lambda conn: fetch_all(conn, "SELECT name FROM segments ORDER BY name")
    )
    await copy.close()
    assert [row[0] for row in names] == ["general", "retail"]


async def test_a_file_that_is_not_a_database_gives_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot open database"):
        await Database.open(tmp_path / "junk.db")
