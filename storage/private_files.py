"""Files only their owner can read (0600): the database and the files beside it, and results.

What people told Heard about their mental health is in the database, its WAL, and every
export, report and chart made from it. None of them is for other accounts on the machine,
whatever the umask: each is created 0600, and a database made 0644 by an older version of
Heard is tightened when it is next opened. SQLite gives the WAL and shared-memory files it
creates the database file's own permissions.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE = 0o600
# What SQLite keeps beside a database: the WAL, its shared memory, a rollback journal.
COMPANIONS = ("-wal", "-shm", "-journal")


class OverDatabase(ValueError):
    """A file Heard was asked to write is the database, or one SQLite keeps beside it."""


def database_files(database: Path) -> set[Path]:
    """Return the database and the files SQLite keeps beside it (WAL, shared memory, journal)."""
    base = database.resolve()
    return {base, *(base.with_name(base.name + suffix) for suffix in COMPANIONS)}


def refuse_database_files(database: Path, targets: list[Path], what: str) -> None:
    """Raise OverDatabase if any target is the database or a file beside it; `what` names it."""
    files = database_files(database)
    for target in targets:
        if target.resolve() in files:
            raise OverDatabase(f"refusing to write the {what} over the database ({target})")


def create_private(path: Path) -> Path:
    """Create (or empty) a regular file only its owner can read, and return its path.

    Opened again to be written ("w", "wb", a zip file), it keeps these permissions. Anything
    but a regular file (a terminal, /dev/null) is left as it is.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE)
    try:
        tighten(descriptor)
    finally:
        os.close(descriptor)
    return path


def private_database(database: Path) -> None:
    """Create the database file 0600 if it is missing; tighten it and its companions to 0600."""
    os.close(os.open(database, os.O_RDWR | os.O_CREAT, PRIVATE))
    for path in (database, *(database.with_name(database.name + s) for s in COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):
            descriptor = os.open(path, os.O_RDONLY)
            try:
                tighten(descriptor)
            finally:
                os.close(descriptor)


def tighten(descriptor: int) -> None:
    """Make an open regular file readable and writable by its owner only (others: as they are)."""
    found = os.fstat(descriptor)
    if stat.S_ISREG(found.st_mode) and stat.S_IMODE(found.st_mode) != PRIVATE:
        os.fchmod(descriptor, PRIVATE)
