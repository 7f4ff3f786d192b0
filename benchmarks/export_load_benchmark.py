"""An /export of 100,000 answers while 50 people answer: how much longer they wait for replies.

Run: python -m benchmarks.export_load_benchmark [--people N] [--participants N]
[--format xlsx] [--rounds N] [--think S] [--baseline REV]

The database holds --participants (5,000) past conversations of 20 answers each (100,000
answers, those of benchmarks.export_benchmark). Heard runs as `heard run` in its own process
against a fresh fake Bot API server process, both on 127.0.0.1; this process drives --people
(50) participants through the benchmark survey, each answering the question they were sent
after a pause of about --think seconds (2: between 1 and 3), and a member of staff
who, a second in, sends /export, presses "Everything" and the format, and waits for the file.

Each reply is timed at the server, from the answer being queued to the bot's next question
being sent. The figures are of the answers given while the export ran (from the format's
button to the export's last message); with no export, of those given in a window as long as
the slowest export's, from the same moment. Four rows, each its --rounds (3) runs pooled:
this tree with no export and with its export (off the event loop), and the --baseline
commit's tree (extracted with `git archive`, run with the same server, data and driver)
with no export and with its export (on the event loop). Target (issue 16): the export adds
no more than 200 ms to the participants' p95.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from benchmarks.bot_processes import HEARD, ROOT, BotProcess, FakeServer, log
from benchmarks.conversation_load import wait_ready
from benchmarks.export_benchmark import QUESTIONS, answer, flow_yaml
from benchmarks.load_driver import POLL_SECONDS, ControlClient, Driver, Person
from benchmarks.throughput_benchmark import FAST_RATE, percentile
from conversations.callbacks import ExportButton
from conversations.loader import flow_to_json, load_flow_text
from storage.audit import Audit
from storage.sqlite import SQLiteRepository

# The commit before exports moved off the event loop (issue 16).
BASELINE = "2b7177e"
FIRST_USER = 50_000_000
STAFF = 7_000_001
EXPORT_AFTER = 1.0  # seconds into the answering
TARGET_MS = 200.0
BOUND_SECONDS = 300.0
NOW = "2026-06-01T09:00:00+00:00"


def seed(path: Path, participants: int) -> None:
    """Fill a database with past conversations of QUESTIONS answers each, quickly."""

    async def register() -> None:
        loaded = load_flow_text(flow_yaml(), "bench.yaml")
        flow = loaded.flow
        repository = await SQLiteRepository.open(path)
        try:
            now = datetime.fromisoformat(NOW)
            await repository.register_flow(
                flow.id, 1, loaded.content_hash, flow_to_json(flow), now
            )
            await repository.grant_role(
                STAFF, "staff", STAFF, Audit("benchmark", "grant", f"{STAFF} staff", now)
            )
        finally:
            await repository.close()

    asyncio.run(register())
    rng = random.Random(7)
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA synchronous=OFF")  # setting up, not measured
        with db:
            db.executemany(
                "INSERT INTO participants (code, language, created_at) VALUES (?, 'en', ?)",
                ((f"P-B{n:05d}", NOW) for n in range(participants)),
            )
            db.executemany(
                "INSERT INTO runs (id, participant_code, flow_id, flow_version, state, status, "
                "started_at, updated_at, completed_at) "
                "VALUES (?, ?, 'bench', 1, '{}', 'completed', ?, ?, ?)",
                ((n + 1, f"P-B{n:05d}", NOW, NOW, NOW) for n in range(participants)),
            )
            db.executemany(
                "INSERT INTO answers (run_id, step_id, value, answered_at, seq) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    (run, f"q{i}", json.dumps(answer(i, rng)), NOW, i)
                    for run in range(1, participants + 1)
                    for i in range(QUESTIONS)
                ),
            )
    finally:
        db.close()


@dataclass
class Staff:
    """The member of staff asking for the export, button by button."""

    fmt: str
    step: str = "waiting"  # waiting, asked, choosing, exporting, done
    pressed_at: float = 0.0
    done_at: float = 0.0
    replies_after_press: int = 0

    def on_message(self, message: int, rows: list[list[str]], at: float) -> dict | None:
        """Take the bot's next message to staff; return the press it calls for, if any."""
        buttons = [data for row in rows for data in row]
        everything, chosen = ExportButton("*").encode(), ExportButton("*", self.fmt).encode()
        if self.step == "asked" and everything in buttons:
            self.step = "choosing"
            return {"user": STAFF, "message": message, "data": everything}
        if self.step == "choosing" and chosen in buttons:
            self.step = "exporting"
            return {"user": STAFF, "message": message, "data": chosen}
        if self.step == "exporting":
            # "Exporting…", then "Done: N runs": the second comes after the file.
            self.replies_after_press += 1
            if self.replies_after_press == 2:
                self.step, self.done_at = "done", at
        return None


