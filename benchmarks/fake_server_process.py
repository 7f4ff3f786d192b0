"""Run the fake Bot API server in a process of its own, for benchmarks.

Run: python -m benchmarks.fake_server_process --figures PATH [--send-limit N] [--chats FIRST:COUNT]
[--control] [--latency-ms MS]

It serves on 127.0.0.1 only and prints one JSON line, {"port": PORT}, once it is ready; with
--control, {"port": PORT, "control_port": PORT} and a load driver can act as users through the
routes of benchmarks.fake_server_control on the second port (127.0.0.1 too). With
--latency-ms, every Bot API call waits that long before it is carried out (Telegram's round
trip is about 100 ms; the driver's routes are not delayed). The
private chats FIRST, FIRST+1, ... are open from the start, as if those people had written to
the bot. On SIGTERM or SIGINT (or after --max-seconds, so it always stops by itself) it writes
every sendMessage call it answered to the figures file as JSON, then exits:
{"sends": [[chat_id, at, error_code], ...]} in the order answered, where `at` is the server's
time.monotonic() and error_code is 0 for a message accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.fake_server_control import Control
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456:BENCHMARK-TOKEN-abcdefghij"


def chat_range(text: str) -> range:
    """Parse FIRST:COUNT into the range of chat ids it names."""
    first, _, count = text.partition(":")
    return range(int(first), int(first) + int(count))


def send_records(server: FakeTelegram) -> list[list[float]]:
    """Return [chat_id, at, error_code] for every sendMessage call, in the order answered."""
    records = []
    for call in server.calls_of("sendMessage"):
        code = 0 if call.ok else int(call.result_or_error.get("error_code", -1))
        records.append([call.params.get("chat_id", 0), call.at, code])
    return records


async def serve(args: argparse.Namespace) -> None:
    """Serve until told to stop, then write the figures."""
    latency = args.latency_ms / 1000
    server = FakeTelegram(TOKEN, send_limit_per_second=args.send_limit, latency=latency)
    for text in args.chats:
        for chat_id in chat_range(text):
            server.add_private_chat(chat_id)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    control = Control(server)
    async with server:
        ready = {"port": urlsplit(server.base_url).port}
        if args.control:
            await control.start()
            ready["control_port"] = control.port
        print(json.dumps(ready), flush=True)
        try:
            with contextlib.suppress(TimeoutError):  # the bound, so it always stops by itself
                await asyncio.wait_for(stop.wait(), args.max_seconds)
        finally:
            await control.stop()
    args.figures.write_text(json.dumps({"sends": send_records(server)}), encoding="utf-8")


def main() -> None:
    """Parse the options and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", type=Path, required=True)
    parser.add_argument("--send-limit", type=float, default=None)
    parser.add_argument("--chats", action="append", default=[], metavar="FIRST:COUNT")
    parser.add_argument("--max-seconds", type=float, default=1800.0)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every call")
    parser.add_argument(
        "--control", action="store_true", help="serve the load driver's routes too"
    )
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
