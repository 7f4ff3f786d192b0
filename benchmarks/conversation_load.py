"""Benchmark 1, one bot at a time: N people answer a ten-question survey as fast as it replies.

Each bot gets a fresh fake server and a fresh folder. Its participants first /start and press
through any intro until their first question (not timed); then all of them answer at once, and
each answers the next question as soon as it arrives, until every one has answered them all.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bot_processes import BotKind, BotProcess, FakeServer, log
from benchmarks.load_driver import Answers, ControlClient, Driver, Person
from benchmarks.process_stats import usage
from benchmarks.survey import script

READY_SECONDS = 60.0
SETTLE_SECONDS = 0.3
SETTLE_BOUND = 10.0
FIRST_USER = 30_000_000


@dataclass(frozen=True)
class Measured:
    """What one bot did with one burst of answers."""

    name: str
    answers: Answers
    cpu_seconds: float
    peak_kb: int
    calls: dict[str, list[int]]
    stored: int | None
    ready_seconds: float
    # CPU seconds the fake server and this driver used during the burst: if either came near
    # the burst's length, the bench, not the bot, would be the limit.
    server_cpu: float
    driver_cpu: float

    @property
    def rate(self) -> float:
        """Return answers a second, from the first answer queued to the last reply."""
        return len(self.answers.latencies) / self.answers.seconds

    def per_answer(self, method: str | None = None) -> float:
        """Return Bot API calls per answer (all but getUpdates, or one method's)."""
        count = len(self.answers.latencies) or 1
        if method is not None:
            return sum(self.calls.get(method, [0, 0])) / count
        return sum(sum(n) for m, n in self.calls.items() if m != "getUpdates") / count


def shapes() -> list[list[int]]:
    """Return each question's keyboard shape (buttons per row), then the end's (none)."""
    return [[len(row) for row in asked.rows] for asked in script().asked] + [[]]


async def wait_ready(client: ControlClient, bot: BotProcess, bound: float) -> float:
    """Wait until the bot's first long poll; return the seconds since it was started."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if not bot.alive():
            raise RuntimeError(f"{bot.kind.name} stopped at start-up:\n{bot.tail()}")
        at = await client.ready(min(2.0, deadline - time.monotonic()))
        if at is not None:
            return at - bot.started_at
    raise RuntimeError(f"{bot.kind.name} was not polling after {bound:g} s:\n{bot.tail()}")


async def settle(client: ControlClient) -> int:
    """Wait (bounded) until every update is confirmed and no call comes for a moment."""
    deadline = time.monotonic() + SETTLE_BOUND
    seen = await client.calls()
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_SECONDS)
        now = await client.calls(seen["cursor"])
        if now["pending"] == 0 and now["cursor"] == seen["cursor"]:
            break
        seen = now
    return int(seen["cursor"])


def stored_answers(database: Path) -> int:
    """Count the answers in Heard's database, through a read-only connection."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        row = db.execute("SELECT COUNT(*) FROM answers").fetchone()
    return int(row[0])


async def drive(
    kind: BotKind, folder: Path, participants: int, answers: int, rate: float, latency_ms: float
) -> Measured:
    """Run one bot, onboard the participants, time their answers; return the figures."""
    bound = 120.0 + participants * answers / 5.0 * (1 + latency_ms / 10)
    with FakeServer(folder, latency_ms) as server, BotProcess(kind, server, folder, rate) as bot:
        async with ControlClient(server.control_port) as client:
            ready = await wait_ready(client, bot, READY_SECONDS)
            driver = Driver(client, bot.alive)
            people = [Person(FIRST_USER + n, kind.onboarding_presses) for n in range(participants)]
            onboarded = await driver.onboard(people, time.monotonic() + bound)
            if onboarded < participants:
                raise RuntimeError(f"{kind.name}: {onboarded} of {participants} got question 1")
            start = await settle(client)
            driver.cursor = start
            before = usage(bot.pid)
            server_before, driver_before = usage(server.pid), usage()
            burst = await driver.answer(people, answers, time.monotonic() + bound, shapes())
            server_cpu = usage(server.pid).cpu_seconds - server_before.cpu_seconds
            driver_cpu = usage().cpu_seconds - driver_before.cpu_seconds
            await settle(client)
            after = usage(bot.pid)
            calls = (await client.calls(start))["methods"]
    stored = stored_answers(bot.database) if bot.database.exists() else None
    if burst.lost or burst.unexpected:
        log(f"{kind.name}: {burst.lost} answers lost, {burst.unexpected} unexpected replies")
    cpu = after.cpu_seconds - before.cpu_seconds
    return Measured(
        kind.name, burst, cpu, after.peak_kb, calls, stored, ready, server_cpu, driver_cpu
    )


def measure(
    kind: BotKind, participants: int, answers: int, rate: float, latency_ms: float = 0.0
) -> Measured:
    """Measure one bot in a temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="heard-throughput-"))
    try:
        log(
            f"{kind.name}: {participants} people x {answers} answers, send rate {rate:g}, "
            f"{latency_ms:g} ms a call"
        )
        return asyncio.run(drive(kind, folder, participants, answers, rate, latency_ms))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
