"""`heard restore PATH`: put a verified backup in the database's place, keeping the old one.

Only with the bot stopped (the one-bot lock is taken for the whole restore). The backup is
copied beside the database with SQLite's backup API and checked there, so the backup itself
is never changed: integrity, and that it is a Heard database whose migrations this version
knows (an older one is brought up to date when it is next opened). The old database is moved
aside under a name that says when, with its WAL if it still has one (SQLite reads them as a
pair under the new name); a stale shared-memory file is removed. Only then does the checked
copy, readable by its owner only, take the database's name.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.backup import BackupError, copy_database, verify_copy
from bot.clock import Clock
from bot.instance_lock import InstanceLock, InstanceLocked
from storage.migrations import MIGRATIONS
from storage.private_files import database_files
from storage.sqlite import SQLiteRepository


class RestoreError(Exception):
    """A restore that was refused or failed, with why, in one line; the database is as it was."""


@dataclass(frozen=True)
class Restored:
    """What a restore did: from where, what the database holds now, and what was moved aside."""

    database: Path
    source: Path
    tables: dict[str, int]
    kept: tuple[Path, ...]
    removed: tuple[Path, ...]


async def restore(database: Path, backup: Path, clock: Clock) -> Restored:
    """Replace the database with a checked copy of `backup`, holding the one-bot lock; audit it."""
    try:
        lock = InstanceLock.take(database)
    except InstanceLocked as error:
        raise RestoreError(f"refusing to restore while the bot runs: {error}") from None
    except OSError as error:
        raise RestoreError(
            f"HEARD_DATABASE: cannot open {database}: {error.strerror or error}"
        ) from None
    try:
        done = replace_database(database, backup, clock.now())
        repository = await SQLiteRepository.open(database)
        try:
            rows = sum(done.tables.values())
            kept = ", ".join(str(path) for path in done.kept) or "none"
            detail = f"from {backup}: {len(done.tables)} tables, {rows} rows; old database: {kept}"
            await repository.audit("heard restore", "restore", detail, clock.now())
        finally:
            await repository.close()
        return done
    finally:
        lock.release()


def replace_database(database: Path, backup: Path, now: datetime) -> Restored:
    """Check a copy of `backup`, move the old database aside, and put the copy in its place."""
    if not backup.is_file():
        raise RestoreError(f"there is no backup at {backup}")
    if backup.resolve() in database_files(database):
        raise RestoreError(f"{backup} is the database itself: name a backup to restore from")
    partial = database.with_name(f".{database.name}.restoring")
    try:
        copy_database(backup, partial)
        tables = verify_copy(partial)
        _check_heard(partial, backup)
        kept, removed = _move_aside(database, now)
        os.replace(partial, database)
        _sync_folder(database.parent)
    except (BackupError, sqlite3.Error) as error:
        raise RestoreError(f"cannot restore from {backup}: {error}") from None
    except OSError as error:
        raise RestoreError(f"cannot restore {database}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return Restored(database, backup, tables, kept, removed)


def _check_heard(copy: Path, backup: Path) -> None:
    """Refuse a database that is not Heard's, or was written by a newer Heard."""
    connection = sqlite3.connect(copy)
    try:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).fetchone()
        names = (
            {str(row[0]) for row in connection.execute("SELECT name FROM schema_migrations")}
            if found
            else set()
        )
    finally:
        connection.close()
    if MIGRATIONS[0][0] not in names:
        raise RestoreError(f"{backup} is not a Heard database (no Heard migrations in it)")
    unknown = sorted(names - {name for name, _ in MIGRATIONS})
    if unknown:
        raise RestoreError(
            f"{backup} was written by a newer Heard (migrations this version does not know: "
            f"{', '.join(unknown)}): restore it with that version"
        )


def _move_aside(database: Path, now: datetime) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Move the old database (and its WAL, if any) aside; remove its stale shared memory."""
    if not database.exists():
        return (), ()
    with contextlib.suppress(sqlite3.Error):
        # Fold the WAL in, so the old database is one whole file (not if it is too damaged).
        connection = sqlite3.connect(database, timeout=5)
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    aside = database.with_name(f"{database.name}.before-restore-{stamp}")
    kept, removed = [aside], []
    os.replace(database, aside)
    for suffix in ("-wal", "-journal"):
        leftover = database.with_name(database.name + suffix)
        if leftover.exists() and leftover.stat().st_size > 0:
            moved = aside.with_name(aside.name + suffix)
            os.replace(leftover, moved)
            kept.append(moved)
        elif leftover.exists():
            leftover.unlink()
            removed.append(leftover)
    shared = database.with_name(database.name + "-shm")
    if shared.exists():
        shared.unlink()
        removed.append(shared)
    return tuple(kept), tuple(removed)


def _sync_folder(folder: Path) -> None:
    """Make the renames durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
