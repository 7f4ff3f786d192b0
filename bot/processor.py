"""Process updates in order within a chat and concurrently across chats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.chat_locks import ChatLocks


class ChatOrderedProcessor(BaseUpdateProcessor):
    """PTB update processor that serialises each chat's updates (DESIGN invariant 4)."""

    def __init__(
        self,
        locks: ChatLocks,
        max_concurrent_updates: int = 256,
        on_processed: Callable[[object], None] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.locks = locks
        self.on_processed = on_processed

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers while holding its chat's lock."""
        chat = update.effective_chat if isinstance(update, Update) else None
        try:
            if chat is None:
                await coroutine
            else:
                async with self.locks.hold(chat.id):
                    await coroutine
        finally:
            if self.on_processed is not None:
                self.on_processed(update)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
