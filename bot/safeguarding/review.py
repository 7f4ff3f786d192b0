"""The safeguarding queue: /flags with outcome buttons, /note, and /reply written by a person."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.access import Access
from bot.handlers import who
from bot.journey import Journey, Who
from bot.sender import Unreachable
from bot.staff import guarded
from conversations.callbacks import ChoiceButton, FlagButton, decode
from conversations.catalog import catalog
from conversations.render import Button, Outgoing, PromptButtons, Send

Context = ContextTypes.DEFAULT_TYPE
SHOWN_FLAGS = 10
OUTCOMES = ("n", "s", "e")
MAX_REPLY = 3500


class ReviewHandlers:
    """Commands and buttons for people with the safeguarding role."""

    def __init__(self, access: Access, journey: Journey) -> None:
        self.access = access
        self.journey = journey
        self.alerts = journey.alerts
        self.words = catalog("en")

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add the review commands and the outcome buttons; before the participant handlers."""
        private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        for name, command in (("flags", self.flags), ("note", self.note), ("reply", self.reply)):
            handler = guarded(self.access, self.journey, name, command)
            app.add_handler(CommandHandler(name, handler, filters=private))
        app.add_handler(CallbackQueryHandler(self.outcome, pattern=r"^v1\|f\|"))

    async def flags(self, person: Who, args: list[str], context: Context) -> None:
        """Show open flags, then concerns (lower priority), oldest first, with outcome buttons."""
        open_flags = (await self.access.repository.flags())[:SHOWN_FLAGS]
        await self.access.record(person.user_id, "flags", f"viewed {len(open_flags)} open")
        if not open_flags:
            await self._reply(person, [Send(self.words("flags_none"))])
            return
        concerns = sum(1 for flag in open_flags if flag.priority == "concern")
        heading = (
            self.words("flags_heading", count=len(open_flags))
            if not concerns
            else self.words(
                "flags_heading_concerns", flags=len(open_flags) - concerns, concerns=concerns
            )
        )
        messages: list[Outgoing] = [Send(heading)]
        for flag in open_flags:
            buttons = tuple(
                (Button(self.words(f"button_outcome_{o}"), FlagButton(flag.id, o).encode()),)
                for o in OUTCOMES
            )
            messages.append(Send(await self.alerts.describe(flag), buttons))
        await self._reply(person, messages)

    async def note(self, person: Who, args: list[str], context: Context) -> None:
        """Add a note to a flag: /note ID text."""
        if len(args) < 2 or not args[0].removeprefix("F-").isdecimal():
            await self._reply(person, [Send(self.words("note_usage"))])
            return
        flag_id, text = int(args[0].removeprefix("F-")), " ".join(args[1:])[:2000]
        audit = await self.access.entry(person.user_id, "flag note", f"F-{flag_id}")
        saved = await self.access.repository.note_flag(flag_id, text, audit)
        if saved:
            self.alerts.kick()
        key = "note_saved" if saved else "flag_gone"
        await self._reply(person, [Send(self.words(key, id=flag_id))])

    async def reply(self, person: Who, args: list[str], context: Context) -> None:
        """Send a participant a message written by a person: /reply CODE text.

        It carries a Reply button (and Telegram's own Reply works on it): their answer comes
        back to the safeguarding chat, threaded with their flag, never into survey answers.
        """
        if len(args) < 2 or not args[0].upper().startswith("P-"):
            await self._reply(person, [Send(self.words("reply_usage"))])
            return
        repository = self.access.repository
        code, text = args[0].upper(), " ".join(args[1:])[:MAX_REPLY]
        contact = await repository.contact_for_code(code)
        if contact is None:
            await self._reply(person, [Send(self.words("reply_unknown", code=code))])
            return
        if contact.participant.status == "unreachable":
            # A 403 said they blocked the bot or left Telegram: nothing is tried again until
            # they write (and so become active again).
            await self._reply(person, [Send(self.words("reply_unreachable", code=code))])
            return
        flag = await repository.open_flag_of(code)
        if contact.participant.status == "stopped" and flag is None:
            await self.access.record(
                person.user_id, "reply refused", f"to {code}: they sent /stop"
            )
            await self._reply(person, [Send(self.words("reply_refused_stopped", code=code))])
            return
        words = catalog(contact.participant.language)
        button = Button(words("button_reply"), ChoiceButton("reply", "y").encode())
        message = Send(words("reply_to_participant", text=text), ((button,),), prompt=True)
        try:
            shown = await self.journey.sender.deliver(contact.chat_id, [message], None)
        except Unreachable:
            await repository.set_status(code, "unreachable")
            await self._reply(person, [Send(self.words("reply_unreachable", code=code))])
            return
        audit = await self.access.entry(
            person.user_id, "reply", f"to {code} ({len(text)} characters)"
        )
        await repository.add_contact_message(
            code,
            "to_participant",
            text,
            audit.at,
            flag_id=flag.id if flag else None,
            staff_user_id=person.user_id,
            chat_message_id=shown,
            audit=audit,
        )
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
        audit = await self.access.entry(
            person.user_id, "flag outcome", f"F-{button.flag}: {outcome}"
        )
        done = await self.access.repository.review_flag(
            button.flag, person.user_id, outcome, audit
        )
        if done:
            # The alert in the safeguarding chat is edited to show the outcome.
            self.alerts.kick()
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
