"""Baseline (b): the conventional python-telegram-bot bot for a survey.

Run (the throughput benchmark runs it): python -m benchmarks.throughput_conventional
--api-url URL --token TOKEN --rate R --pickle PATH

A ConversationHandler with one state per question, answers in `context.user_data`,
PicklePersistence (its defaults: written every 60 seconds and at a clean stop, so a crash loses
up to a minute of answers), updates handled one at a time (PTB's default; a ConversationHandler
is not safe with concurrent updates). It asks the same questions with the same words and
buttons and makes the same Bot API calls as Heard, through the same AIORateLimiter settings.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import warnings
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PicklePersistence,
    filters,
)
from telegram.warnings import PTBUserWarning

from benchmarks.survey import Script, script

Context = ContextTypes.DEFAULT_TYPE
NAME = "survey"


class Survey:
    """The survey as conversation states: state N waits for the answer to question N."""

    def __init__(self, words: Script) -> None:
        self.words = words

    async def start(self, update: Update, context: Context) -> int:
        """Ask the first question."""
        return await self._ask(update, context, 0)

    async def button(self, update: Update, context: Context) -> int:
        """Stop the spinner, keep the chosen answer, settle the question, ask the next."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        index = self._index(context)
        return await self._answer(update, context, self.words.asked[index].label(query.data or ""))

    async def text(self, update: Update, context: Context) -> int:
        """Keep the typed answer, settle the question, ask the next."""
        assert update.message is not None
        return await self._answer(update, context, update.message.text or "")

    def _index(self, context: Context) -> int:
        assert context.user_data is not None
        return int(context.user_data.get("question", 0))

    async def _answer(self, update: Update, context: Context, answer: str) -> int:
        assert context.user_data is not None
        assert update.effective_chat is not None
        index = self._index(context)
        context.user_data.setdefault("answers", {})[index] = answer
        prompt = context.user_data.get("prompt")
        if prompt is not None:
            settled = self.words.asked[index].settled(answer)
            with contextlib.suppress(BadRequest):
                await context.bot.edit_message_text(settled, update.effective_chat.id, prompt)
        return await self._ask(update, context, index + 1)

    async def _ask(self, update: Update, context: Context, index: int) -> int:
        assert context.user_data is not None
        assert update.effective_chat is not None
        chat = update.effective_chat.id
        if index == len(self.words.asked):
            await context.bot.send_message(chat, self.words.end)
            markup = self.words.contact_markup()
            await context.bot.send_message(chat, self.words.contact, reply_markup=markup)
            return ConversationHandler.END
        asked = self.words.asked[index]
        sent = await context.bot.send_message(chat, asked.text, reply_markup=asked.markup())
        context.user_data.update(question=index, prompt=sent.message_id)
        return index

    def handler(self) -> ConversationHandler[Any]:
        """Return the ConversationHandler: a state per question, persisted by name."""
        answers: list[BaseHandler[Update, Any, object]] = [
            CallbackQueryHandler(self.button),
            MessageHandler(filters.TEXT & ~filters.COMMAND, self.text),
        ]
        states: dict[object, list[BaseHandler[Update, Any, object]]] = {
            index: list(answers) for index in range(len(self.words.asked))
        }
        with warnings.catch_warnings():
            # "CallbackQueryHandler will not be tracked for every message": as intended here.
            warnings.simplefilter("ignore", PTBUserWarning)
            return ConversationHandler(
                entry_points=[CommandHandler("start", self.start)],
                states=states,
                fallbacks=[],
                name=NAME,
                persistent=True,
            )


def main() -> None:
    """Parse the options and poll until SIGTERM."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--rate", type=float, default=25.0, help="as HEARD_SEND_RATE")
    parser.add_argument("--pickle", type=Path, required=True)
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    app = (
        ApplicationBuilder()
        .token(args.token)
        .base_url(args.api_url)
        .persistence(PicklePersistence(filepath=args.pickle))
        .rate_limiter(AIORateLimiter(overall_max_rate=max(30.0, args.rate), max_retries=3))
        .get_updates_connection_pool_size(4)
        .build()
    )
    app.add_handler(Survey(script()).handler())
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
