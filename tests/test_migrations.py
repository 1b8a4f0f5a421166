"""Migrations: each applied once, in one transaction with its record."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from storage.db import Database, fetch_all
from storage.migrate import MIGRATIONS_DIR, MigrationError, load_migrations, split_statements


def _write(directory: Path, name: str, sql: str) -> None:
    (directory / name).write_text(sql, encoding="utf-8")


async def _tables(db: Database) -> set[str]:
    rows = await db.read(
        lambda conn: fetch_all(conn, "SELECT name FROM sqlite_master WHERE type = 'table'")
    )
    return {row[0] for row in rows}


async def test_fresh_database_gets_every_migration_recorded(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "p.db")
    rows = await db.read(
        lambda conn: fetch_all(conn, "SELECT number FROM schema_migrations ORDER BY number")
    )
    await db.close()
    assert [row[0] for row in rows] == [m.number for m in load_migrations(MIGRATIONS_DIR)]


async def test_failing_migration_rolls_back(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "CREATE TABLE a (x INTEGER);")
    _write(
        tmp_path, "0002_broken.sql", "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);"
    )
    with pytest.raises(MigrationError, match="0002_broken"):
        await Database.open(tmp_path / "p.db", migrations_dir=tmp_path)
    # Read as it is left (code that knows fewer migrations would refuse to open it).
    with sqlite3.connect(tmp_path / "p.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        recorded = conn.execute("SELECT number FROM schema_migrations").fetchall()
    assert "a" in tables
    assert "b" not in tables
    assert [row[0] for row in recorded] == [1]


async def test_rerun_after_failure_applies_each_migration_once(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);")
    _write(tmp_path, "0002_second.sql", "INSERT INTO a VALUES (oops);")
    with pytest.raises(MigrationError):
        await Database.open(tmp_path / "p.db", migrations_dir=tmp_path)
    _write(tmp_path, "0002_second.sql", "INSERT INTO a VALUES (2);")
    db = await Database.open(tmp_path / "p.db", migrations_dir=tmp_path)
    await db.close()
    db = await Database.open(tmp_path / "p.db", migrations_dir=tmp_path)
    rows = await db.read(lambda conn: fetch_all(conn, "SELECT x FROM a ORDER BY x"))
    recorded = await db.read(
        lambda conn: fetch_all(conn, "SELECT number FROM schema_migrations ORDER BY number")
    )
    await db.close()
    assert [row[0] for row in rows] == [1, 2]
    assert [row[0] for row in recorded] == [1, 2]


def test_a_gap_in_migration_numbers_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "0001_first.sql", "SELECT 1;")
    _write(tmp_path, "0003_third.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="0002"):
        load_migrations(tmp_path)


def test_statements_split_at_semicolons_outside_strings() -> None:
    sql = "-- a comment; still a comment\nINSERT INTO t VALUES ('a;b');\nSELECT 2;\n"
    assert split_statements(sql) == [
        "-- a comment; still a comment\nINSERT INTO t VALUES ('a;b');",
        "SELECT 2;",
    ]
