"""Coordinators in Telegram: /newround, /rounds, /round ID (Close, Cancel) and /feedback ID.

Only coordinators (admins are coordinators too) in a private chat; anyone else meets the
participant bot, and the attempt is audited. Every button re-checks the role when pressed.
"""

from __future__ import annotations

from datetime import datetime

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.access import Access
from bot.handlers import who
from bot.journey import Journey, Who
from bot.rounds import feedback
from bot.rounds.drafts import Draft, Drafts, RoundDraft
from bot.rounds.feedback import FeedbackGuide
from bot.rounds.newround import DRAFT, NewRoundGuide
from bot.rounds.planner import PlanError, RoundPlanner, RoundView, audience_label
from bot.rounds.when import describe
from bot.rounds.wording import flow_label, people_text, reminders_text, round_number
from bot.staff import guarded
from conversations.callbacks import RoundButton, decode
from conversations.catalog import catalog
from conversations.events import NotText, Text
from conversations.render import Button, Outgoing, PromptButtons, Send
from storage.rounds import Round, RoundFigures

Context = ContextTypes.DEFAULT_TYPE
COORDINATOR = "coordinator"
ROUNDS_SHOWN = 20
MESSAGE_LIMIT = 4096
# A round's buttons: each of these asks "are you sure?" with the action that does it.
SURE = {"close": "closeok", "cancel": "cancelok"}


