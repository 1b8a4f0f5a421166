"""Pulse's database: one SQLite connection, one write path, numbered migrations, repositories."""

from storage.db import Database, StorageError

__all__ = ["Database", "StorageError"]
