"""Staff roles and the audit log, in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from storage.audit import Audit
from storage.repository import AuditEntry, Role, StaffRole
from storage.sqlite_base import SQLiteBase


def write_audit(db: sqlite3.Connection, audit: Audit) -> None:
    """Append `audit` to the audit log inside the transaction that did the act."""
    db.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
        (audit.at.isoformat(), audit.actor, audit.action, audit.detail),
    )


class StaffQueries(SQLiteBase):
    """Who holds which role, and what privileged things were done."""

    async def grant_role(self, user_id: int, role: Role, granted_by: int, audit: Audit) -> bool:
        """Give a user a role, audited; False (and nothing audited) if they already had it."""

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "INSERT INTO staff_roles (telegram_user_id, role, granted_by, granted_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (telegram_user_id, role) DO NOTHING",
                (user_id, role, granted_by, audit.at.isoformat()),
            )
            if cursor.rowcount != 1:
                return False
            write_audit(db, audit)
            return True

        return await self._atomic(write)

    async def revoke_role(self, user_id: int, role: Role, audit: Audit) -> bool:
        """Take a role away, audited; False (and nothing audited) if they did not have it."""

        def write(db: sqlite3.Connection) -> bool:
            cursor = db.execute(
                "DELETE FROM staff_roles WHERE telegram_user_id = ? AND role = ?", (user_id, role)
            )
            if cursor.rowcount != 1:
                return False
            write_audit(db, audit)
            return True

        return await self._atomic(write)

    async def roles_of(self, user_id: int) -> set[Role]:
        """Return the roles a user holds in the database."""
        rows = await self._all(
            "SELECT role FROM staff_roles WHERE telegram_user_id = ?", (user_id,)
        )
        return {row[0] for row in rows}

    async def staff_roles(self) -> list[StaffRole]:
        """Return every role held, by user then role."""
        rows = await self._all(
            "SELECT telegram_user_id, role, granted_by, granted_at FROM staff_roles "
            "ORDER BY telegram_user_id, role"
        )
        return [StaffRole(int(r[0]), r[1], int(r[2]), datetime.fromisoformat(r[3])) for r in rows]

    async def audit(self, actor: str, action: str, detail: str, now: datetime) -> None:
        """Append an entry to the audit log, for an act that wrote nothing else (a view)."""
        entry = Audit(actor, action, detail, now)
        await self._atomic(lambda db: write_audit(db, entry))

    async def audit_entries(self, limit: int = 50) -> list[AuditEntry]:
        """Return the newest audit entries, newest first."""
        rows = await self._all(
            "SELECT id, at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            AuditEntry(int(r[0]), datetime.fromisoformat(r[1]), r[2], r[3], r[4]) for r in rows
        ]
