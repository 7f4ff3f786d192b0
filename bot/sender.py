"""The one place that turns rendered messages into Bot API calls."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, Forbidden, TelegramError

from conversations.render import Keyboard, Outgoing, PromptButtons, Send, SettlePrompt

log = logging.getLogger(__name__)

# Edits that fail for these reasons change nothing the participant needs.
HARMLESS_EDIT_ERRORS = ("message is not modified", "message to edit not found", "can't be edited")


class Unreachable(Exception):
    """Telegram refused to deliver: the participant blocked the bot or left Telegram."""


class Sender(Protocol):
    """Deliver rendered messages to one chat."""

    async def deliver(
        self, chat_id: int, messages: Sequence[Outgoing], prompt_id: int | None
    ) -> int | None:
        """Send and edit in order; return the id of the message now holding the question."""

    async def answer_button(self, callback_id: str) -> None:
        """Stop the spinner on a pressed button."""

    async def send_file(self, chat_id: int, name: str, content: bytes) -> None:
        """Send a file as a document."""

    async def delete(self, chat_id: int, message_id: int) -> bool:
        """Delete a message the bot sent; False where Telegram no longer allows it."""


class TelegramSender:
    """Sender over python-telegram-bot, in plain text: nothing a participant wrote is parsed."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def deliver(
        self, chat_id: int, messages: Sequence[Outgoing], prompt_id: int | None
    ) -> int | None:
        """Send and edit in order; return the id of the message now holding the question."""
        try:
            for message in messages:
                prompt_id = await self._one(chat_id, message, prompt_id)
        except Forbidden as error:
            raise Unreachable(str(error)) from error
        return prompt_id

    async def _one(self, chat_id: int, message: Outgoing, prompt_id: int | None) -> int | None:
        if isinstance(message, Send):
            quoted = None
            if message.reply_to is not None:
                quoted = ReplyParameters(message.reply_to, allow_sending_without_reply=True)
            sent = await self.bot.send_message(
                chat_id,
                message.text,
                reply_markup=_markup(message.keyboard),
                reply_parameters=quoted,
            )
            return sent.message_id if message.prompt else prompt_id
        if prompt_id is None:
            return None
        try:
            if isinstance(message, SettlePrompt):
                await self.bot.edit_message_text(message.text, chat_id, prompt_id)
            elif isinstance(message, PromptButtons):
                await self.bot.edit_message_reply_markup(
                    chat_id, prompt_id, reply_markup=_markup(message.keyboard)
                )
        except BadRequest as error:
            if not any(reason in str(error).lower() for reason in HARMLESS_EDIT_ERRORS):
                raise
            log.debug("edit skipped in a chat: %s", error)
        return prompt_id

    async def send_file(self, chat_id: int, name: str, content: bytes) -> None:
        """Send a file as a document."""
        try:
            await self.bot.send_document(chat_id, content, filename=name)
        except Forbidden as error:
            raise Unreachable(str(error)) from error

    async def delete(self, chat_id: int, message_id: int) -> bool:
        """Delete a message the bot sent; False where Telegram no longer allows it."""
        try:
            return await self.bot.delete_message(chat_id, message_id)
        except BadRequest as error:
            # Older than 48 hours, or already gone: the caller edits the words out instead.
            log.info("a message could not be deleted: %s", error)
            return False
        except Forbidden as error:
            raise Unreachable(str(error)) from error

    async def answer_button(self, callback_id: str) -> None:
        """Stop the spinner on a pressed button (a late or failed answer is harmless)."""
        try:
            await self.bot.answer_callback_query(callback_id)
        except TelegramError as error:
            # The spinner stops by itself; the press must still be handled (and stored).
            log.debug("callback answer skipped: %s", error)


def _markup(keyboard: Keyboard) -> InlineKeyboardMarkup | None:
    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in keyboard]
    )