class CoordinatorHandlers:
    """Set up, watch, close and follow up consultation rounds from Telegram."""

    def __init__(self, access: Access, journey: Journey, planner: RoundPlanner) -> None:
        self.access = access
        self.journey = journey
        self.planner = planner
        self.drafts = Drafts()
        self.newround_guide = NewRoundGuide(planner, journey.sender, self.drafts)
        self.feedback_guide = FeedbackGuide(planner, journey.sender, self.drafts)
        self.words = catalog("en")

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """Add the commands, buttons and typed answers; before the participant handlers."""
        private = filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE
        for name, command in (
            ("newround", self.newround),
            ("rounds", self.rounds),
            ("round", self.round),
            ("feedback", self.feedback),
        ):
            handler = guarded(self.access, self.journey, name, command)
            app.add_handler(CommandHandler(name, handler, filters=private))
        # Only a coordinator with a draft in progress is caught here; everyone else passes by.
        drafting = private & self.drafts.waiting
        app.add_handler(CommandHandler("cancel", self.cancel, filters=drafting))
        app.add_handler(MessageHandler(drafting & ~filters.COMMAND, self.typed))
        app.add_handler(CallbackQueryHandler(self.button, pattern=r"^v1\|r\|"))

    async def newround(self, person: Who, args: list[str], context: Context) -> None:
        """Set up a round, one question at a time."""
        await self.newround_guide.start(person)

    async def rounds(self, person: Who, args: list[str], context: Context) -> None:
        """List the rounds, newest first, with live figures."""
        every = await self.planner.repository.rounds()
        if not every:
            await self._reply(person, [Send(self.words("rounds_none"))])
            return
        shown = every[:ROUNDS_SHOWN]
        blocks = [self.words("rounds_heading")]
        for found in shown:
            blocks.append(self._line(await self.planner.view(found.id)))
        if len(every) > len(shown):
            blocks.append(self.words("rounds_more", shown=len(shown), total=len(every)))
        await self.access.record(person.user_id, "rounds", f"viewed {len(shown)} round(s)")
        await self._reply(person, [Send(text) for text in _pack(blocks)])

    async def round(self, person: Who, args: list[str], context: Context) -> None:
        """Show one round in detail, with Close and Cancel while it can still change."""
        round_id = round_number(args)
        if round_id is None:
            await self._reply(person, [Send(self.words("roundinfo_usage"))])
            return
        try:
            view = await self.planner.view(round_id)
        except PlanError as error:
            await self._refuse(person, error)
            return
        await self.access.record(person.user_id, "round", f"viewed R{round_id}")
        await self._reply(person, [self._detail(view)])

    async def feedback(self, person: Who, args: list[str], context: Context) -> None:
        """Ask for the "you said, we did" message of a round, to preview before sending."""
        round_id = round_number(args)
        if round_id is None:
            await self._reply(person, [Send(self.words("feedback_usage"))])
            return
        await self.feedback_guide.start(person, round_id)

    async def cancel(self, update: Update, context: Context) -> None:
        """Abandon the draft in progress (only users with one reach this)."""
        person = who(update)
        draft = self.drafts.get(person.user_id) if person else None
        if person is None or draft is None:
            return
        if not await self.access.allows(person.user_id, COORDINATOR):
            # The role was taken away mid-draft: the draft goes, and /cancel is unknown to them.
            self.drafts.drop(person.user_id)
            await self.access.refused(person.user_id, f"{_command_of(draft)} (cancel)")
            await self.journey.say(person, "unknown_command")
            return
        if isinstance(draft, RoundDraft):
            await self.newround_guide.cancel(person, draft)
        else:
            await self.feedback_guide.cancel(person, draft)

    async def typed(self, update: Update, context: Context) -> None:
        """Take a message as the answer to the draft's current question."""
        person, message = who(update), update.message
        draft = self.drafts.get(person.user_id) if person else None
        if person is None or message is None or draft is None:
            return
        if not await self.access.allows(person.user_id, COORDINATOR):
            # The role was taken away mid-draft: the draft goes, and they meet the participant bot.
            self.drafts.drop(person.user_id)
            await self.access.refused(person.user_id, f"{_command_of(draft)} (typed answer)")
            await self.journey.act(
                person, Text(message.text) if message.text else NotText("other")
            )
            return
        if isinstance(draft, RoundDraft):
            await self.newround_guide.typed(person, draft, message.text)
        else:
            await self.feedback_guide.typed(person, draft, message.text)

    async def button(self, update: Update, context: Context) -> None:
        """Apply a coordinator's button; from anyone else it changes nothing and is audited."""
        query, person = update.callback_query, who(update)
        if query is None or person is None:
            return
        await self.journey.sender.answer_button(query.id)
        button = decode(query.data or "")
        if not isinstance(button, RoundButton):
            return
        if not await self.access.allows(person.user_id, COORDINATOR):
            await self.access.refused(person.user_id, f"{_command_of(button)} (button)")
            await self.journey.say(person, "stale")
            return
        message_id = query.message.message_id if query.message else None
        if button.round == DRAFT:
            await self.newround_guide.pressed(person, button.action, message_id)
        elif button.action in feedback.ACTIONS:
            await self.feedback_guide.pressed(person, button, message_id)
        else:
            await self._act(person, button, message_id)

    async def _act(self, person: Who, button: RoundButton, message_id: int | None) -> None:
        """Ask "are you sure?", then close or cancel; "back" shows the round again."""
        try:
            view = await self.planner.view(button.round)
            if button.action in SURE:
                await self._ask_sure(person, view, button.action, message_id)
            elif button.action in SURE.values():
                await self._end(person, view.round, button.action == "cancelok", message_id)
            elif button.action == "back":
                unchanged = Send(self.words("roundinfo_unchanged"))
                await self._reply(
                    person, [PromptButtons(()), unchanged, self._detail(view)], message_id
                )
            else:
                stale = Send(self.words("stale"))
                await self._reply(person, [PromptButtons(()), stale], message_id)
        except PlanError as error:
            await self._refuse(person, error, message_id)

    async def _ask_sure(
        self, person: Who, view: RoundView, action: str, message_id: int | None
    ) -> None:
        found = view.round
        if found.status not in ("scheduled", "open"):
            status = self.words(f"rounds_status_{found.status}")
            already = Send(self.words("roundinfo_already", id=found.id, status=status))
            await self._reply(person, [PromptButtons(()), already], message_id)
            return
        midway = view.figures.started - view.figures.completed if found.status == "open" else 0
        sure = self.words(
            f"roundinfo_{action}_sure", id=found.id, title=found.title, midway=people_text(midway)
        )
        yes = Button(self.words(f"button_round_{action}_yes"), _data(found.id, SURE[action]))
        back = Button(self.words("button_round_back"), _data(found.id, "back"))
        await self._reply(person, [PromptButtons(()), Send(sure, ((yes,), (back,)))], message_id)

    async def _end(self, person: Who, found: Round, cancel: bool, message_id: int | None) -> None:
        ended = await self.planner.end(found.id, f"staff:{person.user_id}", cancel=cancel)
        told = (await self.planner.repository.send_tally(found.id, "closed")).total
        key = "roundinfo_cancelled" if cancel else "roundinfo_closed"
        done = self.words(key, id=ended.id, title=ended.title, told=people_text(told))
        await self._reply(person, [PromptButtons(()), Send(done)], message_id)

    def _line(self, view: RoundView) -> str:
        found = view.round
        return self.words(
            "rounds_line",
            id=found.id,
            title=found.title,
            status=self.words(f"rounds_status_{found.status}"),
            opens=self._when(found.opens_at),
            closes=self._when(found.closes_at),
            figures=self._figures(view.figures),
        )

    def _detail(self, view: RoundView) -> Send:
        found, words = view.round, self.words
        if found.feedback_at is None:
            feedback_sent = words("roundinfo_feedback_none", id=found.id)
        else:
            feedback_sent = words("roundinfo_feedback_sent", when=self._when(found.feedback_at))
        text = words(
            "roundinfo",
            id=found.id,
            title=found.title,
            status=words(f"rounds_status_{found.status}"),
            flow=flow_label(found.flow_id, self.planner.flows.latest(found.flow_id)),
            audience=audience_label(found.audience),
            opens=self._when(found.opens_at),
            closes=self._when(found.closes_at),
            reminders=reminders_text(found.reminders, found.reminder_days),
            kept=(
                words("roundinfo_kept_days", days=found.retention_days)
                if found.retention_days
                else words("roundinfo_kept_default")
            ),
            figures=self._figures(view.figures),
            waiting=view.figures.waiting,
            feedback=feedback_sent,
            by=found.created_by,
            created=self._when(found.created_at),
        )
        rows: list[tuple[Button]] = []
        if found.status == "open":
            rows.append((Button(words("button_round_close"), _data(found.id, "close")),))
        if found.status in ("scheduled", "open"):
            rows.append((Button(words("button_round_cancel"), _data(found.id, "cancel")),))
        return Send(text, tuple(rows))

    def _figures(self, figures: RoundFigures) -> str:
        return self.words(
            "rounds_figures",
            eligible=figures.eligible,
            invited=figures.invited,
            started=figures.started,
            completed=figures.completed,
            declined=figures.declined,
            stopped=figures.stopped,
            failed=figures.failed,
        )

    def _when(self, when: datetime) -> str:
        return describe(when, self.planner.zone)

    async def _refuse(self, person: Who, error: PlanError, message_id: int | None = None) -> None:
        refused = Send(self.words("coordinator_refused", reason=error))
        await self._reply(person, [PromptButtons(()), refused], message_id)

    async def _reply(
        self, person: Who, messages: list[Outgoing], prompt_id: int | None = None
    ) -> None:
        await self.journey.sender.deliver(person.chat_id, messages, prompt_id)


def _data(round_id: int, action: str) -> str:
    return RoundButton(round_id, action).encode()


def _command_of(pressed: RoundButton | Draft) -> str:
    """Name the command a button or draft belongs to, for the audit log."""
    if isinstance(pressed, RoundDraft) or (
        isinstance(pressed, RoundButton) and pressed.round == DRAFT
    ):
        return "newround"
    if isinstance(pressed, RoundButton) and pressed.action not in feedback.ACTIONS:
        return "round"
    return "feedback"


def _pack(blocks: list[str]) -> list[str]:
    """Join blocks with blank lines into as few messages as Telegram's limit allows."""
    messages: list[str] = []
    for block in blocks:
        block = block[:MESSAGE_LIMIT]
        if messages and len(messages[-1]) + 2 + len(block) <= MESSAGE_LIMIT:
            messages[-1] += "\n\n" + block
        else:
            messages.append(block)
    return messages
