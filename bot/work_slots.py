"""How many updates to work on at once, found as the bot runs.

With Telegram's ~100 ms a call the bot mostly waits, and it takes many updates at once to keep
up with the rate limit. On a fast network the interpreter is the bottleneck, and updates at
once only queue behind each other, each waiting longer, while python-telegram-bot's HTTP pool
spends more CPU on each (docs/performance.md: on loopback one at a time answers fastest; 32 at
once cost 40% more CPU per answer). Which of the two the bot is in shows in how busy the
process is: every half second, if updates were waiting for a slot while the process used
less than half of a core, the slots double; if it used more than 85%, there are a quarter
fewer. In between, they stay.

An update that takes longer than PATIENCE (a staff export, a document upload, a call timing
out) gives up its slot and carries on outside the count, so nobody waits more than that behind
it; `most` still bounds everything at work.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

PERIOD = 0.5  # seconds between looks at how busy the process was
GROW_BELOW = 0.5  # cores used: below this, with updates waiting, twice the slots
SHRINK_ABOVE = 0.85  # above this, a quarter fewer
PATIENCE = 1.0  # seconds an update may hold its slot; after that it works outside the count


class SlotLimit:
    """The number of slots, moved by how busy the process was (module docstring)."""

    def __init__(
        self,
        start: int = 1,
        least: int = 1,
        most: int = 32,
        clock: Callable[[], float] = time.monotonic,
        cpu: Callable[[], float] = time.process_time,
    ) -> None:
        if not 1 <= least <= start <= most:
            raise ValueError(f"need 1 <= least <= start <= most, not {least}, {start}, {most}")
        self.slots = start
        self.least = least
        self.most = most
        self.clock = clock
        self.cpu = cpu
        self._since = clock()
        self._cpu_since = cpu()
        self._wanted = False

    @classmethod
    def fixed(cls, slots: int) -> SlotLimit:
        """Return a limit that stays at `slots`."""
        return cls(slots, slots, slots)

    def look(self, wanted: bool) -> None:
        """Note whether updates are waiting for a slot; once a period, move the limit."""
        self._wanted = self._wanted or wanted
        now = self.clock()
        elapsed = now - self._since
        if elapsed < PERIOD:
            return
        used = self.cpu()
        busy = (used - self._cpu_since) / elapsed
        if busy < GROW_BELOW and self._wanted:
            self.slots = min(self.most, self.slots * 2)
        elif busy > SHRINK_ABOVE:
            self.slots = max(self.least, self.slots * 3 // 4)
        self._since, self._cpu_since, self._wanted = now, used, False


class WorkSlots:
    """Let updates in to work, at most `limit.slots` at once, first come first served.

    While any wait, the limit is looked at every PERIOD even if nothing finishes, so an update
    stuck on the network (nothing busy) soon has company rather than holding everyone up. One
    still at work after PATIENCE gives up its slot (module docstring).
    """

    def __init__(self, limit: SlotLimit) -> None:
        self.limit = limit
        self.working = 0  # holding a slot
        self.overdue = 0  # still at work after PATIENCE, no longer holding one
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a slot for the duration of the block, or for PATIENCE if that is shorter."""
        await self._enter()
        holding = True

        def give_up() -> None:
            nonlocal holding
            holding = False
            self.working -= 1
            self.overdue += 1
            self._let_in()

        patience = asyncio.get_running_loop().call_later(PATIENCE, give_up)
        try:
            yield
        finally:
            patience.cancel()
            if holding:
                self.working -= 1
            else:
                self.overdue -= 1
            self.limit.look(wanted=bool(self._waiting))
            self._let_in()

    def _free(self) -> bool:
        """Say whether one more may start: a slot is free, and fewer than `most` are at work."""
        return self.working < self.limit.slots and self.working + self.overdue < self.limit.most

    async def _enter(self) -> None:
        if not self._waiting and self._free():
            self.working += 1
            return
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self._waiting.append(turn)
        if self._timer is None:
            self._timer = loop.call_later(PERIOD, self._look_again)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.working -= 1  # let in just as it was cancelled: pass the slot on
                self._let_in()
            elif turn in self._waiting:
                self._waiting.remove(turn)
            raise

    def _look_again(self) -> None:
        self._timer = None
        self.limit.look(wanted=bool(self._waiting))
        self._let_in()
        if self._waiting:
            self._timer = asyncio.get_running_loop().call_later(PERIOD, self._look_again)

    def _let_in(self) -> None:
        while self._waiting and self._free():
            turn = self._waiting.popleft()
            if not turn.done():
                self.working += 1
                turn.set_result(None)
