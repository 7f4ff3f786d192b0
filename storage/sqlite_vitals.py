"""The database's vital signs, in SQLite: how many runs, and the newest participant data."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from storage.repository import AuditEntry
from storage.sqlite_base import SQLiteBase
from storage.vitals import Activity

# Times written from the bot's clock when someone takes part. Not the audit log: commands run
# by hand write it too, and not the outbox or rounds, whose times are often in the future.
# Not answers either: each is saved with its run's `updated_at`, and the table is the largest.
WRITTEN_AT = (
    ("participants", "created_at"),
    ("consents", "given_at"),
    ("runs", "updated_at"),
    ("runs", "completed_at"),
    ("flags", "created_at"),
)

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNIX_EPOCH_JULIAN = 2440587.5


class VitalsQueries(SQLiteBase):
    """How much there is and how recent it is, for the start-up and purge checks."""

    async def activity(self) -> Activity:
        """Return how many runs there are and when participant data was last written."""
        newest = ", ".join(f"(SELECT MAX(julianday({c})) FROM {t})" for t, c in WRITTEN_AT)
        row = await self._one(f"SELECT (SELECT COUNT(*) FROM runs), {newest}")
        days = [day for day in row[1:] if day is not None]
        return Activity(int(row[0]), _from_julian(max(days)) if days else None)

    async def latest_audit(self, actions: Sequence[str]) -> AuditEntry | None:
        """Return the newest audit entry with one of these actions, if any."""
        marks = ", ".join("?" for _ in actions)
        row = await self._one(
            "SELECT id, at, actor, action, detail FROM audit_log "
            f"WHERE action IN ({marks}) ORDER BY id DESC LIMIT 1",
            tuple(actions),
        )
        if row is None:
            return None
        return AuditEntry(int(row[0]), datetime.fromisoformat(row[1]), row[2], row[3], row[4])


def _from_julian(day: float) -> datetime:
    """Turn an SQLite julianday number into a UTC time, to the millisecond as SQLite keeps it."""
    return UNIX_EPOCH + timedelta(milliseconds=round((day - UNIX_EPOCH_JULIAN) * 86_400_000))
