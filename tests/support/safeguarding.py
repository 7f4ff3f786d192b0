"""Wait for what the safeguarding sweep does, from tests (it runs beside the update)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from tests.support.database import rows
from tests.support.fake_telegram import BotMessage, FakeTelegram

POLL = 0.02


async def until(holds: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Wait, looking every 20 ms, until a condition holds (the database, say); bounded."""
    deadline = time.monotonic() + timeout
    while not holds():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(POLL)


async def alerts_in(
    fake: FakeTelegram,
    chat_id: int,
    count: int = 1,
    timeout: float = 10.0,  # noqa: ASYNC109 - bounded waits are the point
) -> list[BotMessage]:
    """Wait until `count` messages are in a staff chat; return every message there."""
    await fake.wait_for(lambda: len(fake.chat_messages(chat_id)) >= count, timeout=timeout)
    return fake.chat_messages(chat_id)


async def flags_alerted(
    fake: FakeTelegram,
    database: Path,
    timeout: float = 10.0,  # noqa: ASYNC109 - bounded waits are the point
) -> None:
    """Wait until every stored flag is noted as alerted."""

    def done() -> bool:
        found = rows(database, "SELECT alerted_at FROM flags")
        return bool(found) and all(at is not None for (at,) in found)

    await until(done, timeout)


async def query_gives(
    database: Path,
    sql: str,
    expected: list[tuple[object, ...]],
    timeout: float = 10.0,  # noqa: ASYNC109 - bounded waits are the point
) -> None:
    """Wait until a query on the database gives the expected rows."""
    await until(lambda: rows(database, sql) == expected, timeout)
