"""Set-up for tests of coordinators' rounds: participants, rounds in storage, database reads."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from storage.rounds import NewRound
from storage.sqlite import SQLiteRepository
from tests.support.audit import entry_from
from tests.support.chat_user import ChatUser


def rows(database: Path, sql: str, args: tuple[object, ...] = ()) -> list[tuple]:
    """Read rows with a connection of the test's own."""
    db = sqlite3.connect(database)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def code_of(database: Path, user_id: int) -> str:
    """Return a participant's code from their Telegram id."""
    [(code,)] = rows(
        database, "SELECT participant_code FROM identities WHERE telegram_user_id = ?", (user_id,)
    )
    return str(code)


async def joined(user: ChatUser) -> None:
    """Agree to take part: the participant is now part-way through the sample conversation."""
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")


async def at_free_text(user: ChatUser) -> ChatUser:
    """Agree, then answer "No": the participant is at the free-text question "Why not?"."""
    await joined(user)
    await user.press("No")
    assert "Why not?" in user.last_text()
    return user


async def member(user: ChatUser, contact: bool = True) -> ChatUser:
    """Finish the sample conversation and answer the question about being contacted."""
    await joined(user)
    await user.press("No")
    await user.send("Too far away")
    await user.send("Closer clinics")
    await user.send("/skip")
    await user.press("Yes, message me" if contact else "No, thank you")
    return user


@asynccontextmanager
async def repository(database: Path) -> AsyncIterator[SQLiteRepository]:
    """Open the bot's database alongside the running bot."""
    repo = await SQLiteRepository.open(database)
    try:
        yield repo
    finally:
        await repo.close()


async def stored_round(database: Path, now: datetime, title: str = "Winter services") -> int:
    """Store a round that opens a day from now and closes two weeks later; return its id."""
    async with repository(database) as repo:
        made = await repo.create_round(
            NewRound(
                title=title,
                flow_id="sample",
                opens_at=now + timedelta(days=1),
                closes_at=now + timedelta(days=15),
                created_by="staff:1",
            ),
            now,
            entry_from(now),
        )
    return made.id


async def opened(database: Path, now: datetime) -> None:
    """Open every round due by a day from now, queueing its invitations (due then, not now)."""
    async with repository(database) as repo:
        await repo.open_due_rounds(now + timedelta(days=1))


def took_part(database: Path, user_id: int, round_id: int) -> None:
    """Count a participant's runs as part of a round, as if they came from its invitation."""
    db = sqlite3.connect(database)
    try:
        with db:
            db.execute(
                "UPDATE runs SET round_id = ? WHERE participant_code = ?",
                (round_id, code_of(database, user_id)),
            )
    finally:
        db.close()
