"""The connection, lock and transaction helpers every part of the SQLite repository shares."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite


class SQLiteBase:
    """One writer connection, and a lock that keeps each transaction whole."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        # One connection serves every chat: a lock keeps each transaction whole.
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def _one(self, sql: str, args: Iterable[Any] = ()) -> Any:
        async with self._lock, self._db.execute(sql, tuple(args)) as cursor:
            return await cursor.fetchone()

    async def _all(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        async with self._lock, self._db.execute(sql, tuple(args)) as cursor:
            return list(await cursor.fetchall())
