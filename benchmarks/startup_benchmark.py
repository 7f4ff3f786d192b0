"""Benchmark 4: `heard check` on 100 conversation files, and `heard run` until it can answer.

Each is timed as a person would time it, from starting the process, and set against
`python -c "import telegram"` timed the same way in the same run (the least any
python-telegram-bot program pays before doing anything). The 100 files are copies of the shipped
conversation, each with its own id. "Ready to answer" is the moment the bot's first getUpdates
long poll is waiting at the fake server: once on a new database (which is created and
migrated), then on the same database again (a restart). The bare PTB bot of benchmark 1 is
timed to the same moment, for comparison. Each figure is the median of --repeat runs.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.bot_processes import BARE, HEARD, ROOT, BotKind, BotProcess, FakeServer, log
from benchmarks.conversation_load import READY_SECONDS, wait_ready
from benchmarks.load_driver import ControlClient
from conversations.loader import shipped_flows_dir

SHIPPED = "community-mental-health"
RUN_SECONDS = 120.0


def write_flows(folder: Path, count: int) -> None:
    """Write `count` copies of the shipped conversation, each with its own id."""
    text = (shipped_flows_dir() / f"{SHIPPED}.yaml").read_text(encoding="utf-8")
    for n in range(1, count + 1):
        copy = re.sub(rf"^id: {SHIPPED}$", f"id: {SHIPPED}-{n:03d}", text, flags=re.MULTILINE)
        (folder / f"{SHIPPED}-{n:03d}.yaml").write_text(copy, encoding="utf-8")


def timed(command: list[str], expect: str = "") -> float:
    """Run a command to the end; return its wall-clock seconds (it must succeed)."""
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )
    took = time.monotonic() - started
    if done.returncode != 0 or expect not in done.stdout:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return took


async def until_polling(kind: BotKind, folder: Path) -> float:
    """Start a bot against a fresh fake server; return the seconds until its first long poll."""
    with FakeServer(folder) as server, BotProcess(kind, server, folder, 25.0, survey=False) as bot:
        async with ControlClient(server.control_port) as client:
            return await wait_ready(client, bot, READY_SECONDS)


def median(repeat: int, measure: Callable[[], float]) -> float:
    """Return the median of `repeat` measurements."""
    return statistics.median(measure() for _ in range(repeat))


def run(count: int, repeat: int) -> list[str]:
    """Time the commands; return the table."""
    folder = Path(tempfile.mkdtemp(prefix="heard-startup-"))
    try:
        flows = folder / "flows"
        flows.mkdir()
        write_flows(flows, count)
        python = [sys.executable]
        log(f"start-up: import telegram, heard check on {count} files, heard run, {repeat} each")
        floor = median(repeat, lambda: timed([*python, "-c", "import telegram"]))
        check = [*python, "-m", "bot.cli", "--env-file", "/dev/null", "check", str(flows)]
        checked = median(repeat, lambda: timed(check, f"{count} conversation(s) passed"))
        first = asyncio.run(until_polling(HEARD, folder))
        again = median(repeat, lambda: asyncio.run(until_polling(HEARD, folder)))
        bare = median(repeat, lambda: asyncio.run(until_polling(BARE, folder)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows = [
        ('python -c "import telegram"', floor),
        (f"heard check ({count} conversation files)", checked),
        ("heard run, new database, until polling", first),
        ("heard run, restart, until polling", again),
        ("(a) bare PTB, until polling", bare),
    ]
    lines = [
        f"4. Start-up and check (median of {repeat}; 'until polling': to the first getUpdates)",
        f"{'what':<42}{'seconds':>8}{'x import telegram':>19}",
    ]
    lines += [f"{name:<42}{seconds:>8.2f}{seconds / floor:>19.2f}" for name, seconds in rows]
    return lines
