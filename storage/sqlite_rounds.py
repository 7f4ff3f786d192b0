"""Rounds, the outbox and replies to invitations, in SQLite.

Times are stored as UTC ISO 8601 text of one fixed shape, so comparing the text compares the
times. Every change to the outbox is one transaction: a send is claimed with a lease, and a
claim whose process died is claimed again once the lease has run out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.audit import Audit
from storage.round_figures import ROUND_FIGURES_SQL, round_figures_from
from storage.rounds import (
    CONTACTABLE,
    NewRound,
    OutboxItem,
    OutboxKind,
    OutboxStatus,
    Round,
    RoundFigures,
    RoundStatus,
    SendTally,
    earlier_round,
)
from storage.sqlite_base import SQLiteBase
from storage.sqlite_staff import write_audit

ROUND_COLUMNS = (
    "id, title, flow_id, opens_at, closes_at, audience, reminders, reminder_days, invitation, "
    "status, created_by, created_at, notify_chat, progress_message_id, closed_at, feedback, "
    "feedback_at, retention_days"
)
ITEM_COLUMNS = (
    "o.id, o.key, o.kind, o.participant_code, o.round_id, o.run_id, o.flow_id, o.due_at, "
    "o.status, o.attempts, o.recovered, i.chat_id, p.language, p.status, p.contact_ok"
)
ITEM_FROM = (
    "FROM outbox o JOIN participants p ON p.code = o.participant_code "
    "JOIN identities i ON i.participant_code = o.participant_code"
)
# Those who may be invited: reachable, not stopped, and agreed to hear about future rounds.
CONTACTABLE_SQL = (
    "SELECT p.code FROM participants p JOIN identities i ON i.participant_code = p.code "
    "WHERE p.status = 'active' AND p.contact_ok = 1"
)
UNSENT = "('pending', 'claimed')"


def stamp(when: datetime) -> str:
    """Return a time as UTC text whose order is the order of the times."""
    if when.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware time; got {when!r}")
    return when.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def audience_sql(audience: str) -> tuple[str, tuple[Any, ...]]:
    """Return the query for who an audience takes in now, with its arguments."""
    earlier = earlier_round(audience)
    if earlier is not None:
        return (
            CONTACTABLE_SQL + " AND EXISTS (SELECT 1 FROM runs r "
            "WHERE r.participant_code = p.code AND r.round_id = ?)",
            (earlier,),
        )
    if audience != CONTACTABLE:
        raise ValueError(f"unknown audience {audience!r}")
    return CONTACTABLE_SQL, ()


def insert_follow_ups(
    db: sqlite3.Connection,
    participant_code: str,
    run_id: int,
    round_id: int | None,
    follow_ups: Sequence[tuple[int, str, datetime]],
) -> None:
    """Queue follow-up invitations (position, flow id, due at), in the caller's transaction."""
    for position, flow_id, due in follow_ups:
        db.execute(
            "INSERT INTO outbox (key, kind, participant_code, round_id, run_id, flow_id, "
            "due_at) VALUES (?, 'follow_up', ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            (
                f"follow_up:{run_id}:{position}",
                participant_code,
                round_id,
                run_id,
                flow_id,
                stamp(due),
            ),
        )


