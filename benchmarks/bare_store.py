"""The bare baseline's optional store: Heard's three database trips an answer, and no more.

With it, baseline (a+db) keeps every answer as the throughput target asks ("every answer
durably committed") through the same machinery as Heard: one connection on a thread of its own
(`storage.sqlite_thread.SQLiteThread`), Heard's connection settings (`connect_writer`: WAL,
`synchronous=FULL`), and
`storage.sqlite_base.SQLiteBase` (its lock, `_one` for a read and `_atomic` for a whole
transaction in one trip). An answer costs the trips Heard's costs:
  1. read where the chat is (Heard: the participant and their latest run, one query);
  2. store the answer and the next position, durably, before anything is shown (Heard: save);
  3. once the next question is out, note the message holding it, not waited onto the disk
     (Heard: mark_delivered).
The SQL is the smallest that does that, so the row measures the trips, not Heard's schema.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage.sqlite_base import SQLiteBase, connect_writer

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS positions "
    "(chat_id INTEGER PRIMARY KEY, question INTEGER NOT NULL, prompt_id INTEGER)",
    "CREATE TABLE IF NOT EXISTS answers "
    "(id INTEGER PRIMARY KEY, chat_id INTEGER NOT NULL, question INTEGER NOT NULL, "
    "value TEXT NOT NULL)",
)


class BareStore(SQLiteBase):
    """Where each chat is, and every answer, in one SQLite file."""

    @classmethod
    async def open(cls, path: str | Path) -> BareStore:
        """Open (creating if needed) the store at this path, with Heard's connection settings."""
        db = await connect_writer(str(path))
        await db.run(lambda connection: [connection.execute(sql) for sql in SCHEMA])
        return cls(db)

    async def close(self) -> None:
        """Release the database."""
        await self._db.close()

    async def position(self, chat_id: int) -> tuple[int, int | None] | None:
        """Return the question (0-based) a chat is at and the message holding it, if known."""
        row = await self._one(
            "SELECT question, prompt_id FROM positions WHERE chat_id = ?", (chat_id,)
        )
        return None if row is None else (int(row[0]), row[1])

    async def save(self, chat_id: int, question: int, value: str) -> None:
        """Store an answer and move the chat to the next question, durably, in one go."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO answers (chat_id, question, value) VALUES (?, ?, ?)",
                (chat_id, question, value),
            )
            db.execute(
                "INSERT INTO positions (chat_id, question, prompt_id) VALUES (?, ?, NULL) "
                "ON CONFLICT (chat_id) DO UPDATE SET question = excluded.question, "
                "prompt_id = NULL",
                (chat_id, question + 1),
            )

        await self._atomic(write)

    async def mark(self, chat_id: int, question: int, prompt_id: int) -> None:
        """Note the message now holding the chat's question (a power cut may lose it)."""
        await self._atomic(
            lambda db: db.execute(
                "INSERT INTO positions (chat_id, question, prompt_id) VALUES (?, ?, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET question = excluded.question, "
                "prompt_id = excluded.prompt_id",
                (chat_id, question, prompt_id),
            ),
            durable=False,
        )
