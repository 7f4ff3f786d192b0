"""Run the real Heard application against the fake Bot API server, in-process or as a process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import PURGE_FIRST_SECONDS, serve
from bot.safeguarding.screening import Screener
from bot.settings import Settings, load_settings
from tests.support.concerns import PhraseScreener
from tests.support.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_FLOWS = ROOT / "tests" / "data" / "flows"


@dataclass
class FixedClock:
    """A clock that only moves when told to."""

    current: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 10, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


def bot_settings(
    server: FakeTelegram, database: Path, flows: Path, default_flow: str, **more
) -> Settings:
    return load_settings(
        None,
        telegram_bot_token=server.token,
        telegram_api_url=server.base_url,
        heard_database=database,
        heard_conversations=flows,
        heard_default_flow=default_flow,
        **more,
    )


def bot_environment(server: FakeTelegram, database: Path, flows: Path, default_flow: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEARD_", "TELEGRAM_"))}
    env.update(
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_API_URL=server.base_url,
        HEARD_DATABASE=str(database),
        HEARD_CONVERSATIONS=str(flows),
        HEARD_DEFAULT_FLOW=default_flow,
        HEARD_LOG_LEVEL="INFO",
    )
    return env


class InProcessBot:
    """Heard's `serve` in this event loop, with a hook that says when an update is done.

    `screener` screens what people write; None: Heard's own (the phrase list and the model).
    """

    def __init__(
        self,
        settings: Settings,
        clock: FixedClock,
        redelivery_seconds: float = 0.5,
        screener: Screener | None = None,
        purge_first_seconds: float = PURGE_FIRST_SECONDS,
    ) -> None:
        self.settings = settings
        self.purge_first_seconds = purge_first_seconds
        self.clock = clock
        self.redelivery_seconds = redelivery_seconds
        self.screener = screener
        self._stop = asyncio.Event()
        self._done: set[int] = set()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self, server: FakeTelegram) -> None:
        polls = sum(1 for call in server.calls if call.method == "getUpdates")
        self._task = asyncio.create_task(
            serve(
                self.settings,
                stop=self._stop,
                clock=self.clock,
                on_processed=self._processed,
                redelivery_seconds=self.redelivery_seconds,
                dispatch_seconds=0.2,
                screener=self.screener,
                purge_first_seconds=self.purge_first_seconds,
            )
        )
        waiting = server.polls_waiting
        polling = asyncio.create_task(
            server.wait_for(
                lambda: (
                    server.polls_waiting > waiting
                    or sum(1 for call in server.calls if call.method == "getUpdates") > polls
                ),
                timeout=15,
            )
        )
        # Whichever comes first: the bot polling, or the bot failing to start.
        await asyncio.wait({polling, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            polling.cancel()
            self._task.result()
        await polling

    def _processed(self, update: object) -> None:
        update_id = getattr(update, "update_id", None)
        if update_id is not None:
            self._done.add(update_id)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def settle(self, update_id: int, bound: float = 10.0) -> None:
        """Wait until the bot has finished handling this update."""
        task = self._task
        assert task is not None

        def finished() -> bool:
            return update_id in self._done or task.done()

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(finished), bound)
        if task.done():
            task.result()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await asyncio.wait_for(self._task, 15)


async def started(
    server: FakeTelegram,
    database: Path,
    flows: Path,
    clock: FixedClock,
    *,
    admins: tuple[int, ...],
    safeguarding_chat: int | None,
    screener: Screener | None = None,
) -> InProcessBot:
    """Start Heard in this event loop on the sample conversation, with admins and a chat.

    What people write is screened by the phrase list alone unless `screener` says otherwise
    (tests.support.concerns: the bot's tests pin screening, as they pin time).
    """
    settings = bot_settings(
        server,
        database,
        flows,
        "sample",
        heard_admins=admins,
        heard_safeguarding_chat=safeguarding_chat,
    )
    bot = InProcessBot(settings, clock, screener=screener or PhraseScreener())
    await bot.start(server)
    return bot


class BotProcess:
    """`heard run` as a separate process, so it can be killed with SIGKILL."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, server: FakeTelegram) -> None:
        polls = sum(1 for call in server.calls if call.method == "getUpdates")
        waiting = server.polls_waiting
        with self.log.open("ab") as out:
            self.process = await asyncio.to_thread(
                subprocess.Popen,
                [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = self.process
        await server.wait_for(
            lambda: (
                process.poll() is not None
                or server.polls_waiting > waiting
                or sum(1 for call in server.calls if call.method == "getUpdates") > polls
            ),
            timeout=30,
        )
        assert process.poll() is None, self.log.read_text()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=15)