class RoundQueries(SQLiteBase):
    """Rounds and every proactive send, as rows that survive a restart."""

    async def create_round(
        self, new: NewRound, now: datetime, audit: Callable[[int], Audit]
    ) -> Round:
        """Store a new round, scheduled to open, with the audit entry made from its id."""
        audience_sql(new.audience)  # refuse an unknown audience before storing it

        def write(db: sqlite3.Connection) -> int | None:
            cursor = db.execute(
                "INSERT INTO rounds (title, flow_id, opens_at, closes_at, audience, reminders, "
                "reminder_days, invitation, created_by, created_at, notify_chat, retention_days) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.title,
                    new.flow_id,
                    stamp(new.opens_at),
                    stamp(new.closes_at),
                    new.audience,
                    new.reminders,
                    new.reminder_days,
                    new.invitation,
                    new.created_by,
                    stamp(now),
                    new.notify_chat,
                    new.retention_days,
                ),
            )
            assert cursor.lastrowid is not None
            write_audit(db, audit(cursor.lastrowid))
            return cursor.lastrowid

        round_id = await self._atomic(write)
        assert round_id is not None
        made = await self.round(round_id)
        assert made is not None
        return made

    async def round(self, round_id: int) -> Round | None:
        """Return one round."""
        row = await self._one(f"SELECT {ROUND_COLUMNS} FROM rounds WHERE id = ?", (round_id,))
        return None if row is None else _round(row)

    async def rounds(self) -> list[Round]:
        """Return every round, newest first."""
        rows = await self._all(f"SELECT {ROUND_COLUMNS} FROM rounds ORDER BY id DESC")
        return [_round(row) for row in rows]

    async def audience_size(self, audience: str) -> int:
        """Count who a round with this audience would invite now."""
        sql, args = audience_sql(audience)
        row = await self._one(f"SELECT COUNT(*) FROM ({sql})", args)
        return int(row[0])

    async def open_due_rounds(self, now: datetime) -> list[Round]:
        """Open each scheduled round whose time has come: queue one invitation per person."""
        rows = await self._all(
            f"SELECT {ROUND_COLUMNS} FROM rounds WHERE status = 'scheduled' AND opens_at <= ? "
            "ORDER BY opens_at, id",
            (stamp(now),),
        )
        opened = []
        for due in (_round(row) for row in rows):
            if await self._open_round(due, now):
                opened.append(due)
        return opened

    async def _open_round(self, due: Round, now: datetime) -> bool:
        """Open a round and queue its invitations; False if it was no longer scheduled."""
        sql, args = audience_sql(due.audience)

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "UPDATE rounds SET status = 'open' WHERE id = ? AND status = 'scheduled'",
                (due.id,),
            )
            if cursor.rowcount != 1:
                return False
            db.execute(
                "INSERT INTO outbox (key, kind, participant_code, round_id, flow_id, due_at) "
                "SELECT 'invitation:' || ? || ':' || code, 'invitation', code, ?, ?, ? "
                f"FROM ({sql}) WHERE true ON CONFLICT (key) DO NOTHING",
                (due.id, due.id, due.flow_id, stamp(max(due.opens_at, now)), *args),
            )
            return True

        return await self._atomic(write)

    async def close_due_rounds(self, now: datetime) -> list[Round]:
        """Close each open round whose closing time has passed."""
        rows = await self._all(
            f"SELECT {ROUND_COLUMNS} FROM rounds WHERE status = 'open' AND closes_at <= ? "
            "ORDER BY closes_at, id",
            (stamp(now),),
        )
        closed = []
        for row in rows:
            if await self.end_round(int(row[0]), "closed", now, None):
                closed.append(_round(row))
        return closed

    async def end_round(
        self, round_id: int, status: RoundStatus, now: datetime, audit: Audit | None
    ) -> bool:
        """Close or cancel a round: drop unsent invitations and reminders, tell those mid-way.

        A person's close or cancel is audited in the same transaction (a round closing at its
        time is not); False (and nothing audited) if it had already ended.
        """

        def write(db: sqlite3.Connection) -> bool:
            row = db.execute("SELECT status FROM rounds WHERE id = ?", (round_id,)).fetchone()
            if row is None or row[0] not in ("scheduled", "open"):
                return False
            was_open = row[0] == "open"
            db.execute(
                "UPDATE rounds SET status = ?, closed_at = ? WHERE id = ?",
                (status, stamp(now), round_id),
            )
            db.execute(
                f"UPDATE outbox SET status = 'skipped', last_error = ?, lease_until = NULL "
                "WHERE round_id = ? AND kind IN ('invitation', 'reminder') "
                f"AND status IN {UNSENT}",
                (f"round {status}", round_id),
            )
            if was_open:
                # Everyone part-way through is told the round has closed, and thanked.
                db.execute(
                    "INSERT INTO outbox (key, kind, participant_code, round_id, run_id, due_at) "
                    "SELECT 'closed:' || ? || ':' || r.participant_code, 'closed', "
                    "r.participant_code, ?, r.id, ? FROM runs r "
                    "WHERE r.round_id = ? AND r.status != 'completed' "
                    "ON CONFLICT (key) DO NOTHING",
                    (round_id, round_id, stamp(now), round_id),
                )
            if audit is not None:
                write_audit(db, audit)
            return True

        return await self._atomic(write)

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[OutboxItem]:
        """Claim due sends (and ones whose claim expired) until the lease ends."""
        moment = stamp(now)

        def write(db: sqlite3.Connection) -> list[Any]:
            due = db.execute(
                "SELECT id FROM outbox WHERE status IN ('pending', 'claimed') AND "
                "((status = 'pending' AND due_at <= ?) "
                "OR (status = 'claimed' AND lease_until <= ?)) ORDER BY due_at, id LIMIT ?",
                (moment, moment, limit),
            ).fetchall()
            ids = [int(row[0]) for row in due]
            if not ids:
                return []
            marks = ", ".join("?" * len(ids))
            # A claim found still claimed belonged to a process that died mid-send.
            db.execute(
                "UPDATE outbox SET recovered = recovered OR status = 'claimed', "
                "status = 'claimed', lease_until = ?, attempts = attempts + 1 "
                f"WHERE id IN ({marks})",
                (stamp(lease_until), *ids),
            )
            return db.execute(
                f"SELECT {ITEM_COLUMNS} {ITEM_FROM} WHERE o.id IN ({marks}) "
                "ORDER BY o.due_at, o.id",
                ids,
            ).fetchall()

        rows = await self._atomic(write)
        return [_item(row) for row in rows]

    async def expire_claims(self, now: datetime) -> int:
        """End every lease now (at start-up no send can be in flight); count them."""

        def write(db: sqlite3.Connection) -> int:
            cursor = db.execute(
                "UPDATE outbox SET lease_until = ? WHERE status = 'claimed'", (stamp(now),)
            )
            return cursor.rowcount

        return await self._atomic(write)

    async def outbox_item(self, item_id: int) -> OutboxItem | None:
        """Return one send with its participant's current state."""
        row = await self._one(f"SELECT {ITEM_COLUMNS} {ITEM_FROM} WHERE o.id = ?", (item_id,))
        return None if row is None else _item(row)

    async def mark_sent(self, item_id: int, now: datetime) -> None:
        """Record a send as done; an invitation's reminders are queued from now."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, lease_until = NULL, "
                "last_error = NULL WHERE id = ?",
                (stamp(now), item_id),
            )
            row = db.execute(
                "SELECT o.participant_code, r.id, r.reminders, r.reminder_days, r.closes_at "
                "FROM outbox o JOIN rounds r ON r.id = o.round_id "
                "WHERE o.id = ? AND o.kind = 'invitation'",
                (item_id,),
            ).fetchone()
            if row is None:
                return
            code, round_id, reminders, days, closes_at = row
            for number in range(1, int(reminders) + 1):
                due = now + timedelta(days=float(days) * number)
                if stamp(due) >= closes_at:
                    break
                db.execute(
                    "INSERT INTO outbox (key, kind, participant_code, round_id, flow_id, due_at) "
                    "SELECT ?, 'reminder', ?, ?, flow_id, ? FROM outbox WHERE id = ? "
                    "ON CONFLICT (key) DO NOTHING",
                    (f"reminder:{round_id}:{code}:{number}", code, round_id, stamp(due), item_id),
                )

        await self._atomic(write)

    async def retry_later(self, item_id: int, due_at: datetime, error: str) -> None:
        """Put a claimed send back, due again later."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE outbox SET status = 'pending', due_at = ?, last_error = ?, "
                "lease_until = NULL WHERE id = ? AND status = 'claimed'",
                (stamp(due_at), error, item_id),
            )

        await self._atomic(write)

    async def give_up(self, item_id: int, status: OutboxStatus, reason: str) -> None:
        """Record that a send failed or is no longer wanted."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE outbox SET status = ?, last_error = ?, lease_until = NULL WHERE id = ?",
                (status, reason, item_id),
            )

        await self._atomic(write)

    async def mark_unreachable(self, participant_code: str) -> None:
        """Note that a participant cannot be reached; drop every send waiting for them."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE participants SET status = 'unreachable' WHERE code = ?",
                (participant_code,),
            )
            _drop_unsent(db, participant_code, "unreachable")

        await self._atomic(write)

    async def stop_participant(self, participant_code: str, now: datetime) -> int:
        """Stop every proactive message to a participant, now and later; count those dropped."""

        def write(db: sqlite3.Connection) -> int:
            db.execute(
                "UPDATE participants SET status = 'stopped', contact_ok = 0, "
                "contact_changed_at = ? WHERE code = ?",
                (now.isoformat(), participant_code),
            )
            return _drop_unsent(db, participant_code, "stopped")

        return await self._atomic(write)

    async def waiting_for(self, participant_code: str) -> list[OutboxItem]:
        """Return the proactive sends still waiting for a participant, soonest first."""
        rows = await self._all(
            f"SELECT {ITEM_COLUMNS} {ITEM_FROM} WHERE o.participant_code = ? "
            f"AND o.status IN {UNSENT} ORDER BY o.due_at, o.id",
            (participant_code,),
        )
        return [_item(row) for row in rows]

    async def decline(self, item_id: int, participant_code: str, now: datetime) -> bool:
        """Record "not this time" for an invitation; False if it was already recorded."""

        def write(db: sqlite3.Connection) -> bool:
            row = db.execute(
                "SELECT round_id FROM outbox WHERE id = ? AND participant_code = ?",
                (item_id, participant_code),
            ).fetchone()
            if row is None:
                return False
            round_id = row[0]
            if round_id is not None:
                declined = db.execute(
                    "SELECT 1 FROM declines WHERE round_id = ? AND participant_code = ?",
                    (round_id, participant_code),
                ).fetchone()
                if declined is not None:
                    return False
            cursor = db.execute(
                "INSERT INTO declines (outbox_id, participant_code, round_id, declined_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (outbox_id) DO NOTHING",
                (item_id, participant_code, round_id, stamp(now)),
            )
            if round_id is not None:
                db.execute(
                    f"UPDATE outbox SET status = 'skipped', last_error = 'declined' "
                    f"WHERE round_id = ? AND participant_code = ? AND kind = 'reminder' "
                    f"AND status IN {UNSENT}",
                    (round_id, participant_code),
                )
            return cursor.rowcount == 1

        return await self._atomic(write)

    async def has_declined(self, participant_code: str, round_id: int) -> bool:
        """Say whether a participant said "not this time" to a round."""
        row = await self._one(
            "SELECT 1 FROM declines WHERE participant_code = ? AND round_id = ?",
            (participant_code, round_id),
        )
        return row is not None

    async def round_run_id(self, participant_code: str, round_id: int) -> int | None:
        """Return the participant's run in a round, if they started one."""
        row = await self._one(
            "SELECT id FROM runs WHERE participant_code = ? AND round_id = ? "
            "ORDER BY id DESC LIMIT 1",
            (participant_code, round_id),
        )
        return None if row is None else int(row[0])

    async def invitation_run_id(self, participant_code: str, item_id: int) -> int | None:
        """Return the run a participant started from an invitation outside any round."""
        row = await self._one(
            "SELECT id FROM runs WHERE participant_code = ? AND invitation_id = ? "
            "ORDER BY id DESC LIMIT 1",
            (participant_code, item_id),
        )
        return None if row is None else int(row[0])

    async def round_figures(self, round_id: int) -> RoundFigures:
        """Count eligible, invited, started, completed, declined, stopped and failed."""
        row = await self._one(ROUND_FIGURES_SQL, (round_id,))
        return round_figures_from(row)

    async def send_tally(self, round_id: int, kind: OutboxKind) -> SendTally:
        """Count one kind of send for a round by how it went."""
        row = await self._one(
            "SELECT COUNT(*), COALESCE(SUM(status = 'sent'), 0), "
            "COALESCE(SUM(status = 'failed'), 0), COALESCE(SUM(status = 'skipped'), 0) "
            "FROM outbox WHERE round_id = ? AND kind = ?",
            (round_id, kind),
        )
        return SendTally(*(int(value) for value in row))

    async def feedback_audience(self, round_id: int) -> int:
        """Count who a round's "you said, we did" message would reach."""
        row = await self._one(f"SELECT COUNT(*) FROM ({_FEEDBACK_SQL})", (round_id,))
        return int(row[0])

    async def queue_feedback(
        self, round_id: int, text: str, now: datetime, audit: Callable[[int], Audit]
    ) -> int:
        """Keep the feedback text and queue it to those who took part; count them.

        Audited in the same transaction, with the entry made from the count.
        """

        def write(db: sqlite3.Connection) -> int:
            db.execute(
                "UPDATE rounds SET feedback = ?, feedback_at = ? WHERE id = ?",
                (text, stamp(now), round_id),
            )
            cursor = db.execute(
                "INSERT INTO outbox (key, kind, participant_code, round_id, due_at) "
                "SELECT 'feedback:' || ? || ':' || code, 'feedback', code, ?, ? "
                f"FROM ({_FEEDBACK_SQL}) WHERE true ON CONFLICT (key) DO NOTHING",
                (round_id, round_id, stamp(now), round_id),
            )
            write_audit(db, audit(cursor.rowcount))
            return cursor.rowcount

        return await self._atomic(write)

    async def queue_follow_ups(
        self,
        participant_code: str,
        run_id: int,
        round_id: int | None,
        follow_ups: Sequence[tuple[int, str, datetime]],
    ) -> None:
        """Queue follow-up invitations (position, flow id, due at) after a completed run."""
        await self._atomic(
            lambda db: insert_follow_ups(db, participant_code, run_id, round_id, follow_ups)
        )

    async def set_progress_message(self, round_id: int, message_id: int | None) -> None:
        """Remember the message that shows a round's sending progress."""

        def write(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE rounds SET progress_message_id = ? WHERE id = ?", (message_id, round_id)
            )

        await self._atomic(write)


