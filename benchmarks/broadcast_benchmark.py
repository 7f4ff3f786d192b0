"""Broadcast benchmark: a round's invitations to 10,000 people, against a bare PTB baseline.

Run: python -m benchmarks.broadcast_benchmark [--participants N] [--rate R]
With neither option it runs two scenarios: 10,000 invitations at 200 a second (to measure the
dispatcher, not the wait) and 1,000 at 25 a second (the pace Heard would use on Telegram).

Everything is on 127.0.0.1, in separate processes: the fake Bot API server
(benchmarks.fake_server_process), `heard run`, and the baseline (benchmarks.broadcast_baseline,
a bare python-telegram-bot bot with the same rate limiter and pacer, no database). The server
answers 429 whenever more than LIMIT_FACTOR x the configured rate of sends fall within any one
second, as Telegram's flood control does at about 30 a second.

Prints a table per scenario: the achieved rate (accepted invitations over the time from the
first to the last, at the server) as a fraction of the configured rate (target >= 0.95) and of
the baseline's, 429s (target 0), duplicates (target 0), people never invited (target 0) and
peak resident memory (VmHWM) of the sending process. Targets: issue 3 and issue 6, benchmark 3.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from benchmarks.bot_processes import DATABASE_NAME, environment
from benchmarks.fake_server_process import TOKEN
from benchmarks.process_stats import Usage, usage
from bot.flows import FlowLibrary
from storage.audit import Audit
from storage.repository import ConsentGiven
from storage.rounds import NewRound
from storage.sqlite import SQLiteRepository

ROOT = Path(__file__).resolve().parents[1]
FLOW = "community-mental-health"
# The fake server allows 10% above the configured rate within any one second: room for the
# jitter of loopback HTTP, little enough that a pacer that bursts is caught.
LIMIT_FACTOR = 1.1
HEARD_CHATS = 10_000_000
BASELINE_CHATS = 20_000_000
DEFAULT_SCENARIOS = ((10_000, 200.0), (1_000, 25.0))
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Figures:
    """What the server saw of one sender's invitations."""

    accepted: int
    seconds: float
    longest_gap: float
    too_many: int
    other_errors: int
    duplicates: int
    missing: int

    @property
    def rate(self) -> float:
        """Return invitations a second from the first accepted to the last."""
        # N sends span N - 1 gaps.
        return (self.accepted - 1) / self.seconds if self.seconds > 0 else 0.0


def log(text: str) -> None:
    """Say what the benchmark is doing, on stderr, so the table stays clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def seed(path: Path, participants: int) -> None:
    """Enrol participants who agreed to be contacted, and a round opening now."""
    now = datetime.now(UTC)
    repo = await SQLiteRepository.open(path)
    try:
        library = FlowLibrary.load(None, repo)
        await library.register(now)
        flow = library.latest(FLOW)
        assert flow is not None
        consent = ConsentGiven(FLOW, flow.version, flow.consent.version)
        for n in range(participants):
            who = await repo.enrol(
                user_id=HEARD_CHATS + n,
                chat_id=HEARD_CHATS + n,
                language="en",
                consent=consent,
                now=now,
            )
            await repo.set_contact(who.code, True, now)
        new = NewRound("Broadcast benchmark", FLOW, now, now + timedelta(days=14), "benchmark")
        await repo.create_round(
            new, now, lambda round_id: Audit("benchmark", "round created", f"R{round_id}", now)
        )
    finally:
        await repo.close()


def start_server(
    folder: Path, participants: int, limit: float
) -> tuple[subprocess.Popen[str], int]:
    """Start the fake Bot API server process; return it and its port."""
    command = [sys.executable, "-m", "benchmarks.fake_server_process"]
    command += ["--figures", str(folder / "figures.json"), "--send-limit", str(limit)]
    command += ["--chats", f"{HEARD_CHATS}:{participants}"]
    command += ["--chats", f"{BASELINE_CHATS}:{participants}"]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    line = server.stdout.readline()  # the server prints its port once it is ready
    if not line:
        server.wait(timeout=10)
        sys.exit("the fake Bot API server did not start")
    return server, int(json.loads(line)["port"])


def stop_server(server: subprocess.Popen[str], folder: Path) -> list[list[float]]:
    """Stop the server and return its record of every sendMessage call."""
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    records: list[list[float]] = json.loads((folder / "figures.json").read_text())["sends"]
    return records


def run_baseline(api_url: str, participants: int, rate: float) -> Usage:
    """Run the bare PTB baseline; return what its process used."""
    command = [sys.executable, "-m", "benchmarks.broadcast_baseline", "--api-url", api_url]
    command += ["--token", TOKEN, "--first", str(BASELINE_CHATS)]
    command += ["--count", str(participants), "--rate", str(rate)]
    bound = 3 * participants / rate + 60
    done = subprocess.run(
        command, cwd=ROOT, check=True, capture_output=True, text=True, timeout=bound
    )
    result = json.loads(done.stdout.splitlines()[-1])
    return Usage(int(result["peak_kb"]), float(result["cpu_seconds"]))


def heard_environment(api_url: str, database: Path, rate: float) -> dict[str, str]:
    """Return `heard run`'s environment: this fake server, no quiet hours, this rate."""
    return environment(api_url, database, rate, survey=False)


