"""The database handle and the repositories, on a real migrated SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from storage import customers, enrollments, segments
from storage.customers import CustomerNotFound, CustomerStatus, Profile
from storage.db import Database, StorageError

BRAM = Profile(user_id=11, chat_id=11, first_name="Bram", last_name=None, username="bram")


class Boom(Exception):
    pass


async def test_pragmas_are_set(db: Database) -> None:
    # On the connection that writes; reads have one of their own.
    async with db.transaction() as conn:
        journal = await conn.execute_fetchall("PRAGMA journal_mode")
        foreign = await conn.execute_fetchall("PRAGMA foreign_keys")
        sync = await conn.execute_fetchall("PRAGMA synchronous")
    assert next(iter(journal))[0] == "wal"
    assert next(iter(foreign))[0] == 1
    assert next(iter(sync))[0] == 1  # NORMAL


async def test_reads_cannot_write(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        async with db.read() as conn:
            await conn.execute("INSERT INTO segments (name, created_at) VALUES ('x', 0)")
    assert await db.fetch_all("SELECT * FROM segments WHERE name = 'x'") == []


async def test_a_read_does_not_wait_for_a_transaction(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO segments (name, created_at) VALUES ('x', 0)")
        # Not yet committed: a read goes ahead and sees what was committed before.
        assert await db.fetch_all("SELECT * FROM segments WHERE name = 'x'") == []
    assert len(await db.fetch_all("SELECT * FROM segments WHERE name = 'x'")) == 1


async def test_the_write_ahead_log_is_copied_back_after_a_long_write(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "pulse.db")
    try:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO segments (name, created_at) VALUES (?, 0)",
                [(f"segment {i} " + "x" * 200,) for i in range(5000)],
            )
        await db.checkpointed()
        await db.run(lambda raw: raw.execute("UPDATE segments SET created_at = 1 WHERE id = 1"))
        with sqlite3.connect(tmp_path / "pulse.db") as plain:
            _, frames, _ = plain.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        # Checkpointed in the background, so the next write started the log over; without
        # it the log would still hold the hundreds of pages of the long write.
        assert frames < 20
    finally:
        await db.close()


async def test_a_scan_sees_one_state_and_cannot_write(db: Database) -> None:
    async with db.scan() as conn:
        before = await conn.execute_fetchall("SELECT COUNT(*) FROM segments")
        async with db.transaction() as writer:
            await writer.execute("INSERT INTO segments (name, created_at) VALUES ('s', 0)")
        # Committed meanwhile, but the scan's read transaction still sees its own state.
        assert list(await conn.execute_fetchall("SELECT COUNT(*) FROM segments")) == list(before)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await conn.execute("INSERT INTO segments (name, created_at) VALUES ('t', 0)")
    assert len(await db.fetch_all("SELECT * FROM segments WHERE name = 's'")) == 1


async def test_a_cancelled_transaction_leaves_nothing_open_for_run(db: Database) -> None:
    for n in range(40):
        task = asyncio.create_task(_slow_write(db, f"cancelled {n}"))
        for _ in range(n % 8):  # cancelled at BEGIN, the INSERT, COMMIT or after
            await asyncio.sleep(0)
        # Twice, as a stop that gives up on a task does: the second lands in the rollback.
        task.cancel()
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # A COMMIT or ROLLBACK still queued on aiosqlite's thread would make this BEGIN fail.
        await db.run(lambda raw: raw.execute("UPDATE segments SET created_at = 2 WHERE id = 1"))


async def _slow_write(db: Database, name: str) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO segments (name, created_at) VALUES (?, 0)", (name,))


async def test_run_commits_or_rolls_back_in_one_go(db: Database) -> None:
    def add(raw: sqlite3.Connection) -> int:
        raw.execute("INSERT INTO segments (name, created_at) VALUES ('y', 0)")
        return 7

    def add_then_fail(raw: sqlite3.Connection) -> None:
        raw.execute("INSERT INTO segments (name, created_at) VALUES ('z', 0)")
        raise Boom

    assert await db.run(add) == 7
    with pytest.raises(Boom):
        await db.run(add_then_fail)
    names = [row[0] for row in await db.fetch_all("SELECT name FROM segments")]
    assert "y" in names
    assert "z" not in names
    # The connection is usable afterwards: no transaction was left open.
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO segments (name, created_at) VALUES ('z', 0)")


async def test_transaction_rolls_back_on_any_exception(db: Database) -> None:
    with pytest.raises(Boom):
        async with db.transaction() as conn:
            await segments.create(conn, "retail", now=1)
            raise Boom
    async with db.read() as conn:
        assert await segments.find_by_name(conn, "retail") is None


async def test_a_writer_cancelled_at_any_moment_leaves_no_transaction_open(
    db: Database,
) -> None:
    # Cancel a writer after each number of loop turns: while BEGIN is queued on the
    # connection's thread, mid-statement, at commit. The next writer must always get in.
    for turns in range(8):

        async def write(name: str) -> None:
            async with db.transaction() as conn:
                await segments.create(conn, name, now=1)

        task = asyncio.create_task(write(f"c{turns}"))
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with db.transaction() as conn:
            await segments.create(conn, f"after{turns}", now=1)
    async with db.read() as conn:
        for turns in range(8):
            assert await segments.find_by_name(conn, f"after{turns}") is not None


async def test_transaction_commits_and_survives_reopening(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "p.db")
    async with db.transaction() as conn:
        await segments.create(conn, "retail", now=1)
    await db.close()
    db = await Database.open(tmp_path / "p.db")
    async with db.read() as conn:
        found = await segments.find_by_name(conn, "RETAIL")
    await db.close()
    assert found is not None
    assert found.name == "retail"


async def test_concurrent_transactions_do_not_interleave(db: Database) -> None:
    async def add(name: str) -> None:
        async with db.transaction() as conn:
            segment = await segments.create(conn, name, now=1)
            await asyncio.sleep(0)  # let the other coroutine try to get in
            await segments.create_code(conn, segment.id, created_by=1, now=1)

    await asyncio.gather(*(add(f"s{i}") for i in range(10)))
    rows = await db.fetch_all("SELECT COUNT(*) FROM invite_codes")
    assert rows[0][0] == 10


async def test_get_raises_and_find_returns_none_for_an_unknown_customer(db: Database) -> None:
    async with db.read() as conn:
        assert await customers.find(conn, 1) is None
        with pytest.raises(CustomerNotFound):
            await customers.get(conn, 1)


async def test_re_enrolling_a_stopped_customer_keeps_when_they_were_last_asked(
    db: Database,
) -> None:
    async with db.transaction() as conn:
        await customers.enroll(conn, BRAM, language="nl", segment_id=1, now=100)
        await conn.execute("UPDATE customers SET last_asked_at = 150 WHERE user_id = 11")
        await customers.set_status(conn, 11, CustomerStatus.STOPPED, now=200)
        again = await customers.enroll(conn, BRAM, language="en", segment_id=1, now=300)
    assert again.status is CustomerStatus.ACTIVE
    assert again.last_asked_at == 150
    assert again.stopped_at is None
    assert again.consented_at == 300
    assert again.enrolled_at == 100
    assert again.language == "en"


async def test_a_customer_cannot_be_in_a_segment_that_does_not_exist(db: Database) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"):
        async with db.transaction() as conn:
            await customers.enroll(conn, BRAM, language="nl", segment_id=42, now=1)


async def test_opening_a_new_consent_question_replaces_the_old_one(db: Database) -> None:
    async with db.transaction() as conn:
        first = await enrollments.open_pending(
            conn, user_id=11, chat_id=11, segment_id=1, language="nl", now=1
        )
        second = await enrollments.open_pending(
            conn, user_id=11, chat_id=11, segment_id=1, language="en", now=2
        )
        current = await enrollments.find_for_user(conn, 11)
    assert current == second
    assert first.id != second.id


async def test_invite_codes_resolve_to_their_segment_until_revoked(db: Database) -> None:
    async with db.transaction() as conn:
        segment = await segments.create(conn, "retail", now=1)
        code = await segments.create_code(conn, segment.id, created_by=500, now=1)
        assert await segments.find_by_code(conn, code.code) == segment
        await conn.execute("UPDATE invite_codes SET revoked_at = 2 WHERE code = ?", (code.code,))
        assert await segments.find_by_code(conn, code.code) is None
        assert await segments.find_by_code(conn, "nonsense") is None


async def test_backup_writes_a_database_with_the_same_rows(db: Database, tmp_path: Path) -> None:
    async with db.transaction() as conn:
        await segments.create(conn, "retail", now=1)
    await db.backup(tmp_path / "copy.db")
    copy = await Database.open(tmp_path / "copy.db")
    names = await copy.fetch_all("SELECT name FROM segments ORDER BY name")
    await copy.close()
    assert [row[0] for row in names] == ["general", "retail"]


async def test_a_file_that_is_not_a_database_gives_a_storage_error(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot open database"):
        await Database.open(tmp_path / "junk.db")
