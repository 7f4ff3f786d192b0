"""Telegram handlers: narrow each update once, then hand it to the journey."""

from __future__ import annotations

import logging
from collections import OrderedDict

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.access import PRIVILEGED, Access
from bot.data_rights import DataRights
from bot.journey import Journey, Who
from bot.rounds.invitations import Invitations
from conversations.callbacks import (
    AgeButton,
    ChoiceButton,
    ConsentButton,
    ExportButton,
    FlagButton,
    InviteButton,
    QuestionButton,
    RoundButton,
    decode,
)
from conversations.catalog import catalog
from conversations.events import Back, NotText, Pause, Show, Skip, Text

log = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
PRIVATE = filters.ChatType.PRIVATE
TOLD_LIMIT = 10_000
# The command each kind of staff button belongs to, to audit one pressed outside a private chat.
STAFF_BUTTONS: dict[type, str] = {
    ExportButton: "export",
    FlagButton: "flags",
    RoundButton: "round",
}


def who(update: Update) -> Who | None:
    """Return the user and chat of an update from a private chat, else None."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.type != ChatType.PRIVATE or user.is_bot:
        return None
    return Who(user.id, chat.id, user.language_code)


class Handlers:
    """Bound handlers for the participant side of the bot."""

    def __init__(
        self,
        journey: Journey,
        access: Access,
        rights: DataRights,
        quiet_chats: frozenset[int] = frozenset(),
    ) -> None:
        self.journey = journey
        self.invitations = Invitations(journey)
        self.access = access
        self.rights = rights
        # Staff chats the bot posts into (the safeguarding chat): it answers nothing there.
        self.quiet_chats = quiet_chats
        # Groups already told the bot works in private chats: once is enough.
        self._told: OrderedDict[int, None] = OrderedDict()

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add every handler to the application. Order matters: first match wins."""
        app.add_handler(TypeHandler(Update, self.not_private, strict=False), group=-1)
        message = filters.UpdateType.MESSAGE & PRIVATE
        app.add_handler(CommandHandler("start", self.start, filters=message))
        app.add_handler(CommandHandler("help", self.help, filters=message))
        app.add_handler(CommandHandler("stop", self.stop, filters=message))
        app.add_handler(CommandHandler("skip", self.skip, filters=message))
        app.add_handler(CommandHandler("back", self.back, filters=message))
        app.add_handler(CommandHandler("pause", self.pause, filters=message))
        app.add_handler(CommandHandler("settings", self.settings, filters=message))
        app.add_handler(CommandHandler("mydata", self.my_data, filters=message))
        app.add_handler(CommandHandler("delete", self.delete, filters=message))
        app.add_handler(CallbackQueryHandler(self.button))
        app.add_handler(MessageHandler(message & filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(message & filters.TEXT, self.text))
        app.add_handler(MessageHandler(message, self.not_text))
        app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE & PRIVATE, self.edited))

    async def not_private(self, update: Update, context: Context) -> None:
        """Answer groups and channels with one line, and handle nothing else there."""
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE:
            return
        # Audited everywhere, the quiet staff chats included: only the answer is left out there.
        tried = _privileged(update)
        if tried is not None and update.effective_user is not None:
            await self.access.refused(update.effective_user.id, tried, where=f"{chat.type} chat")
        if chat.id in self.quiet_chats:
            raise ApplicationHandlerStop
        if update.callback_query is not None:
            await update.callback_query.answer()
        if (update.message is not None or update.channel_post is not None) and self._tell(chat.id):
            await context.bot.send_message(chat.id, catalog("en")("not_private"))
        raise ApplicationHandlerStop

    def _tell(self, chat_id: int) -> bool:
        """Say whether a group or channel still needs telling (remembering the last 10,000)."""
        if chat_id in self._told:
            return False
        self._told[chat_id] = None
        if len(self._told) > TOLD_LIMIT:
            self._told.popitem(last=False)
        return True

    async def start(self, update: Update, context: Context) -> None:
        """Begin, or carry on where the participant left off."""
        if (person := who(update)) is not None:
            await self.journey.start(person)

    async def help(self, update: Update, context: Context) -> None:
        """Explain the bot and where to get urgent help."""
        if (person := who(update)) is not None:
            await self.journey.help(person)

    async def stop(self, update: Update, context: Context) -> None:
        """Stop all messages from the bot."""
        if (person := who(update)) is not None:
            await self.journey.stop(person)

    async def skip(self, update: Update, context: Context) -> None:
        """Skip the current question."""
        if (person := who(update)) is not None:
            await self.journey.act(person, Skip())

    async def back(self, update: Update, context: Context) -> None:
        """Go back to change the last answer."""
        if (person := who(update)) is not None:
            await self.journey.act(person, Back())

    async def pause(self, update: Update, context: Context) -> None:
        """Pause the conversation."""
        if (person := who(update)) is not None:
            await self.journey.act(person, Pause())

    async def settings(self, update: Update, context: Context) -> None:
        """Show the participant's choices."""
        if (person := who(update)) is not None:
            await self.rights.settings(person)

    async def my_data(self, update: Update, context: Context) -> None:
        """Send the participant everything stored about them."""
        if (person := who(update)) is not None:
            await self.rights.my_data(person)

    async def delete(self, update: Update, context: Context) -> None:
        """Offer to delete the participant's data."""
        if (person := who(update)) is not None:
            await self.rights.delete(person)

    async def text(self, update: Update, context: Context) -> None:
        """Take typed text as an answer (or as a way back in, or a reply to staff)."""
        person, message = who(update), update.message
        if person is None or message is None or not message.text:
            return
        quoted = message.reply_to_message
        await self.journey.act(
            person,
            Text(message.text),
            written_at=message.date,
            replying_to=quoted.message_id if quoted is not None else None,
        )

    async def not_text(self, update: Update, context: Context) -> None:
        """Ask kindly for typed words instead of a photo, sticker, voice note and so on.

        A caption is screened like any typed words: words of risk there get the check-in.
        """
        person, message = who(update), update.message
        if person is None or message is None:
            return
        kind = NotText(_kind(update))
        if message.caption:
            await self.journey.written(person, message.caption, "caption", message.date, kind)
        else:
            await self.journey.act(person, kind)

    async def unknown_command(self, update: Update, context: Context) -> None:
        """Point to /help for a command the bot does not have."""
        if (person := who(update)) is not None:
            await self.journey.say(person, "unknown_command")

    async def edited(self, update: Update, context: Context) -> None:
        """Screen the new words of an edit; say that edits are not read as answers."""
        person, message = who(update), update.edited_message
        if person is None:
            return
        words = (message.text or message.caption) if message is not None else None
        if message is not None and words:
            when = message.edit_date or message.date
            await self.journey.written(person, words, "edit", when, None)
        await self.journey.say(person, "edited")

    async def button(self, update: Update, context: Context) -> None:
        """Apply a pressed button; stale or forged data changes nothing."""
        query = update.callback_query
        person = who(update)
        if query is None or person is None:
            return
        await self.journey.sender.answer_button(query.id)
        data = decode(query.data or "")
        message_id = query.message.message_id if query.message else None
        if isinstance(data, AgeButton) and message_id is not None:
            await self.journey.age(person, data, message_id)
        elif isinstance(data, ConsentButton) and data.item:
            await self.invitations.consented(person, data, message_id)
        elif isinstance(data, ConsentButton) and message_id is not None:
            await self.journey.consent(person, data, message_id)
        elif isinstance(data, InviteButton):
            await self.invitations.answer(person, data, message_id)
        elif isinstance(data, QuestionButton):
            await self.journey.press(person, data)
        elif isinstance(data, ChoiceButton) and data.topic == "reply":
            await self.journey.reply_button(person, data.value, message_id)
        elif isinstance(data, ChoiceButton):
            await self.rights.choose(person, data, message_id)
        else:
            log.info("a button with unknown data was pressed")
            await self.journey.act(person, Show(), stale=True)


def _privileged(update: Update) -> str | None:
    """Name the privileged command an update tries, typed or as a staff button; else None."""
    if update.callback_query is not None:
        command = STAFF_BUTTONS.get(type(decode(update.callback_query.data or "")))
        return f"{command} (button)" if command else None
    command = _command(update)
    return command if command in PRIVILEGED else None


def _command(update: Update) -> str | None:
    message = update.message
    text = message.text if message is not None else None
    if not text or not text.startswith("/"):
        return None
    return text[1:].split()[0].split("@")[0].lower() if len(text) > 1 else None


def _kind(update: Update) -> str:
    message = update.message
    if message is None:
        return "unknown"
    for kind in ("photo", "voice", "video_note", "sticker", "document", "video", "audio"):
        if getattr(message, kind, None):
            return kind
    return "other"
