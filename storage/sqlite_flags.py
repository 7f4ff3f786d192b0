"""Safeguarding flags, in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from storage.repository import Flag
from storage.sqlite_base import SQLiteBase


class FlagQueries(SQLiteBase):
    """Words of risk waiting for, or given, a person's review."""

    async def add_flag(
        self,
        participant_code: str,
        run_id: int | None,
        step_id: str | None,
        phrase: str,
        text: str,
        now: datetime,
    ) -> Flag:
        """Record words of risk for a person to review."""

        def write(db: sqlite3.Connection) -> int | None:
            cursor = db.execute(
                "INSERT INTO flags (participant_code, run_id, step_id, phrase, text, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (participant_code, run_id, step_id, phrase, text, now.isoformat()),
            )
            if run_id is not None and step_id is not None:
                db.execute(
                    "UPDATE answers SET flagged = 1 WHERE run_id = ? AND step_id = ?",
                    (run_id, step_id),
                )
            return cursor.lastrowid

        flag_id = await self._atomic(write)
        assert flag_id is not None
        return Flag(
            flag_id, participant_code, run_id, step_id, phrase, text, now, None, None, None
        )

    async def mark_alerted(self, flag_id: int, now: datetime) -> None:
        """Note that the safeguarding chat was told about a flag."""

        def write(db: sqlite3.Connection) -> None:
            db.execute("UPDATE flags SET alerted_at = ? WHERE id = ?", (now.isoformat(), flag_id))

        await self._atomic(write)

    async def flags(self, open_only: bool = True) -> list[Flag]:
        """Return flags, oldest first."""
        where = "WHERE reviewed_at IS NULL " if open_only else ""
        rows = await self._all(
            "SELECT id, participant_code, run_id, step_id, phrase, text, created_at, "
            f"alerted_at, reviewed_at, outcome FROM flags {where}ORDER BY id"
        )
        return [
            Flag(
                int(r[0]),
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                datetime.fromisoformat(r[6]),
                datetime.fromisoformat(r[7]) if r[7] else None,
                datetime.fromisoformat(r[8]) if r[8] else None,
                r[9],
            )
            for r in rows
        ]

    async def review_flag(self, flag_id: int, reviewer: int, outcome: str, now: datetime) -> bool:
        """Record a reviewer's outcome; False if there is no such open flag."""

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE flags SET outcome = ?, reviewed_by = ?, reviewed_at = ? "
                "WHERE id = ? AND reviewed_at IS NULL",
                (outcome, reviewer, now.isoformat(), flag_id),
            )
            return cursor.rowcount == 1

        return await self._atomic(write)

    async def note_flag(self, flag_id: int, note: str) -> bool:
        """Add a reviewer's note to a flag; False if there is no such flag."""

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute("UPDATE flags SET note = ? WHERE id = ?", (note, flag_id))
            return cursor.rowcount == 1

        return await self._atomic(write)
