"""The maintenance commands change nothing by surprise: `check` reads and asks getMe,
`migrate` migrates after a backup, `backup` copies without migrating, `restore` refuses
while the bot runs, and a database newer than the code is refused, untouched. Each runs
as `pulsebot` does, a process of its own, against the sandbox Bot API where it needs one."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sandbox import Sandbox
from storage.db import Database
from storage.migrate import MIGRATIONS_DIR, load_migrations
from tests.process import bot_process
from tests.test_cli import TOKEN, pulsebot

LATEST = len(load_migrations(MIGRATIONS_DIR))


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox() as running:
        yield running


async def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`pulsebot` on a thread, so the sandbox it may talk to keeps serving."""
    return await asyncio.to_thread(pulsebot, tmp_path, *args, **env)


def schema_of(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT MAX(number) FROM schema_migrations").fetchone()[0])


def dump(path: Path) -> list[str]:
    """Everything the database holds, as SQL (its file's bytes move with WAL checkpoints)."""
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def backups(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.bak"))


async def at_schema(path: Path, number: int, tmp_path: Path) -> None:
    """A real database migrated only up to migration `number` (as an older Pulse left it)."""
    older = tmp_path / "older-migrations"
    older.mkdir()
    for migration in sorted(MIGRATIONS_DIR.glob("*.sql"))[:number]:
        shutil.copy(migration, older)
    db = await Database.open(path, migrations_dir=older)
    await db.close()


async def test_check_reads_the_database_and_names_the_bot_without_changing_anything(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    env = {
        "PULSE_BOT_TOKEN": sandbox.token,
        "PULSE_ADMIN_IDS": "1,2",
        "PULSE_TELEGRAM_BASE_URL": sandbox.base_url,
    }
    result = await run(tmp_path, "check", **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "configuration ok: 2 admins; time zone Europe/Amsterdam",
        "database pulse.db does not exist yet: pulsebot migrate (or run) creates it",
        "token ok: the bot is @pulse_sandbox_bot (id 123456)",
    ]
    assert not (tmp_path / "pulse.db").exists()  # nothing created

    await at_schema(tmp_path / "pulse.db", LATEST - 1, tmp_path)
    before = (tmp_path / "pulse.db").read_bytes()
    result = await run(tmp_path, "check", **env)
    assert result.returncode == 0, result.stderr
    pending = load_migrations(MIGRATIONS_DIR)[-1]
    assert result.stdout.splitlines()[1] == (
        f"database pulse.db: schema {LATEST - 1}, 1 migration pending"
        f" ({pending.number:04d}_{pending.name}): pulsebot migrate applies them (run does too)"
    )
    assert (tmp_path / "pulse.db").read_bytes() == before  # nothing migrated
    assert sandbox.token not in result.stdout + result.stderr


async def test_check_with_a_token_the_bot_api_refuses_says_so_in_one_line(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    result = await run(
        tmp_path,
        "check",
        PULSE_BOT_TOKEN=TOKEN,  # not the sandbox's
        PULSE_ADMIN_IDS="1",
        PULSE_TELEGRAM_BASE_URL=sandbox.base_url,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "pulsebot: PULSE_BOT_TOKEN was refused by the Bot API: copy the token from @BotFather"
        " again."
    )
    assert TOKEN not in result.stdout + result.stderr


async def test_migrate_backs_up_the_database_as_it_was_then_migrates(tmp_path: Path) -> None:
    database = tmp_path / "pulse.db"
    await at_schema(database, LATEST - 1, tmp_path)
    result = await run(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    saved = tmp_path / f"pulse.db.schema-{LATEST - 1}.bak"
    assert result.stdout.strip() == (
        f"database pulse.db migrated from schema {LATEST - 1} to {LATEST};"
        f" the database as it was is in {saved.name}"
    )
    assert schema_of(database) == LATEST
    assert schema_of(saved) == LATEST - 1
    again = await run(tmp_path, "migrate")
    assert again.stdout.strip() == f"database pulse.db: schema {LATEST}, up to date; nothing to do"
    assert backups(tmp_path) == [saved.name]  # no second backup


async def test_backup_copies_without_migrating_and_never_overwrites(tmp_path: Path) -> None:
    database = tmp_path / "pulse.db"
    await at_schema(database, LATEST - 1, tmp_path)
    result = await run(tmp_path, "backup", "copy.db")
    assert result.returncode == 0, result.stderr
    assert schema_of(tmp_path / "copy.db") == LATEST - 1
    with sqlite3.connect(tmp_path / "copy.db") as conn:
        # One self-contained file: no write-ahead log it would need beside it.
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert schema_of(database) == LATEST - 1  # the database itself is not migrated
    again = await run(tmp_path, "backup", "copy.db")
    assert again.returncode == 1
    assert again.stderr.strip() == "pulsebot: copy.db exists: pick a new file for the backup"


async def test_a_database_newer_than_the_code_is_refused_by_every_command_untouched(
    tmp_path: Path,
) -> None:
    database = tmp_path / "pulse.db"
    assert (await run(tmp_path, "migrate")).returncode == 0
    with sqlite3.connect(database) as conn:
        conn.execute(
            "INSERT INTO schema_migrations (number, name, applied_at) VALUES (?, 'future', 0)",
            (LATEST + 1,),
        )
    before = dump(database)
    refusal = (
        f"pulsebot: the database is at schema {LATEST + 1}, newer than this Pulse knows (up to"
        f" {LATEST}): it was used by a newer version; upgrade Pulse, or restore a backup made"
        " for this one"
    )
    for args in (("migrate",), ("check",), ("run",), ("settings",)):
        result = await run(tmp_path, *args, PULSE_BOT_TOKEN=TOKEN, PULSE_ADMIN_IDS="1")
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.strip() == refusal, args
        assert "Traceback" not in result.stderr
    assert dump(database) == before


async def test_restore_is_refused_while_the_bot_runs_and_replaces_the_database_after(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    assert (await run(tmp_path, "migrate")).returncode == 0
    with sqlite3.connect(tmp_path / "pulse.db") as conn:
        conn.execute("INSERT INTO segments (name, created_at) VALUES ('retail', 0)")
    assert (await run(tmp_path, "backup", "with-retail.db")).returncode == 0
    with sqlite3.connect(tmp_path / "pulse.db") as conn:
        conn.execute("INSERT INTO segments (name, created_at) VALUES ('online', 0)")

    async with bot_process(sandbox, tmp_path, "1"):
        refused = await run(tmp_path, "restore", "with-retail.db")
        assert refused.returncode == 1
        assert refused.stderr.strip() == (
            "pulsebot: another Pulse is running on pulse.db: stop it first"
        )
        second = await run(
            tmp_path,
            "run",
            PULSE_BOT_TOKEN=sandbox.token,
            PULSE_ADMIN_IDS="1",
            PULSE_TELEGRAM_BASE_URL=sandbox.base_url,
        )
        assert second.returncode == 1
        assert second.stderr.strip() == refused.stderr.strip()

    restored = await run(tmp_path, "restore", "with-retail.db")
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(tmp_path / "pulse.db") as conn:
        names = sorted(r[0] for r in conn.execute("SELECT name FROM segments"))
    assert names == ["general", "retail"]
    with sqlite3.connect(tmp_path / "pulse.db.before-restore.bak") as conn:
        kept = sorted(r[0] for r in conn.execute("SELECT name FROM segments"))
    assert kept == ["general", "online", "retail"]
    assert restored.stdout.strip() == (
        f"restored pulse.db from with-retail.db (schema {LATEST}); the database it replaced is"
        " in pulse.db.before-restore.bak"
    )


async def test_restore_replaces_a_database_too_damaged_to_open(tmp_path: Path) -> None:
    assert (await run(tmp_path, "migrate")).returncode == 0
    assert (await run(tmp_path, "backup", "good.db")).returncode == 0
    damaged = b"not a database at all " * 400
    (tmp_path / "pulse.db").write_bytes(damaged)
    result = await run(tmp_path, "restore", "good.db")
    assert result.returncode == 0, result.stderr
    assert schema_of(tmp_path / "pulse.db") == LATEST
    assert (tmp_path / "pulse.db.before-restore.bak").read_bytes() == damaged  # kept as it was
    assert not (tmp_path / "pulse.db.restoring").exists()
