"""Tell the admins (HEARD_ADMINS) something privately: a held purge, a failed backup."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from telegram.error import TelegramError

from bot.sender import Sender, Unreachable
from conversations.render import Send

log = logging.getLogger("heard")


class Notice(Protocol):
    """Tell the people who look after the bot something that needs them."""

    async def tell(self, text: str) -> int:
        """Send `text`; return how many people it reached."""


class AdminNotice:
    """Send a message to each admin; what cannot be sent is logged, never raised."""

    def __init__(self, sender: Sender, admins: Sequence[int]) -> None:
        self.sender = sender
        self.admins = tuple(admins)

    async def tell(self, text: str) -> int:
        """Send `text` to every admin; return how many it reached."""
        if not self.admins:
            log.warning("no admin to tell (HEARD_ADMINS is empty): %s", text)
            return 0
        reached = 0
        for admin in self.admins:
            try:
                await self.sender.deliver(admin, [Send(text)], None)
            except (Unreachable, TelegramError) as error:
                log.warning("could not tell admin %s: %s", admin, error)
                continue
            reached += 1
        return reached
