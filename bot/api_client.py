"""Heard's Bot API requests: unreadable updates are skipped, and a refused token is noticed.

python-telegram-bot parses a whole getUpdates batch at once: one update it cannot parse fails
the batch, is logged raw at CRITICAL (names, messages) and is fetched again at once, for ever,
holding back every later update. Here each update of a batch is checked on its own before the
library sees it (`bot.updates.readable`); one it could not parse is passed on as an update with
nothing in it, so polling moves past it.

A token Telegram refuses (revoked, or wrong) stops polling for good in python-telegram-bot while
the process carries on. Here the first refusal sets `TokenWatch.refused`, which the composition
root waits on to stop the bot and exit with one line; polling then waits quietly to be stopped.

Both work through `HTTPXRequest.do_request`, the method python-telegram-bot documents for
custom request classes: no private part of the library is used.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from telegram.error import InvalidToken
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from bot.updates import readable

GET_UPDATES = "/getUpdates"
# The answers python-telegram-bot turns into InvalidToken.
REFUSED = (HTTPStatus.UNAUTHORIZED, HTTPStatus.NOT_FOUND)
NOTHING = b'{"ok": true, "result": []}'


@dataclass
class TokenWatch:
    """Whether Telegram has refused the bot's token, and its first refusal."""

    refused: asyncio.Event = field(default_factory=asyncio.Event)
    refusal: InvalidToken | None = None

    def refuse(self, payload: bytes) -> None:
        """Note a refusal, with Telegram's description of it."""
        if self.refusal is None:
            self.refusal = InvalidToken(_description(payload))
        self.refused.set()


class HeardRequest(HTTPXRequest):
    """HTTPXRequest that reads getUpdates answers update by update and watches for refusals."""

    def __init__(self, watch: TokenWatch, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watch = watch

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make the call; keep what cannot be read from getUpdates, and note a refused token."""
        polling = url.endswith(GET_UPDATES)
        if polling and self.watch.refused.is_set():
            # Nothing can be fetched, nor confirmed, with a refused token: the library's last
            # call on stopping gets an empty batch (polling itself is waiting, below).
            return HTTPStatus.OK, NOTHING
        code, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if code in REFUSED:
            self.watch.refuse(payload)
            if polling:
                # Instead of the library's polling dying with a traceback, it waits to be stopped.
                await asyncio.Future()
            return code, payload
        if polling and code == HTTPStatus.OK:
            return code, _readable_batch(payload)
        return code, payload


def _readable_batch(payload: bytes) -> bytes:
    """Return a getUpdates answer with every update the library cannot parse emptied."""
    try:
        answer = json.loads(payload)
        updates = answer["result"]
    except (ValueError, TypeError, KeyError):
        return payload  # the library says what is wrong with it
    if not isinstance(updates, list):
        return payload
    kept = readable(updates)
    if kept is updates:
        return payload
    answer["result"] = kept
    return json.dumps(answer).encode()


def _description(payload: bytes) -> str:
    try:
        answer = json.loads(payload)
        return str(answer.get("description") or "Unauthorized")
    except (ValueError, AttributeError):
        return "Unauthorized"


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


async def until_stopped(stop: asyncio.Event, watch: TokenWatch) -> None:
    """Wait until `stop` is set or Telegram refuses the bot's token, whichever comes first."""
    waits = {asyncio.create_task(stop.wait()), asyncio.create_task(watch.refused.wait())}
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
