"""The connection, lock and transaction helpers every part of the SQLite repository shares."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from storage.repository import StorageUnavailable
from storage.sqlite_thread import SQLiteThread

T = TypeVar("T")
# Every writer connection: WAL, foreign keys, each commit synced, a wait for a busy file, and
# deleted content overwritten with zeros (whatever the SQLite build's default).
WRITER_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA secure_delete=ON",
)
# A checkpoint that finds a reader in the way tries again this often, this long apart.
CHECKPOINT_TRIES = 20
CHECKPOINT_PAUSE = 0.05


async def connect_writer(path: str) -> SQLiteThread:
    """Open a writer connection to the database at `path`, set up as Heard's always is."""
    # No implicit transactions: every write says BEGIN IMMEDIATE itself (`_atomic`).
    db = await SQLiteThread.open(path, isolation_level=None)
    try:
        await db.run(_set_up_writer)
    except BaseException:
        await db.close()
        raise
    return db


def _set_up_writer(connection: sqlite3.Connection) -> None:
    for pragma in WRITER_PRAGMAS:
        connection.execute(pragma).fetchall()


class SQLiteBase:
    """One writer connection, and a lock that keeps each transaction whole.

    Every `await` on the connection is a trip to its thread and back through the event loop,
    which under load is busy with hundreds of updates' HTTP: the lock is held across all those
    turns. So every call takes one trip: reads fetch in one call (`_one`, `_all`) and every
    write runs its whole transaction on the connection's thread (`_atomic`).
    """

    def __init__(self, db: SQLiteThread) -> None:
        self._db = db
        # One connection serves every chat: a lock keeps each transaction whole.
        self._lock = asyncio.Lock()

    async def _atomic(self, work: Callable[[sqlite3.Connection], T], durable: bool = True) -> T:
        """Run `work` as one transaction on the connection's thread, in a single trip.

        Every write of the repository is one call of this: BEGIN IMMEDIATE, `work`, COMMIT
        (ROLLBACK, and the exception raised again, if `work` or the COMMIT fails), durable
        with the connection's `synchronous=FULL`. `durable=False` commits without waiting for
        the disk (`synchronous=NORMAL`, for a note that may be lost to a power cut, never to a
        crash of the bot): it is still ordered, and it is on the disk with the next durable
        commit, whose sync covers everything written before it. `work` must be plain SQL on the
        connection it is given, with no waiting on anything else.
        """

        def whole(connection: sqlite3.Connection) -> T:
            if not durable:
                connection.execute("PRAGMA synchronous=NORMAL")
            try:
                connection.execute("BEGIN IMMEDIATE")
                try:
                    result = work(connection)
                    connection.execute("COMMIT")
                except BaseException:
                    # A failed COMMIT (a full disk, an I/O error) leaves the transaction
                    # open: rolled back here, or every later write would fail with it.
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
                return result
            finally:
                if not durable:
                    connection.execute("PRAGMA synchronous=FULL")

        async with self._lock, _unavailable():
            return await self._db.run(whole)

    async def _checkpoint(self) -> bool:
        """Copy the WAL into the database and empty it, so deleted words leave no copy there.

        A reader part-way through (an export) keeps the WAL in use: tried again for about a
        second. Returns whether the WAL was emptied; if not, SQLite's own checkpoints will
        overwrite it in time.
        """
        for _ in range(CHECKPOINT_TRIES):
            async with self._lock, _unavailable():
                rows = await self._db.run(_fetch("PRAGMA wal_checkpoint(TRUNCATE)"))
            busy = next(iter(rows), (1,))[0]
            if not busy:
                return True
            await asyncio.sleep(CHECKPOINT_PAUSE)
        return False

    async def _one(self, sql: str, args: Iterable[Any] = ()) -> Any:
        async with self._lock, _unavailable():
            rows = await self._db.run(_fetch(sql, args))
        return next(iter(rows), None)

    async def _all(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        async with self._lock, _unavailable():
            return await self._db.run(_fetch(sql, args))


def _fetch(sql: str, args: Iterable[Any] = ()) -> Callable[[sqlite3.Connection], list[Any]]:
    """Return work that runs one statement and fetches every row (on the connection's thread)."""
    values = tuple(args)
    return lambda connection: connection.execute(sql, values).fetchall()


@asynccontextmanager
async def _unavailable() -> AsyncIterator[None]:
    """Raise a database that is locked, full or failing as StorageUnavailable."""
    try:
        yield
    except sqlite3.OperationalError as error:
        raise StorageUnavailable(str(error)) from error
