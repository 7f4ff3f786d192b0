"""Process updates in order within a chat and concurrently across chats, fairly under floods."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.chat_locks import ChatLocks
from bot.work_slots import SlotLimit, WorkSlots

log = logging.getLogger(__name__)

# python-telegram-bot takes its semaphore before `do_process_update` sees the update, so with a
# real bound one chat's backlog would hold everyone's places: it gets one nobody reaches.
UNBOUNDED = 2**31 - 1
# Updates a chat may have waiting before more go to `on_backlog`. On Telegram an answer takes
# two or three calls of ~0.1 s, so 20 waiting is some 5 to 10 seconds of replies still to come:
# someone typing fast, even upset and sending a message a second, stays under it; a flood (a
# paste split into pieces, a stuck key, hundreds in a second) is told kindly to wait instead
# of getting a minute of replies, one by one.
BACKLOG_LIMIT = 20

Hook = Callable[[object], Awaitable[bool]]


class _Line:
    """One chat's updates in the processor, in the order they came."""

    __slots__ = ("flooded", "inside", "last", "waiting")

    def __init__(self) -> None:
        self.last: asyncio.Future[None] | None = None  # done once the newest is through
        self.inside = 0  # taken in and not yet through: waiting, being decided on, or at work
        self.waiting = 0  # in line for their turn, not yet there
        self.flooded = False  # some were handed to on_backlog


class ChatOrderedProcessor(BaseUpdateProcessor):
    """PTB update processor that serialises each chat's updates (DESIGN invariant 4).

    Each chat has its own line: an update waits behind the chat's earlier ones holding
    nothing shared, so one chat's backlog never delays another chat. At its turn it takes the
    chat's lock (shared with redelivery and the dispatcher), one of `max_concurrent_updates`
    turns across chats, then a work slot: only as many work at once as there are slots, found
    as the bot runs (`bot.work_slots`): one on loopback, where more only cost CPU, and as many
    as Telegram's ~100 ms a call needs to keep up with its rate limit, at most 32. `working`
    fixes the number instead.

    An update that finds `backlog_limit` of its chat's waiting goes to `on_backlog` instead of
    its handlers, at once (no lock, no slot). The hook returns True if it took the update;
    False, and the update takes its place in line after all, beyond the limit, where it was
    when it came (later ones wait behind it while it is decided). When a chat that overflowed
    has nothing left in the processor, `on_drained` hears its id. `on_processed` hears of
    every update once it is done with, however it went.
    """

    def __init__(
        self,
        locks: ChatLocks,
        max_concurrent_updates: int = 256,
        on_processed: Callable[[object], None] | None = None,
        working: int | None = None,
        backlog_limit: int = BACKLOG_LIMIT,
    ) -> None:
        super().__init__(UNBOUNDED)
        self.locks = locks
        self.on_processed = on_processed
        self.on_backlog: Hook | None = None
        self.on_drained: Callable[[int], None] | None = None
        self.backlog_limit = backlog_limit
        self.turns = asyncio.Semaphore(max_concurrent_updates)
        limit = SlotLimit() if working is None else SlotLimit.fixed(working)
        self.slots = WorkSlots(limit)
        self._lines: dict[int, _Line] = {}

    def waiting(self, chat_id: int) -> int:
        """Return how many of a chat's updates wait for their turn."""
        line = self._lines.get(chat_id)
        return 0 if line is None else line.waiting

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers in its chat's turn, or hand it to on_backlog."""
        chat = update.effective_chat if isinstance(update, Update) else None
        try:
            if chat is None:
                async with self.slots.slot():
                    await coroutine
            else:
                await self._in_line(chat.id, update, coroutine)
        finally:
            if isinstance(coroutine, Coroutine):
                coroutine.close()  # one never run (absorbed, or cancelled) warns otherwise
            if self.on_processed is not None:
                self.on_processed(update)

    async def _in_line(self, chat_id: int, update: object, coroutine: Awaitable[Any]) -> None:
        line = self._lines.setdefault(chat_id, _Line())
        before, mine = line.last, asyncio.get_running_loop().create_future()
        line.last = mine
        line.inside += 1
        try:
            if line.waiting >= self.backlog_limit and self.on_backlog is not None:
                line.flooded = True
                if await self._absorbed(self.on_backlog, update):
                    return
            line.waiting += 1
            try:
                if before is not None and not before.done():
                    # Shielded: were this update cancelled, the one before must still finish.
                    await asyncio.shield(before)
            finally:
                line.waiting -= 1
            async with self.locks.hold(chat_id), self.turns, self.slots.slot():
                await coroutine
        finally:
            _after(before, mine)
            line.inside -= 1
            if line.inside == 0:
                del self._lines[chat_id]
                if line.flooded and self.on_drained is not None:
                    self.on_drained(chat_id)

    async def _absorbed(self, hook: Hook, update: object) -> bool:
        try:
            return await hook(update)
        except Exception:
            log.exception("the backlog hook failed; the update is handled as usual")
            return False

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def _after(before: asyncio.Future[None] | None, mine: asyncio.Future[None]) -> None:
    """Let the next in line go once this one and every one before it are through."""
    if before is None or before.done():
        mine.set_result(None)
    else:
        before.add_done_callback(lambda _: mine.set_result(None))