# Who took part in a round and still wants to hear from us.
_FEEDBACK_SQL = (
    f"{CONTACTABLE_SQL} AND EXISTS (SELECT 1 FROM runs r "
    "WHERE r.participant_code = p.code AND r.round_id = ?)"
)


def _drop_unsent(db: sqlite3.Connection, participant_code: str, reason: str) -> int:
    cursor = db.execute(
        f"UPDATE outbox SET status = 'skipped', last_error = ?, lease_until = NULL "
        f"WHERE participant_code = ? AND status IN {UNSENT}",
        (reason, participant_code),
    )
    return cursor.rowcount


def _round(row: Any) -> Round:
    return Round(
        id=int(row[0]),
        title=str(row[1]),
        flow_id=str(row[2]),
        opens_at=datetime.fromisoformat(row[3]),
        closes_at=datetime.fromisoformat(row[4]),
        audience=str(row[5]),
        reminders=int(row[6]),
        reminder_days=float(row[7]),
        invitation=row[8],
        status=row[9],
        created_by=str(row[10]),
        created_at=datetime.fromisoformat(row[11]),
        notify_chat=None if row[12] is None else int(row[12]),
        progress_message_id=None if row[13] is None else int(row[13]),
        closed_at=_time(row[14]),
        feedback=row[15],
        feedback_at=_time(row[16]),
        retention_days=None if row[17] is None else int(row[17]),
    )


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=int(row[0]),
        key=str(row[1]),
        kind=row[2],
        participant_code=str(row[3]),
        round_id=None if row[4] is None else int(row[4]),
        run_id=None if row[5] is None else int(row[5]),
        flow_id=row[6],
        due_at=datetime.fromisoformat(row[7]),
        status=row[8],
        attempts=int(row[9]),
        recovered=bool(row[10]),
        chat_id=int(row[11]),
        language=str(row[12]),
        participant_status=str(row[13]),
        contact_ok=bool(row[14]),
    )
