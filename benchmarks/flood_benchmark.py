"""Flood fairness: another person's /help while one person sends 500 messages at once.

Run: python -m benchmarks.flood_benchmark [--flood N] [--tries N] [--latency-ms MS] [--no-doc]

`heard run` runs as a process against the fake Bot API server in a process of its own, with
100 ms added to every call (as on Telegram), everything on 127.0.0.1. Two people join through
the age and consent questions (not timed). Then, the baseline, measured in the same run: the
second person sends /help, --tries times, each once the last was answered. Then the flood,
--tries times: the first person sends --flood messages in one go (queued for getUpdates
together), the second sends /help straight after them, and the bot is left to catch up
before the next try. A /help is timed from the server queueing it to the server answering the
bot's sendMessage to that chat, both on the server's clock. The table goes to stdout and,
unless --no-doc, between this benchmark's markers in docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.bot_processes import HEARD, BotProcess, FakeServer, log
from benchmarks.conversation_load import READY_SECONDS, wait_ready
from benchmarks.load_driver import ControlClient, Driver, Person
from benchmarks.performance_doc import write_block

FLOODER, OTHER = 50_000_001, 50_000_002
RATE = 25.0  # HEARD_SEND_RATE as in production: 30 calls a second overall
ANSWER_SECONDS = 120.0  # the longest a /help may take before the run is given up
QUIET_SECONDS = 1.0  # no call for this long, every update confirmed: the bot has caught up
DOC_NAME = "flood-benchmark"
DOC_HEADING = "## Flood fairness (one person's flood delays nobody else)"


@dataclass(frozen=True)
class Figures:
    """What one run measured."""

    quiet: list[float]
    flooded: list[float]
    kept: int
    took: float


class Chat:
    """The fake server's control routes, with a cursor over what the bot sent."""

    def __init__(self, client: ControlClient, cursor: int) -> None:
        self.client = client
        self.cursor = cursor

    async def help_after(self, actions: list[dict[str, Any]]) -> float:
        """Queue the actions, then the other person's /help; return the seconds to its answer."""
        stamps = await self.client.inject([*actions, {"user": OTHER, "text": "/help"}])
        asked = stamps[-1]
        assert asked is not None
        deadline = time.monotonic() + ANSWER_SECONDS
        while time.monotonic() < deadline:
            self.cursor, events = await self.client.events(self.cursor, 2.0)
            answers = [at for chat, _, at, _ in events if chat == OTHER]
            if answers:
                return float(answers[0]) - asked
        raise RuntimeError(f"/help had no answer after {ANSWER_SECONDS:g} s")

    async def caught_up(self, bound: float) -> None:
        """Wait (bounded) until every update is confirmed and no call came for a while."""
        deadline = time.monotonic() + bound
        seen = await self.client.calls()
        while time.monotonic() < deadline:
            await asyncio.sleep(QUIET_SECONDS)
            now = await self.client.calls(seen["cursor"])
            if now["pending"] == 0 and now["cursor"] == seen["cursor"]:
                self.cursor = max(self.cursor, int(now["cursor"]))
                return
            seen = now
        raise RuntimeError(f"the bot had not caught up after {bound:g} s")


def kept_in(database: Path) -> int:
    """Count the messages kept aside in a flood, through a read-only connection."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        row = db.execute("SELECT COUNT(*) FROM kept_messages WHERE why = 'flood'").fetchone()
    return int(row[0])


async def drive(folder: Path, flood: int, tries: int, latency_ms: float) -> Figures:
    """Start the server and the bot, onboard two people, time /help without and with floods."""
    started = time.monotonic()
    # The bot may take a while to catch up with a flood: up to ~3 calls a message queued.
    catch_up = 60.0 + flood * 3 * latency_ms / 1000
    with (
        FakeServer(folder, latency_ms) as server,
        BotProcess(HEARD, server, folder, RATE) as bot,
    ):
        async with ControlClient(server.control_port) as client:
            await wait_ready(client, bot, READY_SECONDS)
            driver = Driver(client, bot.alive)
            people = [Person(user, HEARD.onboarding_presses) for user in (FLOODER, OTHER)]
            if await driver.onboard(people, time.monotonic() + READY_SECONDS) < len(people):
                raise RuntimeError(f"the two people could not join:\n{bot.tail()}")
            chat = Chat(client, driver.cursor)
            await chat.caught_up(catch_up)
            log(f"baseline: /help {tries} times, no flood")
            quiet = []
            for _ in range(tries):
                quiet.append(await chat.help_after([]))
                await chat.caught_up(catch_up)
            flooded = []
            for n in range(tries):
                log(f"flood {n + 1} of {tries}: {flood} messages, then /help")
                messages = [
                    {"user": FLOODER, "text": f"flood {n}, message {m}"} for m in range(flood)
                ]
                flooded.append(await chat.help_after(messages))
                await chat.caught_up(catch_up)
    return Figures(quiet, flooded, kept_in(bot.database), time.monotonic() - started)


def table(figures: Figures, flood: int, latency_ms: float) -> list[str]:
    """Return the benchmark's table: /help without and during a flood, against the baseline."""
    base = statistics.median(figures.quiet)
    lines = [
        f"Flood fairness: another person's /help while one person sends {flood} messages at "
        f"once ({latency_ms:g} ms a call, HEARD_SEND_RATE={RATE:g})",
        f"{'what':<34}{'tries':>6}{'median s':>10}{'max s':>8}{'x base':>8}{'max x base':>12}",
    ]
    rows = (
        ("no flood (baseline)", figures.quiet),
        (f"during a {flood}-message flood", figures.flooded),
    )
    for name, seconds in rows:
        median, most = statistics.median(seconds), max(seconds)
        lines.append(
            f"{name:<34}{len(seconds):>6}{median:>10.2f}{most:>8.2f}"
            f"{median / base:>8.2f}{most / base:>12.2f}"
        )
    per_flood = figures.kept / max(len(figures.flooded), 1)
    lines.append(
        f"flood messages kept aside (why 'flood'): {figures.kept:,} ({per_flood:.0f} a flood)"
    )
    return lines


def main() -> None:
    """Run the benchmark, print its table and record it in docs/performance.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=500, help="messages in each flood")
    parser.add_argument("--tries", type=int, default=5, help="/help timings of each kind")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="added to every call")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="heard-flood-"))
    try:
        figures = asyncio.run(drive(folder, args.flood, args.tries, args.latency_ms))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lines = table(figures, args.flood, args.latency_ms)
    log(f"done in {figures.took:.0f} s")
    text = "\n".join(lines)
    print(text)
    if not args.no_doc:
        command = " ".join(["python -m benchmarks.flood_benchmark", *sys.argv[1:]])
        body = (
            f"Measured {time.strftime('%Y-%m-%d')} (2 cores), `{command}` "
            f"({figures.took:.0f} s):\n\n```\n{text}\n```"
        )
        write_block(DOC_NAME, DOC_HEADING, body)


if __name__ == "__main__":
    main()
