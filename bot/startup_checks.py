"""Checks before the bot starts: a damaged database, or a clock behind what is stored.

A damaged database otherwise shows itself to participants, one failed answer at a time; a
clock behind the newest stored time means the clock is wrong now or was wrong when that was
written, and either way reminders, retention and the purge would go by the wrong time.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.vitals import Activity

# A clock set right by a few seconds (or minutes) must not stop the bot.
CLOCK_SLACK = timedelta(minutes=10)
RESTORE_HINT = "restore the newest good backup with `heard restore PATH` (README: Backups)"


def database_damage(database: Path) -> str | None:
    """Return one line saying how the database is damaged (`PRAGMA quick_check`), or None."""
    if not database.is_file():
        return None  # a new database, made at start-up
    try:
        connection = sqlite3.connect(database, timeout=5)
    except sqlite3.Error as error:
        return _damaged(database, str(error))
    try:
        found = [str(row[0]) for row in connection.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as error:
        return _damaged(database, str(error))
    finally:
        connection.close()
    if found == ["ok"]:
        return None
    return _damaged(database, "; ".join(found[:2]))


def clock_problem(activity: Activity, now: datetime) -> str | None:
    """Return one line if the clock is before the newest stored time, else None."""
    newest = activity.newest
    if newest is None or now >= newest - CLOCK_SLACK:
        return None
    return (
        f"the clock says {_shown(now)}, but the database holds data written at {_shown(newest)}: "
        "the clock is wrong now, or was when that was written; set the system clock right "
        "before starting the bot (nothing has been changed)"
    )


def _damaged(database: Path, why: str) -> str:
    why = " ".join(why.split())
    return f"HEARD_DATABASE: {database} is damaged ({why}): {RESTORE_HINT}"


def _shown(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
