"""The Repository on SQLite: one writer connection, WAL, foreign keys, durable commits."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from storage.audit import Audit
from storage.migrations import migrate
from storage.private_files import private_database
from storage.repository import (
    ConsentGiven,
    ConsentRecord,
    Contact,
    Deleted,
    FlowVersionConflict,
    Participant,
    ParticipantStatus,
    Pending,
    Purged,
    Run,
    StoredAnswer,
)
from storage.safety import KeptMessage, NewFlag
from storage.sqlite_base import connect_writer
from storage.sqlite_contact import ContactQueries, insert_kept
from storage.sqlite_flags import FlagQueries, forget_words, insert_flag
from storage.sqlite_rounds import RoundQueries, insert_follow_ups
from storage.sqlite_staff import StaffQueries, write_audit
from storage.sqlite_vitals import VitalsQueries

# Crockford-style letters and digits without the ones people confuse (0/O, 1/I/L, U).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 6
PARTICIPANT_COLUMNS = (
    "p.code, p.language, p.status, p.contact_ok, p.created_at, p.nation, p.contact_changed_at, "
    "p.replying_to, p.replying_until"
)
CHAT_AT = 9  # where i.chat_id comes after PARTICIPANT_COLUMNS
RUN_COLUMNS = (
    "id, participant_code, flow_id, flow_version, state, status, started_at, updated_at, "
    "completed_at, prompt_message_id, needs_delivery, round_id, delivered_at"
)
RUN_COLUMNS_OF_R = ", ".join("r." + column for column in RUN_COLUMNS.split(", "))  # runs r


def new_code() -> str:
    """Return a random participant code such as P-7KQ2MX."""
    return "P-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class SQLiteRepository(StaffQueries, FlagQueries, ContactQueries, RoundQueries, VitalsQueries):
    """Heard's data in one SQLite file."""

    @classmethod
    async def open(cls, path: str | Path) -> SQLiteRepository:
        """Open (creating if needed) and migrate the database at this path."""
        folder = Path(path).parent
        if not folder.is_dir():
            # Checked here: SQLite would say only "unable to open database file".
            raise FileNotFoundError(f"there is no folder {folder} for the database")
        private_database(Path(path))  # 0600, and its WAL with it: see storage.private_files
        db = await connect_writer(str(path))
        try:
            await db.run(migrate)
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def close(self) -> None:
        """Release the database."""
        await self._db.close()

    async def register_flow(
        self, flow_id: str, version: int, content_hash: str, definition: str, now: datetime
    ) -> None:
        """Keep a flow version's definition; refuse a changed one with the same version."""

        def write(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT content_hash FROM flows WHERE flow_id = ? AND version = ?",
                (flow_id, version),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO flows (flow_id, version, content_hash, definition, registered_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (flow_id, version, content_hash, definition, now.isoformat()),
                )
            elif row[0] != content_hash:
                raise FlowVersionConflict(flow_id, version)

        await self._atomic(write)

    async def flow_definition(self, flow_id: str, version: int) -> str | None:
        """Return the stored definition (JSON) of a flow version."""
        row = await self._one(
            "SELECT definition FROM flows WHERE flow_id = ? AND version = ?", (flow_id, version)
        )
        return None if row is None else str(row[0])

    async def contact_for_user(self, user_id: int) -> Contact | None:
        """Return the participant behind a Telegram user, if they ever consented."""
        # One query for both: the latest run is an index look-up more, too cheap to keep a
        # second copy of the query for.
        contact, _ = await self.contact_and_run(user_id)
        return contact

    async def contact_and_run(self, user_id: int) -> tuple[Contact | None, Run | None]:
        """Return contact_for_user and that participant's latest_run, in one query."""
        row = await self._one(
            f"SELECT {PARTICIPANT_COLUMNS}, i.chat_id, "
            f"{RUN_COLUMNS_OF_R} "
            "FROM identities i JOIN participants p ON p.code = i.participant_code "
            "LEFT JOIN runs r "
            "ON r.id = (SELECT MAX(id) FROM runs WHERE participant_code = p.code) "
            "WHERE i.telegram_user_id = ?",
            (user_id,),
        )
        if row is None:
            return None, None
        contact = Contact(_participant(row), int(row[CHAT_AT]))
        run = row[CHAT_AT + 1 :]
        return contact, None if run[0] is None else _run(run)

    async def enrol(
        self,
        *,
        user_id: int,
        chat_id: int,
        language: str,
        consent: ConsentGiven,
        now: datetime,
    ) -> Participant:
        """Record consent, creating the participant and identity if they are new."""

        def write(db: sqlite3.Connection) -> Participant:
            row = db.execute(
                f"SELECT {PARTICIPANT_COLUMNS} "
                "FROM identities i JOIN participants p ON p.code = i.participant_code "
                "WHERE i.telegram_user_id = ?",
                (user_id,),
            ).fetchone()
            if row is None:
                code = _unused_code(db)
                db.execute(
                    "INSERT INTO participants (code, language, created_at) VALUES (?, ?, ?)",
                    (code, language, now.isoformat()),
                )
                db.execute(
                    "INSERT INTO identities (participant_code, telegram_user_id, chat_id) "
                    "VALUES (?, ?, ?)",
                    (code, user_id, chat_id),
                )
                participant = Participant(code, language, "active", False, now)
            else:
                participant = _participant(row)
            db.execute(
                "INSERT INTO consents "
                "(participant_code, flow_id, flow_version, consent_version, given_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    participant.code,
                    consent.flow_id,
                    consent.flow_version,
                    consent.consent_version,
                    now.isoformat(),
                ),
            )
            return participant

        return await self._atomic(write)

    async def start_run(
        self,
        participant_code: str,
        flow_id: str,
        flow_version: int,
        state: str,
        now: datetime,
        *,
        round_id: int | None = None,
        invitation_id: int | None = None,
    ) -> Run:
        """Create a run for a participant (in a round, or from an invitation, if given)."""
        stamp = now.isoformat()
        run_id = await self._atomic(
            lambda db: (
                db.execute(
                    "INSERT INTO runs (participant_code, flow_id, flow_version, state, status, "
                    "started_at, updated_at, round_id, invitation_id) "
                    "VALUES (?, ?, ?, ?, 'new', ?, ?, ?, ?)",
                    (
                        participant_code,
                        flow_id,
                        flow_version,
                        state,
                        stamp,
                        stamp,
                        round_id,
                        invitation_id,
                    ),
                ).lastrowid
            )
        )
        assert run_id is not None
        return Run(
            run_id,
            participant_code,
            flow_id,
            flow_version,
            state,
            "new",
            now,
            now,
            None,
            None,
            False,
            round_id,
        )

    async def latest_run(self, participant_code: str) -> Run | None:
        """Return the participant's most recent run."""
        row = await self._one(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE participant_code = ? ORDER BY id DESC LIMIT 1",
            (participant_code,),
        )
        return None if row is None else _run(row)

    async def run(self, run_id: int) -> Run | None:
        """Return one run."""
        row = await self._one(f"SELECT {RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        return None if row is None else _run(row)

    async def save(
        self,
        run_id: int,
        state: str,
        status: str,
        answers: list[tuple[str, str]],
        now: datetime,
        forget: Sequence[str] = (),
        *,
        flag: NewFlag | None = None,
        kept: Sequence[KeptMessage] = (),
        follow_ups: Sequence[tuple[int, str, datetime]] = (),
    ) -> int | None:
        """Store a run's new state, answers, deletions, flag, kept words and follow-ups at once.

        Returns the new flag's id, if a flag was given.
        """
        stamp = now.isoformat()

        def write(db: sqlite3.Connection) -> int | None:
            # Read to its end: a RETURNING statement still in progress would fail the COMMIT.
            found = db.execute(
                "UPDATE runs SET state = ?, status = ?, updated_at = ?, needs_delivery = 1, "
                "completed_at = CASE WHEN ? = 'completed' THEN COALESCE(completed_at, ?) END "
                "WHERE id = ? RETURNING participant_code, round_id",
                (state, status, stamp, status, stamp, run_id),
            ).fetchall()
            row = found[0] if found else None
            for step_id, value in answers:
                db.execute(
                    "INSERT INTO answers (run_id, step_id, value, answered_at, seq) "
                    "VALUES (?, ?, ?, ?, "
                    "(SELECT COALESCE(MAX(seq), 0) + 1 FROM answers WHERE run_id = ?)) "
                    "ON CONFLICT (run_id, step_id) DO UPDATE SET value = excluded.value, "
                    "answered_at = excluded.answered_at, seq = excluded.seq",
                    (run_id, step_id, value, stamp, run_id),
                )
            for step_id in forget:
                db.execute(
                    "DELETE FROM answers WHERE run_id = ? AND step_id = ?", (run_id, step_id)
                )
            if row is not None and kept:
                insert_kept(db, str(row[0]), run_id, kept, now)
            if row is not None and follow_ups:
                insert_follow_ups(db, str(row[0]), run_id, row[1], follow_ups)
            return None if flag is None else insert_flag(db, flag)

        return await self._atomic(write)

    async def mark_delivered(
        self, run_id: int, prompt_message_id: int | None, now: datetime | None = None
    ) -> None:
        """Note that the run's messages were shown (at `now`), and which holds the question.

        Not waited onto the disk: a power cut may lose the note (the bot crashing cannot), and
        then the run is shown again on start-up, as after a crash just before it.
        """
        await self._atomic(
            lambda db: db.execute(
                "UPDATE runs SET needs_delivery = 0, "
                "prompt_message_id = COALESCE(?, prompt_message_id), "
                "delivered_at = COALESCE(?, delivered_at) WHERE id = ?",
                (prompt_message_id, now.isoformat() if now else None, run_id),
            ),
            durable=False,
        )

    async def undelivered(self) -> list[Pending]:
        """Return runs whose latest state was saved but not yet shown."""
        rows = await self._all(
            f"SELECT {RUN_COLUMNS_OF_R}, i.chat_id, "
            "p.language FROM runs r JOIN participants p ON p.code = r.participant_code "
            "JOIN identities i ON i.participant_code = p.code "
            "WHERE r.needs_delivery = 1 AND p.status != 'unreachable' ORDER BY r.id"
        )
        return [Pending(_run(row), int(row[13]), str(row[14])) for row in rows]

    async def set_status(self, participant_code: str, status: ParticipantStatus) -> None:
        """Change whether a participant may be sent messages."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE participants SET status = ? WHERE code = ?", (status, participant_code)
            )

        await self._atomic(write)

    async def answers(self, run_id: int) -> list[StoredAnswer]:
        """Return a run's answers in the order they were given."""
        rows = await self._all(
            "SELECT run_id, step_id, value, answered_at FROM answers WHERE run_id = ? "
            "ORDER BY seq",
            (run_id,),
        )
        return [
            StoredAnswer(int(r[0]), str(r[1]), str(r[2]), datetime.fromisoformat(r[3]))
            for r in rows
        ]

    async def participant(self, code: str) -> Participant | None:
        """Return a participant by code."""
        row = await self._one(
            f"SELECT {PARTICIPANT_COLUMNS} FROM participants p WHERE p.code = ?", (code,)
        )
        return None if row is None else _participant(row)

    async def set_contact(self, code: str, contact_ok: bool, now: datetime) -> None:
        """Record whether a participant wants messages about future rounds."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE participants SET contact_ok = ?, contact_changed_at = ? WHERE code = ?",
                (int(contact_ok), now.isoformat(), code),
            )

        await self._atomic(write)

    async def set_nation(self, code: str, nation: str | None) -> None:
        """Record which nation's support lines a participant wants to see ("none": not said)."""

        def write(db: sqlite3.Connection) -> None:
            db.execute("UPDATE participants SET nation = ? WHERE code = ?", (nation, code))

        await self._atomic(write)

    async def consents_of(self, code: str) -> list[ConsentRecord]:
        """Return a participant's consent records, oldest first."""
        rows = await self._all(
            "SELECT flow_id, flow_version, consent_version, given_at FROM consents "
            "WHERE participant_code = ? ORDER BY id",
            (code,),
        )
        return [
            ConsentRecord(str(r[0]), int(r[1]), int(r[2]), datetime.fromisoformat(r[3]))
            for r in rows
        ]

    async def runs_of(self, code: str) -> list[Run]:
        """Return a participant's runs, oldest first."""
        rows = await self._all(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE participant_code = ? ORDER BY id", (code,)
        )
        return [_run(row) for row in rows]

    async def delete_participant(self, code: str, audit: Callable[[Deleted], Audit]) -> Deleted:
        """Delete a participant with their identity, consents, runs and answers, in one go.

        Audited in the same transaction, with the entry made from what was deleted.
        """

        def write(db: sqlite3.Connection) -> Deleted:
            counts = []
            for sql in (
                "SELECT COUNT(*) FROM runs WHERE participant_code = ?",
                "SELECT COUNT(*) FROM answers a JOIN runs r ON r.id = a.run_id "
                "WHERE r.participant_code = ?",
                "SELECT COUNT(*) FROM consents WHERE participant_code = ?",
            ):
                row = db.execute(sql, (code,)).fetchone()
                counts.append(int(row[0]) if row else 0)
            # A flag keeps no words, notes or link once its person is gone; what was posted
            # to staff about it is edited to remove the words.
            forget_words(db, "participant_code = ?", (code,))
            # Foreign keys cascade to identities, consents, runs and their answers.
            db.execute("DELETE FROM participants WHERE code = ?", (code,))
            deleted = Deleted(*counts)
            write_audit(db, audit(deleted))
            return deleted

        deleted = await self._atomic(write)
        await self._checkpoint()
        return deleted

    async def contact_for_code(self, code: str) -> Contact | None:
        """Return where to reach a participant, by their code."""
        row = await self._one(
            f"SELECT {PARTICIPANT_COLUMNS}, i.chat_id "
            "FROM identities i JOIN participants p ON p.code = i.participant_code "
            "WHERE p.code = ?",
            (code,),
        )
        return None if row is None else Contact(_participant(row), int(row[CHAT_AT]))

    async def purge(
        self,
        now: datetime,
        retention_days: int,
        dry_run: bool = False,
        audit: Callable[[Purged], Audit] | None = None,
    ) -> Purged:
        """Delete runs untouched for longer than their retention, and people left with nothing.

        A run in a round with its own retention keeps to the round's; every other run, and
        every person, to `retention_days`. `audit` makes the entry from the counts, written in
        the same transaction (a dry run deletes and audits nothing).
        """
        stamp = (now - timedelta(days=retention_days)).isoformat()
        old_runs = (
            "SELECT r.id FROM runs r LEFT JOIN rounds o ON o.id = r.round_id "
            "WHERE julianday(COALESCE(r.completed_at, r.updated_at)) "
            "< julianday(?) - COALESCE(o.retention_days, ?)"
        )
        when = (now.isoformat(), retention_days)
        # People with no run left after the purge, who joined before the cut-off too.
        gone = (
            "SELECT code FROM participants p WHERE p.created_at < ? AND NOT EXISTS "
            "(SELECT 1 FROM runs r WHERE r.participant_code = p.code "
            f"AND r.id NOT IN ({old_runs}))"
        )

        def write(db: sqlite3.Connection) -> Purged:
            counts = []
            for sql, args in (
                (f"SELECT COUNT(*) FROM ({old_runs})", when),
                (f"SELECT COUNT(*) FROM answers WHERE run_id IN ({old_runs})", when),
                (f"SELECT COUNT(*) FROM ({gone})", (stamp, *when)),
            ):
                row = db.execute(sql, args).fetchone()
                counts.append(int(row[0]) if row else 0)
            if not dry_run:
                gone_args = (stamp, *when)
                # Flags keep their review record; their words go with the conversation, and
                # with the person, and once older than the retention however they were left.
                forget_words(
                    db,
                    f"run_id IN ({old_runs}) OR participant_code IN ({gone}) "
                    "OR (julianday(created_at) < julianday(?) AND text IS NOT NULL)",
                    (*when, *gone_args, stamp),
                )
                db.execute(f"DELETE FROM participants WHERE code IN ({gone})", gone_args)
                db.execute(f"DELETE FROM runs WHERE id IN ({old_runs})", when)
            purged = Purged(*counts)
            if not dry_run and audit is not None:
                write_audit(db, audit(purged))
            return purged

        purged = await self._atomic(write)
        if not dry_run:
            await self._checkpoint()
        return purged


def _unused_code(db: sqlite3.Connection) -> str:
    while True:
        code = new_code()
        if db.execute("SELECT 1 FROM participants WHERE code = ?", (code,)).fetchone() is None:
            return code


def _participant(row: Any) -> Participant:
    return Participant(
        code=str(row[0]),
        language=str(row[1]),
        status=row[2],
        contact_ok=bool(row[3]),
        created_at=datetime.fromisoformat(row[4]),
        nation=row[5],
        contact_changed_at=datetime.fromisoformat(row[6]) if row[6] else None,
        replying_to=row[7],
        replying_until=datetime.fromisoformat(row[8]) if row[8] else None,
    )


def _run(row: Any) -> Run:
    return Run(
        id=int(row[0]),
        participant_code=str(row[1]),
        flow_id=str(row[2]),
        flow_version=int(row[3]),
        state=str(row[4]),
        status=str(row[5]),
        started_at=datetime.fromisoformat(row[6]),
        updated_at=datetime.fromisoformat(row[7]),
        completed_at=datetime.fromisoformat(row[8]) if row[8] else None,
        prompt_message_id=None if row[9] is None else int(row[9]),
        needs_delivery=bool(row[10]),
        round_id=None if row[11] is None else int(row[11]),
        delivered_at=datetime.fromisoformat(row[12]) if row[12] else None,
    )
