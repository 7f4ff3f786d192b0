"""Baseline (a): a bare python-telegram-bot application making Heard's Bot API calls per answer.

Run (the throughput benchmark runs it): python -m benchmarks.throughput_bare --api-url URL
--token TOKEN --rate R

The same rate limiter as `heard run` (bot.app.build_application): AIORateLimiter with
overall_max_rate=max(30, R) and max_retries=3, and 4 getUpdates connections. Updates are
handled one at a time, python-telegram-bot's default and its fastest on loopback; with
--concurrency N, N taken in at once through Heard's own per-chat ordered update processor, as
many at work as its work slots allow (Heard takes in 256). Per answer it makes the calls Heard
makes: for a button, answerCallbackQuery; then editMessageText (the question, now with the
answer) and sendMessage (the next question, with the same words and buttons); after the last
answer the end and the contact question. No database and no engine: a dict of where each chat
is. So it is what the framework costs for Heard's work, and nothing else.

With --store PATH (baseline a+db) it also keeps every answer in SQLite the way Heard does,
with Heard's three database trips an answer (benchmarks.bare_store): what the framework and
the database machinery cost for the same calls with every answer durably committed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable

import httpx
from telegram import Bot, Update
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from benchmarks.bare_store import BareStore
from benchmarks.survey import Script, resume_question, script
from bot.chat_locks import ChatLocks
from bot.processor import ChatOrderedProcessor

Context = ContextTypes.DEFAULT_TYPE


class Bare:
    """Ask the survey's questions, remembering only where each chat is (with a store: there)."""

    def __init__(self, words: Script, store: BareStore | None = None) -> None:
        self.words = words
        self.store = store
        # chat id -> (question being asked, 0-based; the message holding it); without a store
        self.where: dict[int, tuple[int, int | None]] = {}

    async def start(self, update: Update, context: Context) -> None:
        """Ask the first question."""
        if update.effective_chat is not None:
            await self._ask(context.bot, update.effective_chat.id, 0)

    async def button(self, update: Update, context: Context) -> None:
        """Stop the spinner, settle the question with the chosen label, ask the next."""
        query = update.callback_query
        if query is None or update.effective_chat is None:
            return
        await context.bot.answer_callback_query(query.id)
        chosen = query.data or ""
        await self._answer(
            context.bot, update.effective_chat.id, lambda i: self.words.asked[i].label(chosen)
        )

    async def text(self, update: Update, context: Context) -> None:
        """Settle the question with the typed words, ask the next."""
        if update.message is not None and update.effective_chat is not None:
            typed = update.message.text or ""
            await self._answer(context.bot, update.effective_chat.id, lambda _: typed)

    async def _position(self, chat: int) -> tuple[int, int | None]:
        if self.store is None:
            found = self.where.get(chat)
        else:
            found = await self.store.position(chat)
        if found is None or found[0] >= len(self.words.asked):
            # Someone the bot does not know (after a restart) stands where the seeding put them;
            # so does anyone who has finished.
            return resume_question(chat), None
        return found

    async def _answer(self, bot: Bot, chat: int, answer: Callable[[int], str]) -> None:
        index, prompt = await self._position(chat)
        words = answer(index)
        if self.store is not None:
            # As Heard: the answer is on the disk before anything is shown.
            await self.store.save(chat, index, words)
        if prompt is not None:
            # As Heard's sender: an edit that changes nothing, or comes too late, is harmless.
            with contextlib.suppress(BadRequest):
                await bot.edit_message_text(self.words.asked[index].settled(words), chat, prompt)
        await self._ask(bot, chat, index + 1)

    async def _ask(self, bot: Bot, chat: int, index: int) -> None:
        if index < len(self.words.asked):
            asked = self.words.asked[index]
            sent = await bot.send_message(chat, asked.text, reply_markup=asked.markup())
            await self._shown(chat, index, sent.message_id)
            return
        await bot.send_message(chat, self.words.end)
        sent = await bot.send_message(
            chat, self.words.contact, reply_markup=self.words.contact_markup()
        )
        await self._shown(chat, index, sent.message_id)

    async def _shown(self, chat: int, index: int, message_id: int) -> None:
        if self.store is None:
            self.where[chat] = (index, message_id)
        else:
            await self.store.mark(chat, index, message_id)


def main() -> None:
    """Parse the options and poll until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--rate", type=float, default=25.0, help="as HEARD_SEND_RATE")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="updates taken in, ordered per chat, worked on as Heard's slots allow (Heard: 256); "
        "0: one at a time",
    )
    parser.add_argument(
        "--store", default=None, help="keep every answer in this SQLite file, as Heard does"
    )
    parser.add_argument(
        "--keepalive",
        type=int,
        default=None,
        help="HTTP connections kept open between calls (default: httpx's 20)",
    )
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    builder = (
        ApplicationBuilder()
        .token(args.token)
        .base_url(args.api_url)
        .rate_limiter(AIORateLimiter(overall_max_rate=max(30.0, args.rate), max_retries=3))
        .get_updates_connection_pool_size(4)
    )
    if args.concurrency:
        builder.concurrent_updates(ChatOrderedProcessor(ChatLocks(), args.concurrency))
    if args.keepalive is not None:
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=args.keepalive)
        builder.request(HTTPXRequest(httpx_kwargs={"limits": limits}))
    bare = Bare(script())
    if args.store is not None:
        path = args.store

        async def open_store(_: object) -> None:
            bare.store = await BareStore.open(path)

        async def close_store(_: object) -> None:
            if bare.store is not None:
                await bare.store.close()

        builder.post_init(open_store).post_shutdown(close_store)
    app = builder.build()
    private = filters.ChatType.PRIVATE
    app.add_handler(CommandHandler("start", bare.start, filters=private))
    app.add_handler(CallbackQueryHandler(bare.button))
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, bare.text))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
