"""Pace proactive sends: an overall rate, a gap per chat, and pauses Telegram asks for.

Waiters take turns in arrival order: only the one at the head of the queue waits on the clock,
and the rest wait for it. So a send whose chat had a message less than `per_chat_interval` ago
holds up those queued behind it. Queue different chats one after another (as a batch of
invitations does) and that costs nothing; in exchange nobody is ever overtaken.

The overall rate is a token bucket that holds a single token: sends are spaced evenly,
`1 / rate_per_second` apart. A bucket holding a whole second's worth would allow a burst of
`rate_per_second` sends followed by the steady stream, nearly twice the rate within one second,
which is what Telegram counts.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

# Fake clocks add floats; a wake-up this close to its deadline counts as on time.
_TOLERANCE = 1e-9


class SendPacer:
    """Decide when each proactive send may go, so Telegram never has to refuse one."""

    def __init__(
        self,
        rate_per_second: float,
        per_chat_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not rate_per_second > 0:
            raise ValueError(f"expected a send rate above 0; got {rate_per_second}")
        if not per_chat_interval >= 0:
            raise ValueError(f"expected a per-chat interval of 0 or more; got {per_chat_interval}")
        self._spacing = 1.0 / rate_per_second
        self._per_chat_interval = per_chat_interval
        self._clock = clock
        self._sleep = sleep
        # asyncio.Lock is fair: waiters acquire it in the order they asked.
        self._turns = asyncio.Lock()
        self._next_slot = float("-inf")
        self._paused_until = float("-inf")
        # When each chat was last sent to, oldest first; only chats still within the interval.
        self._last_sent: OrderedDict[int, float] = OrderedDict()

    @property
    def rate(self) -> float:
        """Return the most sends a second this pacer allows overall."""
        return 1.0 / self._spacing

    def __len__(self) -> int:
        """Return how many chats are remembered (at most those sent to within the interval)."""
        return len(self._last_sent)

    async def wait_turn(self, chat_id: int) -> None:
        """Wait until a message to this chat may be sent, and count it as sent."""
        async with self._turns:
            while True:
                now = self._clock()
                ready_at = self._ready_at(chat_id)
                if ready_at <= now + _TOLERANCE:
                    break
                await self._sleep(ready_at - now)
            sent_at = max(now, ready_at)
            # A wake-up a little late keeps the schedule, so the loop's latency is not added
            # to every gap; one late by a whole gap or more (after a lull) starts afresh.
            on_time = ready_at if sent_at - ready_at < self._spacing else sent_at
            self._next_slot = on_time + self._spacing
            self._forget_quiet_chats(sent_at)
            self._last_sent[chat_id] = sent_at
            self._last_sent.move_to_end(chat_id)

    def pause_all(self, seconds: float) -> None:
        """Hold every send for this many seconds from now (Telegram's retry_after)."""
        if not seconds >= 0:
            raise ValueError(f"expected a pause of 0 seconds or more; got {seconds}")
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _ready_at(self, chat_id: int) -> float:
        """Return the earliest time a send to this chat may go."""
        chat_ready_at = self._last_sent.get(chat_id, float("-inf")) + self._per_chat_interval
        return max(self._next_slot, self._paused_until, chat_ready_at)

    def _forget_quiet_chats(self, now: float) -> None:
        """Drop chats whose last send is at least the interval ago; they may be sent to now."""
        while self._last_sent:
            oldest = next(iter(self._last_sent))
            if self._last_sent[oldest] + self._per_chat_interval > now:
                return
            del self._last_sent[oldest]
