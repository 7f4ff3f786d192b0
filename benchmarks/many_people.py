"""Benchmark 2: 10,000 people mid-conversation, and a restart while all of them are waiting.

Each bot's own store is seeded with the same people standing at a typed question (questions 3,
5, 7 or 10 of the survey, with the answers before it given): Heard's SQLite database through
its repository (enrol, start_run, then save of the state the engine reached, marked as
delivered), the conventional bot's pickle (its ConversationHandler state and user_data), and
nothing for the bare bot, which keeps no state (it takes anyone it does not know to be at that
same question). Then every one of them types their answer while the bot is down (Telegram keeps
the updates), and the bot is started.

"Resume" is the time from starting the bot's process to the moment the last of them has been
sent their next question, at the server; "ready" is up to the bot's first getUpdates. Memory
is the bot process's peak (VmHWM) and what it holds once all are answered (VmRSS).
"""

from __future__ import annotations

import asyncio
import json
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bot_processes import (
    BARE,
    CONVENTIONAL,
    DATABASE_NAME,
    HEARD,
    BotKind,
    BotProcess,
    FakeServer,
    log,
)
from benchmarks.conversation_load import shapes, stored_answers
from benchmarks.load_driver import Answers, ControlClient, Driver, Person
from benchmarks.process_stats import usage
from benchmarks.survey import SURVEY_FILE, SURVEY_ID, questions, resume_question, typed_answer
from benchmarks.throughput_conventional import NAME
from bot.flows import FlowLibrary
from conversations.engine import RunState, advance
from conversations.events import Begin, Input, Pick, Record, Text
from conversations.model import Question, ScaleStep, SingleChoiceStep, YesNoStep
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository

FIRST_USER = 40_000_000
TARGET_MB = 150.0


@dataclass(frozen=True)
class Restart:
    """What one bot did when restarted with everyone waiting."""

    name: str
    answers: Answers
    started_at: float
    first_poll_at: float
    peak_kb: int
    resident_kb: int
    stored: int | None
    stop_seconds: float
    stop_status: int | None

    @property
    def ready(self) -> float:
        """Return the seconds from starting the bot to its first getUpdates."""
        return self.first_poll_at - self.started_at

    @property
    def resume(self) -> float:
        """Return the seconds from starting the bot to the last person's next question."""
        return self.answers.last_at - self.started_at

    @property
    def rate(self) -> float:
        """Return answers a second from the first getUpdates to the last reply."""
        return len(self.answers.latencies) / max(self.answers.last_at - self.first_poll_at, 1e-9)


def resident_kb(pid: int) -> int:
    """Return a process's resident memory now (VmRSS), in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1])


def earlier_input(step: Question, user: int, number: int) -> Input:
    """Return the answer a seeded person gave to an earlier question."""
    if isinstance(step, SingleChoiceStep):
        return Pick(step.id, step.options[(user + number) % len(step.options)].id)
    if isinstance(step, YesNoStep):
        return Pick(step.id, ("yes", "no")[(user + number) % 2])
    if isinstance(step, ScaleStep):
        return Pick(step.id, str(step.min + (user + number) % (step.max - step.min + 1)))
    return Text(typed_answer(step, user, number))


async def seed_heard(database: Path, count: int) -> int:
    """Enrol everyone in Heard's database part-way through; return the answers stored."""
    now = datetime.now(UTC)
    repo = await SQLiteRepository.open(database)
    stored = 0
    try:
        # Setting up, not measured: no need to wait for the disk on every commit.
        await repo._db.run(lambda db: db.execute("PRAGMA synchronous=OFF"))
        library = FlowLibrary.load(SURVEY_FILE.parent, repo)
        await library.register(now)
        flow = library.latest(SURVEY_ID)
        assert flow is not None
        consent = ConsentGiven(flow.id, flow.version, flow.consent.version)
        steps = questions()
        for user in range(FIRST_USER, FIRST_USER + count):
            who = await repo.enrol(
                user_id=user, chat_id=user, language="en", consent=consent, now=now
            )
            state = RunState.start(flow)
            run = await repo.start_run(
                who.code, flow.id, flow.version, state.model_dump_json(), now
            )
            outcome = advance(flow, state, Begin(), now)
            answers = []
            for number, step in enumerate(steps[: resume_question(user)], start=1):
                outcome = advance(flow, outcome.state, earlier_input(step, user, number), now)
                answers += [
                    (e.step, json.dumps(e.value)) for e in outcome.effects if isinstance(e, Record)
                ]
            state = outcome.state
            await repo.save(run.id, state.model_dump_json(), state.status, answers, now)
            await repo.mark_delivered(run.id, None)
            stored += len(answers)
    finally:
        await repo.close()
    return stored


