"""Safeguarding flags and the posts staff were sent about them, in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any, Literal

from storage.audit import Audit
from storage.safety import AlertPost, Flag, FlagPriority, FlagSource, NewFlag, PostKind
from storage.sqlite_base import SQLiteBase
from storage.sqlite_staff import write_audit

FLAG_COLUMNS = (
    "id, participant_code, run_id, step_id, phrase, text, created_at, alerted_at, reviewed_at, "
    "outcome, source, urgent_at, urgent_alerted_at, safe_at, stored_at, alert_stale, note, "
    "reviewed_by, priority"
)
POST_COLUMNS = "id, flag_id, chat_id, message_id, kind, posted_at, redact"


def insert_flag(db: sqlite3.Connection, new: NewFlag, late: datetime | None = None) -> int:
    """Insert a flag (in the caller's transaction) and mark the answer it is on; its id.

    `late` is when a flag kept in the spool (the database refusing writes) was stored. Only a
    flag-priority flag marks its answer `flagged`: a concern's answer is not held.
    """
    written = new.written_at.isoformat()
    cursor = db.execute(
        "INSERT INTO flags (participant_code, run_id, step_id, phrase, text, created_at, "
        "source, alerted_at, urgent_at, stored_at, priority) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            new.participant_code,
            new.run_id,
            new.step_id,
            new.phrase,
            new.text,
            written,
            new.source,
            new.alerted_at.isoformat() if new.alerted_at else None,
            written if new.urgent else None,
            late.isoformat() if late else None,
            new.priority,
        ),
    )
    if new.run_id is not None and new.step_id is not None and new.priority == "flag":
        db.execute(
            "UPDATE answers SET flagged = 1 WHERE run_id = ? AND step_id = ?",
            (new.run_id, new.step_id),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def forget_words(db: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> None:
    """Clear the words, notes and links of the flags `where` picks; their posts go too."""
    db.execute(
        f"UPDATE alert_posts SET redact = 1 WHERE flag_id IN (SELECT id FROM flags WHERE {where})",
        args,
    )
    db.execute(
        "UPDATE flags SET text = NULL, note = NULL, participant_code = NULL, run_id = NULL "
        f"WHERE {where}",
        args,
    )


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
        *,
        source: FlagSource = "answer",
        alerted_at: datetime | None = None,
        urgent: bool = False,
        priority: FlagPriority = "flag",
    ) -> Flag:
        """Record words of risk for a person to review (written at `now`, stored now)."""
        new = NewFlag(
            participant_code,
            run_id,
            step_id,
            phrase,
            text,
            now,
            source,
            alerted_at,
            urgent,
            priority,
        )
        return await self.store_flag(new)

    async def store_flag(self, new: NewFlag, late: datetime | None = None) -> Flag:
        """Store a flag; `late`: when one kept in the spool (storage failing) is stored."""

        def write(db: sqlite3.Connection) -> Any:
            flag_id = insert_flag(db, new, late)
            return db.execute(
                f"SELECT {FLAG_COLUMNS} FROM flags WHERE id = ?", (flag_id,)
            ).fetchone()

        return _flag(await self._atomic(write))

    async def flag(self, flag_id: int) -> Flag | None:
        """Return one flag."""
        row = await self._one(f"SELECT {FLAG_COLUMNS} FROM flags WHERE id = ?", (flag_id,))
        return None if row is None else _flag(row)

    async def flags(self, open_only: bool = True) -> list[Flag]:
        """Return flags: flag priority first, then concerns, each oldest first."""
        where = "WHERE reviewed_at IS NULL " if open_only else ""
        rows = await self._all(
            f"SELECT {FLAG_COLUMNS} FROM flags {where}ORDER BY priority = 'concern', id"
        )
        return [_flag(row) for row in rows]

    async def flags_of(self, participant_code: str) -> list[Flag]:
        """Return a participant's flags, oldest first."""
        rows = await self._all(
            f"SELECT {FLAG_COLUMNS} FROM flags WHERE participant_code = ? ORDER BY id",
            (participant_code,),
        )
        return [_flag(row) for row in rows]

    async def open_flag_of(self, participant_code: str) -> Flag | None:
        """Return the participant's newest flag (not a concern) nobody has reviewed yet.

        A concern has no check-in, alert or thread in the safeguarding chat to hang on to.
        """
        row = await self._one(
            f"SELECT {FLAG_COLUMNS} FROM flags WHERE participant_code = ? "
            "AND reviewed_at IS NULL AND priority = 'flag' ORDER BY id DESC LIMIT 1",
            (participant_code,),
        )
        return None if row is None else _flag(row)

    async def flags_to_tell(self) -> list[Flag]:
        """Return flags staff must hear about: not alerted, urgent not told, alert out of date.

        Concerns are never among them: they wait in the review queue.
        """
        rows = await self._all(
            f"SELECT {FLAG_COLUMNS} FROM flags WHERE priority = 'flag' AND (alerted_at IS NULL "
            "OR (urgent_at IS NOT NULL AND urgent_alerted_at IS NULL) OR alert_stale = 1) "
            "ORDER BY urgent_at IS NULL, id"
        )
        return [_flag(row) for row in rows]

    async def mark_alerted(self, flag_id: int, now: datetime) -> None:
        """Note that staff were told about a flag."""
        await self._write(
            "UPDATE flags SET alerted_at = COALESCE(alerted_at, ?) WHERE id = ?",
            (now.isoformat(), flag_id),
        )

    async def mark_urgent_alerted(self, flag_id: int, now: datetime) -> None:
        """Note that staff were told a participant pressed "I need help now"."""
        await self._write(
            "UPDATE flags SET urgent_alerted_at = ? WHERE id = ?", (now.isoformat(), flag_id)
        )

    async def mark_alert_current(self, flag_id: int) -> None:
        """Note that the posted alerts about a flag say what is now known."""
        await self._write("UPDATE flags SET alert_stale = 0 WHERE id = ?", (flag_id,))

    async def check_in_answer(
        self,
        participant_code: str,
        run_id: int | None,
        answer: Literal["safe", "help"],
        now: datetime,
    ) -> Flag | None:
        """Record a check-in answer on the open flag (not a concern); "help" with none makes one.

        A concern is never made urgent: "I need help now" with only concerns open is a new flag,
        which the sweep alerts.
        """
        stamp = now.isoformat()

        def write(db: sqlite3.Connection) -> Any:
            row = db.execute(
                "SELECT id, urgent_at FROM flags WHERE participant_code = ? "
                "AND reviewed_at IS NULL AND priority = 'flag' ORDER BY id DESC LIMIT 1",
                (participant_code,),
            ).fetchone()
            if row is None and answer == "safe":
                return None
            if row is None:
                new = NewFlag(
                    participant_code,
                    run_id,
                    None,
                    "pressed “I need help now”",
                    "",
                    now,
                    "help_button",
                    urgent=True,
                )
                flag_id = insert_flag(db, new)
            else:
                flag_id = int(row[0])
                if answer == "safe":
                    db.execute(
                        "UPDATE flags SET safe_at = ?, alert_stale = 1 WHERE id = ?",
                        (stamp, flag_id),
                    )
                elif row[1] is None:
                    db.execute(
                        "UPDATE flags SET urgent_at = ?, safe_at = NULL, alert_stale = 1 "
                        "WHERE id = ?",
                        (stamp, flag_id),
                    )
            return db.execute(
                f"SELECT {FLAG_COLUMNS} FROM flags WHERE id = ?", (flag_id,)
            ).fetchone()

        row = await self._atomic(write)
        return None if row is None else _flag(row)

    async def review_flag(self, flag_id: int, reviewer: int, outcome: str, audit: Audit) -> bool:
        """Record a reviewer's outcome, audited; False (nothing audited) if no such open flag."""

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE flags SET outcome = ?, reviewed_by = ?, reviewed_at = ?, alert_stale = 1 "
                "WHERE id = ? AND reviewed_at IS NULL",
                (outcome, reviewer, audit.at.isoformat(), flag_id),
            )
            if cursor.rowcount != 1:
                return False
            write_audit(db, audit)
            return True

        return await self._atomic(write)

    async def note_flag(self, flag_id: int, note: str, audit: Audit) -> bool:
        """Add a reviewer's note to a flag, audited; False (nothing audited) if no such flag."""

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE flags SET note = ?, noted_at = ? WHERE id = ? AND text IS NOT NULL",
                (note, audit.at.isoformat(), flag_id),
            )
            if cursor.rowcount != 1:
                return False
            write_audit(db, audit)
            return True

        return await self._atomic(write)

    async def add_alert_post(
        self, flag_id: int | None, chat_id: int, message_id: int, kind: PostKind, now: datetime
    ) -> None:
        """Remember a message posted to staff about a flag."""
        await self._write(
            "INSERT INTO alert_posts (flag_id, chat_id, message_id, kind, posted_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (flag_id, chat_id, message_id, kind, now.isoformat()),
        )

    async def alert_posts(self, flag_id: int) -> list[AlertPost]:
        """Return the messages posted to staff about a flag, oldest first."""
        rows = await self._all(
            f"SELECT {POST_COLUMNS} FROM alert_posts WHERE flag_id = ? ORDER BY id", (flag_id,)
        )
        return [_post(row) for row in rows]

    async def posts_to_redact(self) -> list[AlertPost]:
        """Return posts whose words must go: their participant deleted their data."""
        rows = await self._all(
            f"SELECT {POST_COLUMNS} FROM alert_posts WHERE redact = 1 ORDER BY id"
        )
        return [_post(row) for row in rows]

    async def mark_redacted(self, post_id: int) -> None:
        """Note that a post's words were removed (or the post deleted)."""
        await self._write("UPDATE alert_posts SET redact = 0 WHERE id = ?", (post_id,))

    async def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        """Run one statement as its own durable transaction."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(sql, args)

        await self._atomic(write)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _flag(row: Any) -> Flag:
    return Flag(
        id=int(row[0]),
        participant_code=row[1],
        run_id=row[2],
        step_id=row[3],
        phrase=row[4],
        text=row[5],
        created_at=datetime.fromisoformat(row[6]),
        alerted_at=_time(row[7]),
        reviewed_at=_time(row[8]),
        outcome=row[9],
        source=row[10],
        urgent_at=_time(row[11]),
        urgent_alerted_at=_time(row[12]),
        safe_at=_time(row[13]),
        stored_at=_time(row[14]),
        alert_stale=bool(row[15]),
        note=row[16],
        reviewed_by=row[17],
        priority=row[18],
    )


def _post(row: Any) -> AlertPost:
    return AlertPost(
        int(row[0]),
        row[1],
        int(row[2]),
        int(row[3]),
        row[4],
        datetime.fromisoformat(row[5]),
        bool(row[6]),
    )
