"""Process updates in order within a chat and concurrently across chats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.chat_locks import ChatLocks
from bot.work_slots import SlotLimit, WorkSlots


class ChatOrderedProcessor(BaseUpdateProcessor):
    """PTB update processor that serialises each chat's updates (DESIGN invariant 4).

    Up to `max_concurrent_updates` updates are taken in at once, but only as many as there
    are work slots run at a time, each once its chat's lock is held: one busy chat cannot
    fill the slots while others wait. The number of slots is found as the bot runs
    (`bot.work_slots`): one on loopback, where more only cost CPU, and as many as Telegram's
    ~100 ms a call needs to keep up with its rate limit, at most 32. `working` fixes the
    number instead.
    """

    def __init__(
        self,
        locks: ChatLocks,
        max_concurrent_updates: int = 256,
        on_processed: Callable[[object], None] | None = None,
        working: int | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.locks = locks
        self.on_processed = on_processed
        limit = SlotLimit() if working is None else SlotLimit.fixed(working)
        self.slots = WorkSlots(limit)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers while holding its chat's lock."""
        chat = update.effective_chat if isinstance(update, Update) else None
        try:
            if chat is None:
                async with self.slots.slot():
                    await coroutine
            else:
                async with self.locks.hold(chat.id), self.slots.slot():
                    await coroutine
        finally:
            if self.on_processed is not None:
                self.on_processed(update)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
