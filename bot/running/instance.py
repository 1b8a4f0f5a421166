"""One running Pulse per database: `pulsebot run` holds an exclusive lock on a file beside
the database for as long as it runs, so `pulsebot restore` can refuse to replace the
database under a running bot (and a second `run` on the same file is refused).

The lock is the kernel's (flock): it goes with the process, however it ends, so a crash
leaves no stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.db import StorageError


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


@contextmanager
def running(database: Path) -> Iterator[None]:
    """Holds the database's lock while the body runs; refuses if another process holds it."""
    try:
        handle = lock_path(database).open("a+")
    except OSError as exc:
        raise StorageError(f"cannot open database {database}: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StorageError(f"another Pulse is running on {database}: stop it first") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
