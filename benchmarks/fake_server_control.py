"""Loopback routes that let a load driver in another process act as many Telegram users.

The fake Bot API server (benchmarks.fake_server_process --control) serves these on a second
port of 127.0.0.1, beside the Bot API itself. Every time is the server's time.monotonic(),
which on Linux is one clock for every process, so a driver can compare it with its own.

- POST /inject {"actions": [{"user": ID, "text": TEXT} | {"user": ID, "message": MESSAGE_ID,
  "data": CALLBACK_DATA}, ...]}: queue a text message or a button press per action, as that
  user in their private chat; answers {"at": [TIME or null, ...]}, null where the pressed
  message does not exist.
- GET /events?cursor=N&timeout=S: wait (at most S seconds) until the bot has sent a message
  after call N; answers {"cursor": M, "events": [[chat_id, message_id, at, rows], ...]}, rows
  being the callback data of the message's inline keyboard, row by row.
- GET /calls?cursor=N: the Bot API calls answered since call N, by method:
  {"cursor": M, "methods": {METHOD: [ok, failed]}, "pending": updates not yet confirmed,
  "first_poll_at": when the first getUpdates among them was answered, or null}.
- GET /ready?timeout=S: wait (at most S seconds) until a getUpdates long poll is waiting;
  answers {"at": TIME}, or 504 if none came.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from aiohttp import web

from tests.support.fake_telegram import Call, FakeTelegram

HOST = "127.0.0.1"
MAX_WAIT_SECONDS = 60.0
MAX_BODY_BYTES = 64 * 1024 * 1024

Event = list[Any]


def _keyboard(call: Call) -> list[list[str]]:
    """Return the callback data of a sent message's inline keyboard, row by row."""
    markup = call.params.get("reply_markup")
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [[str(button.get("callback_data", "")) for button in row] for row in rows]


def _seconds(request: web.Request) -> float:
    """Return the request's timeout, bounded."""
    return min(max(float(request.query.get("timeout", "10")), 0.0), MAX_WAIT_SECONDS)


class Control:
    """The load driver's routes over one fake server."""

    def __init__(self, server: FakeTelegram) -> None:
        self.server = server
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        """Serve the control routes on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/inject", self.inject)
        app.router.add_get("/events", self.events)
        app.router.add_get("/calls", self.calls)
        app.router.add_get("/ready", self.ready)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, HOST, 0).start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving the control routes."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def inject(self, request: web.Request) -> web.Response:
        """Queue each action as an update from its user, and say when each was queued."""
        body = await request.json()
        stamps: list[float | None] = []
        for action in body["actions"]:
            user = int(action["user"])
            if "text" in action:
                self.server.send_text(user, str(action["text"]))
            else:
                try:
                    self.server.press(user, int(action["message"]), str(action["data"]))
                except LookupError:
                    stamps.append(None)
                    continue
            stamps.append(time.monotonic())
        return web.json_response({"at": stamps})

    async def events(self, request: web.Request) -> web.Response:
        """Answer the messages the bot sent after a cursor, waiting a while for one."""
        calls = self.server.calls
        scanned = min(int(request.query.get("cursor", "0")), len(calls))
        found: list[Event] = []

        def sent() -> bool:
            nonlocal scanned
            while scanned < len(calls):
                call = calls[scanned]
                scanned += 1
                if call.method == "sendMessage" and call.ok:
                    chat, message = call.params["chat_id"], call.result_or_error["message_id"]
                    found.append([chat, message, call.at, _keyboard(call)])
            return bool(found)

        with contextlib.suppress(TimeoutError):
            await self.server.wait_for(sent, timeout=_seconds(request))
        return web.json_response({"cursor": scanned, "events": found})

    async def calls(self, request: web.Request) -> web.Response:
        """Count the calls answered since a cursor, by method and outcome."""
        calls = self.server.calls
        start = min(int(request.query.get("cursor", "0")), len(calls))
        methods: dict[str, list[int]] = {}
        first_poll: float | None = None
        for call in calls[start:]:
            counts = methods.setdefault(call.method, [0, 0])
            counts[0 if call.ok else 1] += 1
            if first_poll is None and call.method == "getUpdates":
                first_poll = call.at
        pending = len(self.server.pending_update_ids())
        return web.json_response(
            {
                "cursor": len(calls),
                "methods": methods,
                "pending": pending,
                "first_poll_at": first_poll,
            }
        )

    async def ready(self, request: web.Request) -> web.Response:
        """Answer once a long poll is waiting: the bot is ready to take updates."""
        try:
            await self.server.wait_for(lambda: self.server.polls_waiting > 0, _seconds(request))
        except TimeoutError:
            return web.json_response({"at": None}, status=504)
        return web.json_response({"at": time.monotonic()})
