"""Read the bot's SQLite file from a test, on a connection of its own, closed after each read."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository


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


async def lived_in(
    database: Path, people: int, when: datetime, answers: int = 3, first_user: int = 500
) -> None:
    """Store `people` participants, each with a finished sample conversation."""
    from conversations.engine import RunState
    from conversations.loader import flow_to_json, load_flow_file
    from tests.support.bot_harness import SAMPLE_FLOWS

    item = load_flow_file(SAMPLE_FLOWS / "sample.yaml")
    flow = item.flow
    state = RunState(flow_id=flow.id, flow_version=flow.version, status="completed")
    repository = await SQLiteRepository.open(database)
    try:
        await repository.register_flow(
            flow.id, flow.version, item.content_hash, flow_to_json(flow), when
        )
        for n in range(people):
            who = await repository.enrol(
                user_id=first_user + n,
                chat_id=first_user + n,
                language="en",
                consent=ConsentGiven(flow.id, flow.version, 1),
                now=when,
            )
            run = await repository.start_run(who.code, flow.id, flow.version, "{}", when)
            said = [
                (f"q{k}", json.dumps(f"answer {k} of person {n} " * 8)) for k in range(answers)
            ]
            await repository.save(run.id, state.model_dump_json(), "completed", said, when)
    finally:
        await repository.close()


def overwrite_pages(database: Path, first: int, count: int) -> None:
    """Write garbage over `count` pages of the database from page `first` (1: the header)."""
    db = sqlite3.connect(database)
    try:
        size = int(db.execute("PRAGMA page_size").fetchone()[0])
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    garbage = bytes((n * 37 + 11) % 256 for n in range(size))
    with database.open("r+b") as file:
        for page in range(first, first + count):
            file.seek((page - 1) * size)
            file.write(garbage)