@dataclass
class Burst:
    """What one run of a scenario saw: each answer's queue time and reply time."""

    replies: list[tuple[float, float]] = field(default_factory=list)
    window: tuple[float, float] = (0.0, 0.0)
    missing: int = 0


async def answer_at_pace(
    driver: Driver, people: list[Person], staff: Staff | None, think: float, bound: float
) -> Burst:
    """Let everyone answer every question after a pause; have staff export a second in."""
    client, rng, burst = driver.client, random.Random(11), Burst()
    by_user = {person.user: person for person in people}
    due = {person.user: time.monotonic() + rng.uniform(0, 2 * think) for person in people}
    started = time.monotonic()
    deadline = started + bound
    while time.monotonic() < deadline and driver.alive():
        now = time.monotonic()
        if staff is not None and staff.step == "waiting" and now >= started + EXPORT_AFTER:
            staff.step = "asked"
            await client.inject([{"user": STAFF, "text": "/export"}])
        ready = [by_user[user] for user, at in due.items() if at <= now]
        if ready:
            for person in ready:
                del due[person.user]
            stamps = await client.inject([driver._action(person) for person in ready])
            for person, at in zip(ready, stamps, strict=True):
                person.asked_at = at
                burst.missing += at is None
        exporting = staff is not None and staff.step != "done"
        if not due and not exporting and all(p.asked_at is None for p in people):
            break
        wait = min([POLL_SECONDS, *(at - time.monotonic() for at in due.values())])
        driver.cursor, events = await client.events(driver.cursor, max(wait, 0.001))
        for chat, message, at, rows in events:
            if chat == STAFF and staff is not None:
                press = staff.on_message(message, rows, at)
                if press is not None:
                    stamp = (await client.inject([press]))[0]
                    if staff.step == "exporting" and stamp is not None:
                        staff.pressed_at = stamp
                continue
            person = by_user.get(chat)
            if person is None or person.asked_at is None:
                continue
            burst.replies.append((person.asked_at, at - person.asked_at))
            person.asked_at, person.message, person.rows = None, message, rows
            person.answered += 1
            if person.answered < len(driver.steps):
                due[person.user] = time.monotonic() + rng.uniform(0.5 * think, 1.5 * think)
    if staff is not None:
        burst.window = (staff.pressed_at, staff.done_at)
    else:
        burst.window = (started + EXPORT_AFTER, started + EXPORT_AFTER)
    return burst


async def drive(
    folder: Path, root: Path, people: int, fmt: str | None, think: float
) -> tuple[Burst, float]:
    """Run Heard from `root`, onboard everyone, let them answer (and staff export)."""
    settings = {"HEARD_ADMINS": str(STAFF)}
    with (
        FakeServer(folder) as server,
        BotProcess(HEARD, server, folder, FAST_RATE, root=root, settings=settings) as bot,
    ):
        async with ControlClient(server.control_port) as client:
            await wait_ready(client, bot, 60.0)
            driver = Driver(client, bot.alive)
            crowd = [Person(FIRST_USER + n, HEARD.onboarding_presses) for n in range(people)]
            if await driver.onboard(crowd, time.monotonic() + 120.0) < people:
                raise RuntimeError(f"not everyone got question 1:\n{bot.tail()}")
            staff = None if fmt is None else Staff(fmt)
            burst = await answer_at_pace(driver, crowd, staff, think, BOUND_SECONDS)
            if staff is not None and staff.step != "done":
                raise RuntimeError(f"the export did not finish ({staff.step}):\n{bot.tail()}")
    return burst, burst.window[1] - burst.window[0]


