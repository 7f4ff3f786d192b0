"""The broadcast baseline: a bare python-telegram-bot Bot sending the same invitations.

Run (the broadcast benchmark runs it): python -m benchmarks.broadcast_baseline --api-url URL
--token TOKEN --first CHAT --count N --rate R

No database and no outbox: the same invitation text and buttons Heard sends, the same
AIORateLimiter settings as `heard run`, the same SendPacer and as many sends in flight as the
dispatcher allows. So it is what the framework itself achieves for this work. Prints one JSON
line: messages sent, errors, the process's peak resident memory in kB and its CPU seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ExtBot

from benchmarks.process_stats import usage
from bot.dispatch.pacing import SendPacer
from bot.rounds.dispatcher import IN_FLIGHT
from bot.rounds.messages import default_invitation, invite_keyboard
from conversations.catalog import catalog
from conversations.loader import load_flow_dir, shipped_flows_dir

FLOW = "community-mental-health"


def invitation_text() -> str:
    """Return the invitation text Heard words from the shipped conversation."""
    loaded, _ = load_flow_dir(shipped_flows_dir())
    flow = next(item.flow for item in loaded if item.flow.id == FLOW)
    return f"{default_invitation(flow, 'en')}\n\n{catalog('en')('invitation_footer')}"


def buttons(item_id: int) -> InlineKeyboardMarkup:
    """Return an invitation's "Take part" / "Not this time" buttons, as Heard builds them."""
    rows = [
        [InlineKeyboardButton(button.label, callback_data=button.data) for button in row]
        for row in invite_keyboard(item_id, "en")
    ]
    return InlineKeyboardMarkup(rows)


async def broadcast(args: argparse.Namespace) -> dict[str, int]:
    """Send one invitation to each chat, paced, IN_FLIGHT at a time."""
    # As in bot.app.build_application.
    limiter = AIORateLimiter(overall_max_rate=max(30.0, args.rate), max_retries=3)
    pacer = SendPacer(args.rate, per_chat_interval=1.0)
    chats = iter(range(args.first, args.first + args.count))
    tally = {"sent": 0, "errors": 0}
    text = invitation_text()
    async with ExtBot(args.token, base_url=args.api_url, rate_limiter=limiter) as bot:

        async def worker() -> None:
            for chat_id in chats:
                markup = buttons(chat_id - args.first + 1)
                await pacer.wait_turn(chat_id)
                try:
                    await bot.send_message(chat_id, text, reply_markup=markup)
                    tally["sent"] += 1
                except TelegramError:
                    tally["errors"] += 1

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
    return tally


def main() -> None:
    """Parse the options, broadcast, print the result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True)
    args = parser.parse_args()
    tally = asyncio.run(broadcast(args))
    used = usage()
    print(json.dumps({**tally, "peak_kb": used.peak_kb, "cpu_seconds": used.cpu_seconds}))


if __name__ == "__main__":
    main()
