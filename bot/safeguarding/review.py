"""The safeguarding queue: /flags with outcome buttons, /note, and /reply written by a person."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.access import Access
from bot.handlers import who
from bot.journey import Journey, Who
from bot.safeguarding.watch import RiskWatch
from bot.sender import Unreachable
from bot.staff import guarded
from conversations.callbacks import FlagButton, decode
from conversations.catalog import catalog
from conversations.render import Button, Outgoing, PromptButtons, Send

Context = ContextTypes.DEFAULT_TYPE
SHOWN_FLAGS = 10
OUTCOMES = ("n", "s", "e")
MAX_REPLY = 3500


class ReviewHandlers:
    """Commands and buttons for people with the safeguarding role."""

    def __init__(self, access: Access, journey: Journey, watch: RiskWatch) -> None:
        self.access = access
        self.journey = journey
        self.watch = watch
        self.words = catalog("en")

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add the review commands and the outcome buttons; before the participant handlers."""
        private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        for name, command in (("flags", self.flags), ("note", self.note), ("reply", self.reply)):
            handler = guarded(self.access, self.journey, name, command)
            app.add_handler(CommandHandler(name, handler, filters=private))
        app.add_handler(CallbackQueryHandler(self.outcome, pattern=r"^v1\|f\|"))

    async def flags(self, person: Who, args: list[str], context: Context) -> None:
        """Show open flags, oldest first, each with outcome buttons."""
        open_flags = (await self.access.repository.flags())[:SHOWN_FLAGS]
        await self.access.record(person.user_id, "flags", f"viewed {len(open_flags)} open")
        if not open_flags:
            await self._reply(person, [Send(self.words("flags_none"))])
            return
        messages: list[Outgoing] = [Send(self.words("flags_heading", count=len(open_flags)))]
        for flag in open_flags:
            buttons = tuple(
                (Button(self.words(f"button_outcome_{o}"), FlagButton(flag.id, o).encode()),)
                for o in OUTCOMES
            )
            messages.append(Send(await self.watch.describe(flag), buttons))
        await self._reply(person, messages)

    async def note(self, person: Who, args: list[str], context: Context) -> None:
        """Add a note to a flag: /note ID text."""
        if len(args) < 2 or not args[0].removeprefix("F-").isdecimal():
            await self._reply(person, [Send(self.words("note_usage"))])
            return
        flag_id, text = int(args[0].removeprefix("F-")), " ".join(args[1:])[:2000]
        saved = await self.access.repository.note_flag(flag_id, text)
        if saved:
            await self.access.record(person.user_id, "flag note", f"F-{flag_id}")
        key = "note_saved" if saved else "flag_gone"
        await self._reply(person, [Send(self.words(key, id=flag_id))])

    async def reply(self, person: Who, args: list[str], context: Context) -> None:
        """Send a participant a message written by a person: /reply CODE text."""
        if len(args) < 2 or not args[0].upper().startswith("P-"):
            await self._reply(person, [Send(self.words("reply_usage"))])
            return
        code, text = args[0].upper(), " ".join(args[1:])[:MAX_REPLY]
        contact = await self.access.repository.contact_for_code(code)
        if contact is None:
            await self._reply(person, [Send(self.words("reply_unknown", code=code))])
            return
        if contact.participant.status == "unreachable":
            # A 403 said they blocked the bot or left Telegram: nothing is tried again until
            # they write (and so become active again).
            await self._reply(person, [Send(self.words("reply_unreachable", code=code))])
            return
        words = catalog(contact.participant.language)
        message = Send(words("reply_to_participant", text=text))
        try:
            await self.journey.sender.deliver(contact.chat_id, [message], None)
        except Unreachable:
            await self.access.repository.set_status(code, "unreachable")
            await self._reply(person, [Send(self.words("reply_unreachable", code=code))])
            return
        await self.access.record(person.user_id, "reply", f"to {code} ({len(text)} characters)")
        await self._reply(person, [Send(self.words("reply_sent", code=code))])

    async def outcome(self, update: Update, context: Context) -> None:
        """Record the outcome a reviewer pressed."""
        query, person = update.callback_query, who(update)
        if query is None or person is None:
            return
        await self.journey.sender.answer_button(query.id)
        button = decode(query.data or "")
        if not isinstance(button, FlagButton):
            return
        if not await self.access.allows(person.user_id, "safeguarding"):
            await self.access.refused(person.user_id, "flags (outcome button)")
            await self.journey.say(person, "stale")
            return
        outcome = self.words(f"outcome_{button.outcome}")
        done = await self.access.repository.review_flag(
            button.flag, person.user_id, outcome, self.access.clock.now()
        )
        if done:
            await self.access.record(person.user_id, "flag outcome", f"F-{button.flag}: {outcome}")
        reply = (
            self.words("flag_reviewed", id=button.flag, outcome=outcome)
            if done
            else self.words("flag_gone", id=button.flag)
        )
        prompt = query.message.message_id if query.message else None
        await self._reply(person, [PromptButtons(()), Send(reply)], prompt)

    async def _reply(
        self, person: Who, messages: list[Outgoing], prompt_id: int | None = None
    ) -> None:
        await self.journey.sender.deliver(person.chat_id, messages, prompt_id)