@dataclass
class Row:
    """One scenario, its rounds pooled."""

    name: str
    bursts: list[Burst]
    exports: list[float]

    def latencies(self, length: float) -> list[float]:
        """Return the reply times of answers queued in each burst's window (at least `length`)."""
        found = []
        for burst in self.bursts:
            start, end = burst.window
            end = max(end, start + length)
            found += [took for at, took in burst.replies if start <= at <= end]
        return found


def scenario(
    name: str, database: Path, root: Path, args: argparse.Namespace, fmt: str | None
) -> Row:
    """Run one scenario --rounds times, each with a fresh copy of the data."""
    bursts, exports = [], []
    for number in range(args.rounds):
        log(f"{name}: round {number + 1} of {args.rounds}")
        folder = Path(tempfile.mkdtemp(prefix="heard-export-load-"))
        try:
            shutil.copy(database, folder / "heard.db")
            burst, took = asyncio.run(drive(folder, root, args.people, fmt, args.think))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        bursts.append(burst)
        exports.append(took)
    return Row(name, bursts, exports)


def extract(revision: str, into: Path) -> str:
    """Extract a commit's tree into a folder with `git archive`; return its short name."""
    short = subprocess.run(
        ["git", "rev-parse", "--short", revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    archive = subprocess.run(
        ["git", "archive", "--format=tar", revision], cwd=ROOT, check=True, capture_output=True
    ).stdout
    into.mkdir(parents=True)
    with tempfile.TemporaryFile() as tar_file:
        tar_file.write(archive)
        tar_file.seek(0)
        with tarfile.open(fileobj=tar_file) as tar:
            tar.extractall(into, filter="data")
    return short


def main() -> None:
    """Seed the data, run the four scenarios, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--participants", type=int, default=5000, help="x 20 answers exported")
    parser.add_argument("--format", default="xlsx", choices=("csv", "xlsx", "json"))
    parser.add_argument("--rounds", type=int, default=3, help="runs of each scenario, pooled")
    parser.add_argument("--think", type=float, default=2.0, help="seconds before each answer")
    parser.add_argument("--baseline", default=BASELINE, help="the commit of the old path")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="heard-export-load-"))
    try:
        database = folder / "seed.db"
        log(f"seeding {args.participants:,} conversations x {QUESTIONS} answers")
        seed(database, args.participants)
        old_root = folder / "baseline"
        short = extract(args.baseline, old_root)
        rows = [
            scenario("no export (this tree)", database, ROOT, args, None),
            scenario(f"no export ({short})", database, old_root, args, None),
            scenario(f"export on the loop ({short})", database, old_root, args, args.format),
            scenario("export off the loop (this tree)", database, ROOT, args, args.format),
        ]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(rows, args)


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    """Print each scenario's reply times in the export's window, and the target."""
    answers = args.participants * QUESTIONS
    length = max(took for row in rows for took in row.exports)
    print(
        f"/export of {answers:,} answers ({args.format}) while {args.people} people answer, "
        f"each after about {args.think:g} s; {args.rounds} round(s) of each, pooled"
    )
    print(
        f"{'what':<34}{'answers':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'max ms':>8}"
        f"{'p95 +ms':>8}{'export s':>9}"
    )
    p95 = {}
    for row in rows:
        found = row.latencies(length)
        p95[row.name] = percentile(found, 0.95) * 1000
        base = rows[0] if "this tree" in row.name else rows[1]
        added = p95[row.name] - percentile(base.latencies(length), 0.95) * 1000
        export = f"{max(row.exports):>9.2f}" if any(row.exports) else f"{'':>9}"
        print(
            f"{row.name:<34}{len(found):>8}{percentile(found, 0.5) * 1000:>8.0f}"
            f"{p95[row.name]:>8.0f}{percentile(found, 0.99) * 1000:>8.0f}"
            f"{max(found, default=0) * 1000:>8.0f}{added:>+8.0f}{export}"
        )
    added = p95[rows[3].name] - p95[rows[0].name]
    old = p95[rows[2].name] - p95[rows[1].name]
    verdict = "met" if added <= TARGET_MS else "MISSED"
    print(
        f"target: the export adds <= {TARGET_MS:g} ms to the p95: {verdict} ({added:+.0f} ms; "
        f"on the loop, {old:+.0f} ms). Without an export the window is {length:.2f} s from "
        f"the moment the export would start. Missing replies: "
        f"{sum(b.missing for row in rows for b in row.bursts)}"
    )


if __name__ == "__main__":
    main()
