"""Heard's Bot API client: skips updates it cannot read, and notices a refused token.

python-telegram-bot parses a whole getUpdates batch at once: one update it cannot parse fails
the batch, is logged raw at CRITICAL (names, messages) and is fetched again at once, for ever,
holding back every later update. Here each update is parsed on its own (`bot.updates`).

A token Telegram refuses (revoked, or wrong) stops polling for good in python-telegram-bot while
the process carries on. Here the first refusal sets `refused`, which the composition root waits
on to stop the bot and exit with one line; polling then waits quietly to be stopped.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.error import InvalidToken
from telegram.ext import ExtBot

from bot.updates import read_updates

GET_UPDATES = "getUpdates"


@dataclass
class _Polling:
    """What the client learnt from its calls (a bot's own attributes are frozen)."""

    refused: asyncio.Event = field(default_factory=asyncio.Event)
    refusal: InvalidToken | None = None
    fetched: tuple[Update, ...] = ()


class HeardBot(ExtBot[Any]):
    """An ExtBot that reads updates one by one and remembers a refused token."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self._polling = _Polling()

    @property
    def refused(self) -> asyncio.Event:
        """Return the event set once Telegram refuses the token."""
        return self._polling.refused

    @property
    def refusal(self) -> InvalidToken | None:
        """Return Telegram's first refusal of the token, if it refused it."""
        return self._polling.refusal

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """Fetch updates; those that cannot be parsed come back empty, so the offset moves on."""
        polling = self._polling
        polling.fetched = ()
        # `_post` keeps what it fetched and hands the library nothing to parse.
        nothing: tuple[Update, ...] = await super().get_updates(*args, **kwargs)
        fetched: tuple[Update, ...] = polling.fetched
        polling.fetched = ()
        for update in fetched:
            self.insert_callback_data(update)
        return nothing + fetched

    async def _post(self, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        if endpoint == GET_UPDATES and self.refused.is_set():
            return []  # with a refused token nothing can be fetched, nor confirmed
        try:
            result = await super()._post(endpoint, *args, **kwargs)
        except InvalidToken as error:
            if self._polling.refusal is None:
                self._polling.refusal = error
            self._polling.refused.set()
            if endpoint == GET_UPDATES:
                # Polling waits here until the bot stops it, instead of dying with a traceback.
                await asyncio.Future()
            raise
        if endpoint != GET_UPDATES:
            return result
        self._polling.fetched = read_updates(result, self)
        return []


def refusal_line(error: InvalidToken) -> str:
    """Say in one line that the token was refused, and what to do (never the token itself)."""
    # At start-up the library re-raises the server's answer with the token in the message.
    answer = error.__cause__ if isinstance(error.__cause__, InvalidToken) else error
    said = "Unauthorized" if "unauthorized" in answer.message.lower() else "Not Found"
    line = (
        f"TELEGRAM_BOT_TOKEN was refused by the Bot API ({said}): it is wrong or has "
        "been revoked; put the bot's current token from @BotFather in TELEGRAM_BOT_TOKEN"
    )
    if said != "Unauthorized":
        line += ", and check that TELEGRAM_API_URL is a Bot API address"
    return line


async def until_stopped(stop: asyncio.Event, bot: HeardBot) -> None:
    """Wait until `stop` is set or Telegram refuses the bot's token, whichever comes first."""
    waits = {asyncio.create_task(stop.wait()), asyncio.create_task(bot.refused.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