def invitation_statuses(database: Path) -> Counter[str]:
    """Count the invitation rows by status, through a read-only connection."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute(
            "SELECT status, COUNT(*) FROM outbox WHERE kind = 'invitation' GROUP BY status"
        ).fetchall()
    return Counter({str(status): int(count) for status, count in rows})


def run_heard(
    folder: Path, api_url: str, participants: int, rate: float
) -> tuple[Usage, Counter[str]]:
    """Run `heard run` until every invitation is sent or failed; return its usage and statuses."""
    database = folder / DATABASE_NAME
    command = [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"]
    bot_log = folder / "heard.log"
    with bot_log.open("w") as out:
        bot = subprocess.Popen(
            command,
            cwd=ROOT,
            env=heard_environment(api_url, database, rate),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 3 * participants / rate + 120
        statuses: Counter[str] = Counter()
        while time.monotonic() < deadline:
            if bot.poll() is not None:
                sys.exit(f"heard run stopped early:\n{bot_log.read_text()[-3000:]}")
            statuses = invitation_statuses(database)
            waiting = statuses["pending"] + statuses["claimed"]
            if statuses.total() >= participants and waiting == 0:
                break
            time.sleep(POLL_SECONDS)
        else:
            log(f"gave up waiting; invitations by status: {dict(statuses)}")
        used = usage(bot.pid)
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(timeout=30)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait(timeout=10)
    return used, statuses


def figures(records: list[list[float]], first: int, count: int) -> Figures:
    """Sum up the server's record for the chats first .. first + count - 1."""
    mine = [r for r in records if first <= r[0] < first + count]
    accepted = [r for r in mine if r[2] == 0]
    per_chat = Counter(int(r[0]) for r in accepted)
    times = sorted(r[1] for r in accepted)
    return Figures(
        accepted=len(accepted),
        seconds=times[-1] - times[0] if times else 0.0,
        longest_gap=max((b - a for a, b in pairwise(times)), default=0.0),
        too_many=sum(1 for r in mine if r[2] == 429),
        other_errors=sum(1 for r in mine if r[2] not in (0, 429)),
        duplicates=sum(n - 1 for n in per_chat.values()),
        missing=count - len(per_chat),
    )


def scenario(participants: int, rate: float) -> list[str]:
    """Measure the baseline and Heard for one scenario; return the table's lines."""
    folder = Path(tempfile.mkdtemp(prefix="heard-broadcast-"))
    try:
        log(f"seeding {participants:,} participants")
        asyncio.run(seed(folder / DATABASE_NAME, participants))
        limit = rate * LIMIT_FACTOR
        server, port = start_server(folder, participants, limit)
        api_url = f"http://127.0.0.1:{port}/bot"
        try:
            log(f"baseline: {participants:,} messages at {rate:g}/s")
            baseline_used = run_baseline(api_url, participants, rate)
            log(f"heard run: {participants:,} invitations at {rate:g}/s")
            heard_used, statuses = run_heard(folder, api_url, participants, rate)
        finally:
            records = stop_server(server, folder)
        base = figures(records, BASELINE_CHATS, participants)
        heard = figures(records, HEARD_CHATS, participants)
        return table(
            participants, rate, limit, (base, baseline_used), (heard, heard_used), statuses
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def table(
    participants: int,
    rate: float,
    limit: float,
    base: tuple[Figures, Usage],
    heard: tuple[Figures, Usage],
    statuses: Counter[str],
) -> list[str]:
    """Lay out one scenario's figures."""
    lines = [
        f"Broadcast of {participants:,} invitations at {rate:g}/s "
        f"(server answers 429 above {limit:g} sends in any second)",
        f"{'what':<20}{'rate/s':>8}{'achieved':>10}{'x rate':>8}{'x base':>8}{'seconds':>9}"
        f"{'max gap':>8}"
        f"{'429s':>6}{'dups':>6}{'missing':>8}{'errors':>7}{'peak MB':>9}{'CPU s':>7}",
    ]
    for name, (found, used) in (("bare PTB (baseline)", base), ("heard run", heard)):
        lines.append(
            f"{name:<20}{rate:>8g}{found.rate:>10.1f}{found.rate / rate:>8.3f}"
            f"{found.rate / base[0].rate:>8.3f}{found.seconds:>9.1f}"
            f"{found.longest_gap:>8.2f}{found.too_many:>6}"
            f"{found.duplicates:>6}{found.missing:>8}{found.other_errors:>7}"
            f"{used.peak_kb / 1024:>9.1f}{used.cpu_seconds:>7.1f}"
        )
    shown = ", ".join(f"{status} {count:,}" for status, count in sorted(statuses.items()))
    lines.append(f"heard's invitation rows: {shown}")
    lines.append("targets: x rate >= 0.95, 429s 0, dups 0, missing 0")
    return lines


def main() -> None:
    """Run the chosen scenarios and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=None)
    parser.add_argument(
        "--rate", type=float, default=None, help="sends a second (HEARD_SEND_RATE)"
    )
    args = parser.parse_args()
    if args.participants is None and args.rate is None:
        scenarios = list(DEFAULT_SCENARIOS)
    else:
        scenarios = [(args.participants or 10_000, args.rate or 200.0)]
    lines: list[str] = []
    for participants, rate in scenarios:
        lines += [*scenario(participants, rate), ""]
    print("\n".join(lines).rstrip())


if __name__ == "__main__":
    main()
