"""Export benchmark: 5,000 participants x 20 answers, against sqlite3's own CSV dump.

Run: python -m benchmarks.export_benchmark [--participants N]
Prints a table: time and peak memory of Heard's CSV and Excel exports, and the ratio of each
time to the sqlite3 command-line tool's CSV dump of the same answers, measured in this run.
Targets (issue 4): CSV within 3x the floor, Excel within 15x, peak memory under 200 MB.
Each export runs in a fresh process so its peak memory (ru_maxrss) is its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from conversations.loader import flow_to_json, load_flow_text
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository

QUESTIONS = 20
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def flow_yaml() -> str:
    """Return a 20-question flow mixing every answer kind."""
    steps = []
    for i in range(QUESTIONS):
        kind = ["single_choice", "multiple_choice", "scale", "free_text", "yes_no"][i % 5]
        step: dict[str, object] = {"id": f"q{i}", "kind": kind, "text": f"Question {i}?"}
        if kind in ("single_choice", "multiple_choice"):
            step["options"] = [{"id": f"o{j}", "label": f"Option {j}"} for j in range(5)]
        if kind == "scale":
            step.update(min_label="low", max_label="high")
        steps.append(step)
    flow = {
        "id": "bench",
        "version": 1,
        "title": "Benchmark",
        "intro": {"who": "a", "duration": "b", "data_use": "c", "support": "d"},
        "consent": {"version": 1, "text": "ok?"},
        "steps": steps,
        "end": "bye",
    }
    return yaml.safe_dump(flow)


def answer(i: int, rng: random.Random) -> object:
    """Return a plausible answer for question i."""
    kind = i % 5
    if kind == 0:
        return f"o{rng.randrange(5)}"
    if kind == 1:
        return sorted({f"o{rng.randrange(5)}" for _ in range(rng.randint(1, 3))})
    if kind == 2:
        return rng.randint(1, 5)
    if kind == 3:
        return "Waiting lists were long; the nurse was kind. " * rng.randint(1, 4)
    return rng.random() < 0.5


async def build(path: Path, participants: int) -> None:
    """Fill a database with participants each answering every question."""
    rng = random.Random(7)
    loaded = load_flow_text(flow_yaml(), "bench.yaml")
    repo = await SQLiteRepository.open(path)
    flow = loaded.flow
    await repo.register_flow(flow.id, 1, loaded.content_hash, flow_to_json(flow), NOW)
    consent = ConsentGiven("bench", 1, 1)
    for n in range(participants):
        who = await repo.enrol(
            user_id=10_000_000 + n, chat_id=10_000_000 + n, language="en", consent=consent, now=NOW
        )
        run = await repo.start_run(who.code, "bench", 1, "{}", NOW)
        answers = [(f"q{i}", json.dumps(answer(i, rng))) for i in range(QUESTIONS)]
        await repo.save(run.id, "{}", "completed", answers, NOW + timedelta(seconds=n))
    await repo.close()


def measure(command: list[str]) -> tuple[float, str]:
    """Run a command in a fresh process; return (seconds, what it printed)."""
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    """Build the data, run each export, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="heard-bench-"))
    try:
        database = folder / "heard.db"
        asyncio.run(build(database, args.participants))
        sqlite = shutil.which("sqlite3")
        if sqlite is None:
            sys.exit(
                "the sqlite3 command-line tool is needed for the baseline (apt install sqlite3)"
            )
        query = "SELECT run_id, step_id, value, answered_at FROM answers ORDER BY run_id, seq"
        floor, _ = measure(
            [sqlite, "-csv", "-header", str(database), f".output {folder / 'floor.csv'}", query]
        )
        rows = []
        for fmt in ("csv", "xlsx"):
            out = folder / f"export.{fmt}"
            command = [sys.executable, "-c", _RUNNER, str(database), fmt, str(out)]
            seconds, printed = measure(command)
            inside, maxrss = printed.split()[-2:]
            peak = int(maxrss) / 1024  # ru_maxrss is in KiB on Linux
            rows.append((fmt, seconds, float(inside), peak, out.stat().st_size / 1e6))
        answers = args.participants * QUESTIONS
        print(f"Export of {args.participants:,} participants x {QUESTIONS} answers ({answers:,})")
        # "seconds" is the whole process, as a person would time it; "export s" leaves out
        # Python's start-up and imports, which sqlite3 (a C program) does not pay.
        print(
            f"{'what':<22}{'seconds':>9}{'x floor':>9}{'export s':>9}{'x floor':>9}"
            f"{'peak MB':>9}{'size MB':>9}  target"
        )
        print(f"{'sqlite3 -csv (floor)':<22}{floor:>9.2f}{1.0:>9.2f}")
        targets = {"csv": "<= 3x, < 200 MB", "xlsx": "<= 15x, < 200 MB"}
        for fmt, seconds, inside, peak, size in rows:
            print(
                f"{'heard export ' + fmt:<22}{seconds:>9.2f}{seconds / floor:>9.2f}"
                f"{inside:>9.2f}{inside / floor:>9.2f}{peak:>9.1f}{size:>9.1f}  {targets[fmt]}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# Runs one export in a fresh interpreter, as `heard export` does, and prints its peak memory.
_RUNNER = """
import asyncio, resource, sys, time
from pathlib import Path
from bot.exports.export import export
start = time.perf_counter()
asyncio.run(export(Path(sys.argv[1]), Path(sys.argv[3]), sys.argv[2]))
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


if __name__ == "__main__":
    main()