def seed_conventional(path: Path, count: int) -> None:
    """Write the conventional bot's pickle: everyone's conversation state and answers so far."""
    conversations: dict[tuple[int, int], object] = {}
    user_data: dict[int, dict[str, object]] = {}
    for user in range(FIRST_USER, FIRST_USER + count):
        at = resume_question(user)
        conversations[(user, user)] = at
        answers = {n: f"answer {n} of {user}" for n in range(at)}
        user_data[user] = {"question": at, "prompt": None, "answers": answers}
    data = {
        "conversations": {NAME: conversations},
        "user_data": user_data,
        "chat_data": {},
        "bot_data": {},
        "callback_data": None,
    }
    with path.open("wb") as file:
        pickle.dump(data, file, protocol=pickle.HIGHEST_PROTOCOL)


async def restart(kind: BotKind, folder: Path, count: int, rate: float) -> Restart:
    """Queue everyone's answer, start the bot, and time until all have their next question."""
    bound = 120.0 + count / 10.0
    with FakeServer(folder) as server:
        async with ControlClient(server.control_port) as client:
            driver = Driver(client, lambda: True)
            people = [
                Person(user, start=resume_question(user), ready=True)
                for user in range(FIRST_USER, FIRST_USER + count)
            ]
            await driver.begin(people)
            with BotProcess(kind, server, folder, rate) as bot:
                driver.alive = bot.alive
                burst = await driver.collect(people, 1, time.monotonic() + bound, shapes())
                if burst.lost:
                    log(f"{kind.name}: {burst.lost} people got no reply:\n{bot.tail()}")
                peak, resident = usage(bot.pid).peak_kb, resident_kb(bot.pid)
                first_poll = (await client.calls())["first_poll_at"]
    stored = stored_answers(bot.database) if bot.database.exists() else None
    return Restart(
        kind.name,
        burst,
        bot.started_at,
        first_poll or 0.0,
        peak,
        resident,
        stored,
        bot.stop_seconds,
        bot.exit_status,
    )


def measure(kind: BotKind, count: int, rate: float) -> tuple[Restart, int]:
    """Seed one bot's store in a temporary folder and restart it; return figures and seed."""
    folder = Path(tempfile.mkdtemp(prefix="heard-many-"))
    try:
        seeded = 0
        log(f"{kind.name}: seeding {count:,} people mid-conversation")
        if kind is HEARD:
            seeded = asyncio.run(seed_heard(folder / DATABASE_NAME, count))
        elif kind is CONVENTIONAL:
            seed_conventional(folder / "conversations.pickle", count)
        log(f"{kind.name}: restart with {count:,} answers waiting")
        return asyncio.run(restart(kind, folder, count, rate)), seeded
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(count: int, rate: float, conventional: bool = False) -> list[str]:
    """Measure the bare bot, the conventional bot if asked, and Heard; return the table."""
    kinds = [BARE] + ([CONVENTIONAL] if conventional else []) + [HEARD]
    rows = [measure(kind, count, rate) for kind in kinds]
    bare, heard = rows[0][0], rows[-1][0]
    lines = [
        f"2. Many people at once: {count:,} people mid-conversation, each answering once "
        f"while the bot restarts (HEARD_SEND_RATE={rate:g})",
        f"{'what':<24}{'ready s':>8}{'resume s':>9}{'x (a)':>7}{'ans/s':>8}{'peak MB':>8}"
        f"{'x (a)':>7}{'RSS MB':>8}{'replied':>9}{'stored':>8}",
    ]
    for found, seeded in rows:
        replied = len(found.answers.latencies)
        stored = "-" if found.stored is None else f"{found.stored - seeded:,}"
        lines.append(
            f"{found.name:<24}{found.ready:>8.2f}{found.resume:>9.1f}"
            f"{found.resume / bare.resume:>7.2f}{found.rate:>8.1f}"
            f"{found.peak_kb / 1024:>8.1f}{found.peak_kb / bare.peak_kb:>7.2f}"
            f"{found.resident_kb / 1024:>8.1f}{replied:>9,}{stored:>8}"
        )
    for found, _ in rows:
        killed = "; killed, it would not stop" if found.stop_status == -9 else ""
        lines.append(f"{found.name} took {found.stop_seconds:.1f} s to stop{killed}")
    small = heard.peak_kb / 1024 < TARGET_MB
    everyone = len(heard.answers.latencies) == count and heard.answers.unexpected == 0
    lines.append(
        f"targets: heard's peak memory < {TARGET_MB:g} MB {'met' if small else 'MISSED'}; "
        f"everyone has their next question {'met' if everyone else 'MISSED'}"
    )
    return lines
