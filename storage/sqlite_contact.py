"""Messages between staff and participants, and words kept outside any question, in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from storage.audit import Audit
from storage.safety import ContactMessage, KeptMessage, StoredKept
from storage.sqlite_base import SQLiteBase
from storage.sqlite_staff import write_audit

CONTACT_COLUMNS = (
    "id, participant_code, flag_id, direction, text, staff_user_id, chat_message_id, "
    "created_at, relayed_at"
)


def insert_kept(
    db: sqlite3.Connection,
    participant_code: str,
    run_id: int | None,
    kept: Sequence[KeptMessage],
    now: datetime,
) -> None:
    """Keep words that are no question's answer (in the caller's transaction)."""
    db.executemany(
        "INSERT INTO kept_messages (participant_code, run_id, text, why, written_at, kept_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (participant_code, run_id, k.text, k.why, k.written_at.isoformat(), now.isoformat())
            for k in kept
        ],
    )


class ContactQueries(SQLiteBase):
    """Two-way contact with a person at the charity, and words kept aside."""

    async def add_contact_message(
        self,
        participant_code: str,
        direction: Literal["to_participant", "from_participant"],
        text: str,
        now: datetime,
        *,
        flag_id: int | None = None,
        staff_user_id: int | None = None,
        chat_message_id: int | None = None,
        audit: Audit | None = None,
    ) -> ContactMessage:
        """Store a message between staff and a participant (with its audit entry, if any)."""

        def write(db: sqlite3.Connection) -> Any:
            cursor = db.execute(
                "INSERT INTO contact_messages (participant_code, flag_id, direction, text, "
                "staff_user_id, chat_message_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    participant_code,
                    flag_id,
                    direction,
                    text,
                    staff_user_id,
                    chat_message_id,
                    now.isoformat(),
                ),
            )
            if audit is not None:
                write_audit(db, audit)
            return db.execute(
                f"SELECT {CONTACT_COLUMNS} FROM contact_messages WHERE id = ?",
                (cursor.lastrowid,),
            ).fetchone()

        return _contact(await self._atomic(write))

    async def contact_message(self, message_id: int) -> ContactMessage | None:
        """Return one message between staff and a participant."""
        row = await self._one(
            f"SELECT {CONTACT_COLUMNS} FROM contact_messages WHERE id = ?", (message_id,)
        )
        return None if row is None else _contact(row)

    async def staff_message_in_chat(
        self, participant_code: str, chat_message_id: int
    ) -> ContactMessage | None:
        """Return the staff message shown as this message id in the participant's chat."""
        row = await self._one(
            f"SELECT {CONTACT_COLUMNS} FROM contact_messages WHERE participant_code = ? "
            "AND direction = 'to_participant' AND chat_message_id = ?",
            (participant_code, chat_message_id),
        )
        return None if row is None else _contact(row)

    async def contact_messages_of(self, participant_code: str) -> list[ContactMessage]:
        """Return the messages between staff and a participant, oldest first."""
        rows = await self._all(
            f"SELECT {CONTACT_COLUMNS} FROM contact_messages WHERE participant_code = ? "
            "ORDER BY id",
            (participant_code,),
        )
        return [_contact(row) for row in rows]

    async def unrelayed(self) -> list[ContactMessage]:
        """Return participants' messages to staff not yet posted to them."""
        rows = await self._all(
            f"SELECT {CONTACT_COLUMNS} FROM contact_messages WHERE relayed_at IS NULL "
            "AND direction = 'from_participant' ORDER BY id"
        )
        return [_contact(row) for row in rows]

    async def mark_relayed(self, message_id: int, audit: Audit) -> None:
        """Note that staff have a participant's message, audited."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE contact_messages SET relayed_at = ? WHERE id = ?",
                (audit.at.isoformat(), message_id),
            )
            write_audit(db, audit)

        await self._atomic(write)

    async def set_replying(
        self, participant_code: str, to: int | None, until: datetime | None
    ) -> None:
        """Start (or end, with None) taking the participant's next text as a reply to staff."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE participants SET replying_to = ?, replying_until = ? WHERE code = ?",
                (to, until.isoformat() if until else None, participant_code),
            )

        await self._atomic(write)

    async def keep_messages(
        self,
        participant_code: str,
        run_id: int | None,
        kept: Sequence[KeptMessage],
        now: datetime,
    ) -> None:
        """Keep words that are no question's answer."""
        await self._atomic(lambda db: insert_kept(db, participant_code, run_id, kept, now))

    async def kept_of(self, participant_code: str) -> list[StoredKept]:
        """Return the words kept aside for a participant, oldest first."""
        rows = await self._all(
            "SELECT id, run_id, text, why, written_at FROM kept_messages "
            "WHERE participant_code = ? ORDER BY id",
            (participant_code,),
        )
        return [
            StoredKept(int(r[0]), r[1], str(r[2]), r[3], datetime.fromisoformat(r[4]))
            for r in rows
        ]


def _contact(row: Any) -> ContactMessage:
    return ContactMessage(
        id=int(row[0]),
        participant_code=str(row[1]),
        flag_id=row[2],
        direction=row[3],
        text=str(row[4]),
        staff_user_id=row[5],
        chat_message_id=row[6],
        created_at=datetime.fromisoformat(row[7]),
        relayed_at=datetime.fromisoformat(row[8]) if row[8] else None,
    )
