"""`heard backup PATH`: a consistent copy of the database, taken while the bot runs.

Copying `heard.db` by hand while the bot runs can give a file with none of the latest answers:
they are still in `heard.db-wal`. SQLite's online backup API copies the database as one
connection sees it, committed writes in the WAL included, and starts again by itself if the
bot writes meanwhile. The copy is written beside its target, checked (`PRAGMA
integrity_check` and every table's row count), readable by its owner only (0600), and only
then moved into place, so a failed backup never leaves a half file under the target's name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.private_files import database_files

PAGES_PER_STEP = 1024  # the bot's writes wait at most one step's copying


class BackupError(Exception):
    """A backup that could not be taken, with why, in one line."""


@dataclass(frozen=True)
class Backup:
    """A verified backup: where it is and how many rows each table holds."""

    path: Path
    tables: dict[str, int]
    size: int


def take_backup(database: Path, target: Path, *, replace: bool = False) -> Backup:
    """Copy the database to `target` consistently, verify the copy, and return what it holds."""
    if not database.is_file():
        raise BackupError(f"HEARD_DATABASE: there is no database at {database}")
    if target.resolve() in database_files(database):
        raise BackupError(f"refusing to write the backup over the database itself ({target})")
    if target.exists() and not replace:
        raise BackupError(f"{target} already exists: choose a new name, or pass --replace")
    if not target.parent.is_dir():
        raise BackupError(f"cannot write {target}: the folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    try:
        copy_database(database, partial)
        tables = verify_copy(partial)
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise BackupError(f"the backup failed: {error}") from None
    except OSError as error:
        raise BackupError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return Backup(target, tables, target.stat().st_size)


def copy_database(database: Path, partial: Path) -> None:
    """Copy with the online backup API into a new file only its owner can read."""
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    with _connect(database) as source, _connect(partial) as copy:
        source.backup(copy, pages=PAGES_PER_STEP)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    with open(partial, "rb") as written:
        os.fsync(written.fileno())


def verify_copy(path: Path) -> dict[str, int]:
    """Check the copy's integrity and return each table's row count."""
    with _connect(path) as copy:
        found = [row[0] for row in copy.execute("PRAGMA integrity_check")]
        if found != ["ok"]:
            raise BackupError(f"the copy failed its integrity check: {'; '.join(found[:3])}")
        names = [
            row[0]
            for row in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            name: copy.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0] for name in names
        }


@contextlib.contextmanager
def _connect(target: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(target, timeout=30)
    try:
        yield connection
    finally:
        connection.close()
