"""Read the bot's SQLite file from a test, on a connection of its own, closed after each read."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def unshown(database: Path | str) -> None:
    """Mark every run as needing delivery: stored, but its question perhaps never shown.

    As after a crash, or Telegram failing, between storing an answer and showing the next.
    """
    db = sqlite3.connect(database)
    try:
        with db:
            db.execute("UPDATE runs SET needs_delivery = 1")
    finally:
        db.close()


def rows(database: Path | str, sql: str, args: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Return every row the query gives, read on a fresh connection."""
    db = sqlite3.connect(database)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()
