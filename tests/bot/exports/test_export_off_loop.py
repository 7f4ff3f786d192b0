"""Exports and reports run in a worker process: the event loop goes on while they work."""

import asyncio
import json
import sqlite3
import threading
import time
from datetime import UTC, datetime

import pytest

from bot.exports.export import FORMATS, export
from bot.exports.scope import Scope
from bot.reports.figures import gather
from conversations.loader import flow_to_json, load_flow_file
from storage.sqlite import SQLiteRepository
from tests.support.bot_harness import SAMPLE_FLOWS

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
RUNS = 500  # one chunk of stream_runs: the old path worked through it without an await
ANSWERS = 400  # a run: 200,000 answers in all
# The longest the event loop may go without running a 5 ms heartbeat while an export works.
# On the event loop, the old path held it for the whole chunk: 0.7 s (report) to 1.8 s
# (export) here. In a worker thread, up to 0.35 s (its garbage collector's full passes over
# this test process's heap hold the interpreter). In a worker process, 15 to 40 ms seen.
# Generous, for a busy machine.
LONGEST_GAP = 0.4
BEATS = 20_000  # the heartbeat's bound: far more than the export needs


@pytest.fixture(scope="module")
def big_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "heard.db"
    asyncio.run(_register(path))
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO participants (code, language, created_at) VALUES (?, 'en', ?)",
            [(f"P-{n:06d}", NOW.isoformat()) for n in range(RUNS)],
        )
        db.executemany(
            "INSERT INTO runs (id, participant_code, flow_id, flow_version, state, status, "
            "started_at, updated_at, completed_at) "
            "VALUES (?, ?, 'sample', 1, '{}', 'completed', ?, ?, ?)",
            [(n + 1, f"P-{n:06d}", *[NOW.isoformat()] * 3) for n in range(RUNS)],
        )
        db.executemany(
            "INSERT INTO answers (run_id, step_id, value, answered_at, seq) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                (run, f"s{step}", json.dumps(f"answer {step}"), NOW.isoformat(), step)
                for run in range(1, RUNS + 1)
                for step in range(ANSWERS)
            ),
        )
    db.close()
    return path


async def _register(path):
    loaded = load_flow_file(SAMPLE_FLOWS / "sample.yaml")
    repository = await SQLiteRepository.open(path)
    try:
        flow = loaded.flow
        await repository.register_flow(
            flow.id, flow.version, loaded.content_hash, flow_to_json(flow), NOW
        )
    finally:
        await repository.close()


async def _longest_gap(work):
    """Run `work` beside a heartbeat; return its result and the heartbeat's longest gap."""
    done = asyncio.Event()
    longest = 0.0

    async def heartbeat():
        nonlocal longest
        for _ in range(BEATS):
            if done.is_set():
                return
            before = time.monotonic()
            await asyncio.sleep(0.005)
            longest = max(longest, time.monotonic() - before)

    beating = asyncio.create_task(heartbeat())
    await asyncio.sleep(0)  # the heartbeat is running before the work starts
    try:
        result = await work
    finally:
        done.set()
        await beating
    return result, longest


@pytest.mark.parametrize("fmt", ["json", "xlsx"])
async def test_export_leaves_the_event_loop_free(big_database, tmp_path, fmt):
    out = tmp_path / f"export.{fmt}"
    summary, gap = await _longest_gap(export(big_database, out, fmt))
    assert (summary.runs, summary.answers) == (RUNS, RUNS * ANSWERS)
    assert gap < LONGEST_GAP


async def test_report_leaves_the_event_loop_free(big_database):
    report, gap = await _longest_gap(gather(big_database, Scope(), UTC))
    assert report.started == RUNS
    assert gap < LONGEST_GAP


@pytest.mark.parametrize("fmt", FORMATS)
async def test_export_says_progress_on_the_event_loop(tmp_path, fmt):
    path = tmp_path / "heard.db"
    await _register(path)
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO participants (code, language, created_at) VALUES (?, 'en', ?)",
            [(f"P-{n}", NOW.isoformat()) for n in range(3)],
        )
        db.executemany(
            "INSERT INTO runs (participant_code, flow_id, flow_version, state, status, "
            "started_at, updated_at) VALUES (?, 'sample', 1, '{}', 'active', ?, ?)",
            [(f"P-{n}", NOW.isoformat(), NOW.isoformat()) for n in range(3)],
        )
    db.close()
    said: list[tuple[int, bool]] = []
    loop_thread = threading.get_ident()

    async def progress(runs):
        said.append((runs, threading.get_ident() == loop_thread))
        await asyncio.sleep(0)

    summary = await export(path, tmp_path / f"out.{fmt}", fmt, progress=progress, every=1)
    assert summary.runs == 3
    # Each count is said on the event loop; one that comes while the last is being said is
    # skipped, so at least the first is said, and never a count twice or out of order.
    assert said
    assert all(on_loop for _, on_loop in said)
    counts = [runs for runs, _ in said]
    assert counts == sorted(set(counts))
    assert counts[0] == 1
