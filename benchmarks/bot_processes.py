"""Start and stop the processes a conversation benchmark needs: fake server, Heard, baselines.

Everything listens on 127.0.0.1 only. Each bot runs against a fresh fake server process (the
same program with the same settings), so that no bot is slowed by what an earlier one left in
the server's memory. Every wait is bounded, and every process started here is stopped here.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from benchmarks.fake_server_process import TOKEN
from benchmarks.survey import SURVEY_FILE, SURVEY_ID

ROOT = Path(__file__).resolve().parents[1]
STOP_SECONDS = 30.0
START_SECONDS = 30.0
DATABASE_NAME = "heard.db"


def log(text: str) -> None:
    """Say what the benchmark is doing, on stderr, so the tables stay clean."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def stop_process(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> int:
    """Ask a process to stop (SIGTERM), kill it if it will not; return its exit status."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return int(process.returncode)


class FakeServer:
    """The fake Bot API server in its own process, with the load driver's routes."""

    def __init__(self, folder: Path, latency_ms: float = 0.0) -> None:
        self.folder = folder
        self.latency_ms = latency_ms
        self.process: subprocess.Popen[str] | None = None
        self.port = 0
        self.control_port = 0

    def __enter__(self) -> Self:
        command = [sys.executable, "-m", "benchmarks.fake_server_process", "--control"]
        command += ["--figures", str(self.folder / "server-figures.json")]
        command += ["--latency-ms", str(self.latency_ms)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        # The server prints its ports once it is ready; wait for that line, but not forever.
        ready, _, _ = select.select([self.process.stdout], [], [], START_SECONDS)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            stop_process(self.process)
            raise RuntimeError("the fake Bot API server did not start")
        ports = json.loads(line)
        self.port, self.control_port = int(ports["port"]), int(ports["control_port"])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.process is not None:
            stop_process(self.process)

    @property
    def pid(self) -> int:
        """Return the server's process id."""
        assert self.process is not None
        return self.process.pid

    @property
    def api_url(self) -> str:
        """Return the base_url a bot uses for this server."""
        return f"http://127.0.0.1:{self.port}/bot"


@dataclass(frozen=True)
class BotKind:
    """One of the bots compared: how to start it against a server."""

    name: str
    module: str
    # Button presses between /start and the first question (Heard: old enough, consent).
    onboarding_presses: int
    options: tuple[str, ...] = ()
    # Keeps its answers in SQLite (Heard's database file name, so they are counted the same).
    stores: bool = False

    def command(self, api_url: str, folder: Path, rate: float) -> list[str]:
        """Return the command line that runs this bot."""
        if self.module == "bot.cli":
            return [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"]
        command = [sys.executable, "-m", self.module, "--api-url", api_url, "--token", TOKEN]
        command += ["--rate", str(rate), *self.options]
        if self.module.endswith("conventional"):
            command += ["--pickle", str(folder / "conversations.pickle")]
        if self.stores:
            command += ["--store", str(folder / DATABASE_NAME)]
        return command


HEARD = BotKind("heard run", "bot.cli", 2)
BARE = BotKind("(a) bare PTB", "benchmarks.throughput_bare", 0)
# Heard's own update processor, set up as `heard run` sets it: 256 taken in, 32 at work.
BARE_256 = BotKind(
    "(a') bare, as heard run", "benchmarks.throughput_bare", 0, ("--concurrency", "256")
)
# The bare bot with Heard's three database trips an answer: the framework's limit for the same
# calls with every answer durably committed (benchmarks.bare_store).
BARE_STORE = BotKind("(a+db) bare, storing", "benchmarks.throughput_bare", 0, stores=True)
CONVENTIONAL = BotKind("(b) ConversationHandler", "benchmarks.throughput_conventional", 0)


def environment(
    api_url: str, database: Path, rate: float, *, survey: bool = True
) -> dict[str, str]:
    """Return every bot's environment: Heard's settings for this server, this rate.

    With `survey`, Heard runs the benchmark's survey; without, its shipped conversations.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARD_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        HEARD_DATABASE=str(database),
        HEARD_QUIET_HOURS="",
        HEARD_SEND_RATE=str(rate),
        HEARD_LOG_LEVEL="INFO",
        PTB_TIMEDELTA="1",
    )
    if survey:
        env.update(HEARD_CONVERSATIONS=str(SURVEY_FILE.parent), HEARD_DEFAULT_FLOW=SURVEY_ID)
    return env


class BotProcess:
    """A bot under test, started now; stopped (SIGTERM, then kill) when the block ends.

    `root` is the source tree it runs from (another commit's, extracted, to compare with);
    `settings` are more of its environment (HEARD_ADMINS, say).
    """

    def __init__(
        self,
        kind: BotKind,
        server: FakeServer,
        folder: Path,
        rate: float,
        *,
        survey: bool = True,
        root: Path = ROOT,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.log_path = folder / f"{kind.module.rsplit('.', 1)[-1]}.log"
        self.database = folder / DATABASE_NAME
        command = kind.command(server.api_url, folder, rate)
        self.started_at = time.monotonic()
        env = environment(server.api_url, self.database, rate, survey=survey) | (settings or {})
        with self.log_path.open("w") as out:
            self.process = subprocess.Popen(
                command,
                cwd=root,  # `python -m` puts the working folder first on the module path
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.exit_status: int | None = None
        self.stop_seconds = 0.0

    @property
    def pid(self) -> int:
        """Return the bot's process id."""
        return self.process.pid

    def alive(self) -> bool:
        """Say whether the bot is still running."""
        return self.process.poll() is None

    def tail(self) -> str:
        """Return the end of the bot's log, for a failure message."""
        return self.log_path.read_text(errors="replace")[-3000:]

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        stopping = time.monotonic()
        self.exit_status = stop_process(self.process)
        self.stop_seconds = time.monotonic() - stopping
