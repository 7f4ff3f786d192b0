"""The participant journey: consent, then each action through the engine, durable first."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from telegram.error import TelegramError

from bot.check_ins import CheckIns
from bot.clock import Clock
from bot.flows import FlowLibrary
from bot.safeguarding.alerts import Alerts
from bot.safeguarding.concern_note import ConcernNotes
from bot.safeguarding.unstored import Unstored, new_ref
from bot.safeguarding.verdicts import Screening, Verdict
from bot.safeguarding.watch import RiskWatch, Screened
from bot.sender import Sender, Unreachable
from bot.staff_replies import StaffReplies
from bot.support import SupportFile, render_support
from conversations.buttons import button_input
from conversations.callbacks import AgeButton, ConsentButton, QuestionButton
from conversations.catalog import catalog, languages
from conversations.engine import Outcome, RunState, advance
from conversations.events import (
    AlreadyDone,
    Begin,
    Completed,
    Effect,
    Forget,
    Input,
    NeedHelp,
    NotText,
    Pause,
    Paused,
    Record,
    Resume,
    RiskWords,
    Safe,
    Show,
    Stale,
    Text,
)
from conversations.model import Flow
from conversations.render import (
    STAFF_HOURS,
    Outgoing,
    PromptButtons,
    Renderer,
    Send,
    consent_question,
    contact_question,
    intro,
)
from storage.repository import (
    ConsentGiven,
    Contact,
    Participant,
    Pending,
    Repository,
    Run,
    StorageUnavailable,
)
from storage.safety import ContactMessage, FlagSource, KeptMessage, NewFlag

log = logging.getLogger(__name__)
HELP_PRESSED = "pressed “I need help now”"
# Words of risk get the support lines within this long, even while the database is stuck.
SUPPORT_WITHIN = 1.0


@dataclass(frozen=True)
class Who:
    """The person and chat behind an update, narrowed once by the handlers."""

    user_id: int
    chat_id: int
    language_code: str | None = None


class Journey:
    """Carry a participant from /start to the end of a conversation."""

    def __init__(
        self,
        repository: Repository,
        flows: FlowLibrary,
        sender: Sender,
        clock: Clock,
        default_flow: str,
        support: SupportFile,
        watch: RiskWatch,
        alerts: Alerts,
        minimum_age: int = 18,
        staff_hours: str = STAFF_HOURS,
    ) -> None:
        self.repository = repository
        self.flows = flows
        self.sender = sender
        self.clock = clock
        self.default_flow = default_flow
        self.minimum_age = minimum_age
        self.support = support
        self.watch = watch
        self.alerts = alerts
        self.staff_hours = staff_hours
        self.check_ins = CheckIns(repository, alerts, clock, staff_hours)
        self.notes = ConcernNotes(repository, support, staff_hours)
        self.replies = StaffReplies(repository, alerts, clock)

    async def start(self, who: Who) -> None:
        """Welcome a stranger with the intro and consent; resume anyone else."""
        contact, run = await self.repository.contact_and_run(who.user_id)
        if contact is None:
            await self._introduce(who)
            return
        await self.act(who, Show(), contact=contact, run=run)

    async def age(self, who: Who, button: AgeButton, message_id: int) -> None:
        """Ask old enough people for consent; tell anyone younger kindly, and keep nothing."""
        flow = self.flows.latest(button.flow)
        if flow is None or flow.version != button.version:
            await self._introduce(who, stale=True)
            return
        language = self._language(flow, who)
        if not button.old_enough:
            reply = Send(catalog(language)("too_young", age=self.minimum_age))
            await self._send(who.chat_id, [PromptButtons(()), reply], message_id)
            return
        await self._send(
            who.chat_id, [PromptButtons(()), consent_question(flow, language)], message_id
        )

    async def consent(self, who: Who, button: ConsentButton, message_id: int) -> None:
        """Record consent and ask the first question, or end kindly on a no."""
        flow = self.flows.latest(button.flow)
        language = self._language(flow, who) if flow else "en"
        words = catalog(language)
        current = (
            flow is not None
            and flow.version == button.version
            and flow.consent.version == button.consent
        )
        if flow is None or not current:
            await self._send(who.chat_id, [Send(words("stale"))], message_id)
            await self._introduce(who)
            return
        if not button.agree:
            await self._send(who.chat_id, [PromptButtons(()), Send(words("declined"))], message_id)
            return
        contact, run = await self.repository.contact_and_run(who.user_id)
        if contact is not None and run is not None:
            # An old consent button: carry on (or say it is finished); never a second run.
            await self.act(who, Show(), contact=contact, run=run, stale=True)
            return
        participant = await self.repository.enrol(
            user_id=who.user_id,
            chat_id=who.chat_id,
            language=language,
            consent=ConsentGiven(flow.id, flow.version, flow.consent.version),
            now=self.clock.now(),
        )
        await self.begin_run(who.chat_id, participant, flow)
        # Only now, with the first question out: a crash before it leaves the buttons to press.
        await self._send(who.chat_id, [PromptButtons(())], message_id)

    async def begin_run(
        self,
        chat_id: int,
        participant: Participant,
        flow: Flow,
        *,
        round_id: int | None = None,
        invitation_id: int | None = None,
    ) -> None:
        """Start a new run of a flow (in a round, or from an invitation) and ask its first step."""
        state = RunState.start(flow)
        run = await self.repository.start_run(
            participant.code,
            flow.id,
            flow.version,
            state.model_dump_json(),
            self.clock.now(),
            round_id=round_id,
            invitation_id=invitation_id,
        )
        await self._advance(chat_id, participant, flow, run, state, Begin())

    async def press(self, who: Who, button: QuestionButton) -> None:
        """Apply a question button, or say it is stale and show the current question."""
        try:
            contact, run = await self.repository.contact_and_run(who.user_id)
        except StorageUnavailable as error:
            if button.action != "h":
                raise
            # "I need help now" with the database not answering: help and a person, from memory.
            pressed = Screening(Verdict.FLAG, phrase=HELP_PRESSED, theme="help")
            words = Screened("", pressed, self.clock.now(), "help_button")
            await self._unstored(_Step(who, NeedHelp(), words), words, error)
            return
        if contact is None:
            await self._introduce(who, stale=True)
            return
        if button.action == "h":
            # "I need help now" is never stale: from any check-in, it reaches a person.
            await self.act(who, NeedHelp(), contact=contact, run=run)
            return
        if run is None or run.id != button.run or run.flow_version != button.version:
            await self.act(who, Show(), contact=contact, run=run, stale=True)
            return
        flow = await self.flows.version(run.flow_id, run.flow_version)
        action = button_input(flow, button) if flow else None
        if action is None:
            await self.act(who, Show(), contact=contact, run=run, stale=True)
            return
        await self.act(who, action, contact=contact, run=run)

    async def act(
        self,
        who: Who,
        action: Input,
        *,
        contact: Contact | None = None,
        run: Run | None = None,
        stale: bool = False,
        written_at: datetime | None = None,
        replying_to: int | None = None,
    ) -> None:
        """Apply one action to the participant's current run; strangers get the intro.

        Typed words are screened first, before anything touches the database. `contact` and
        `run`, when given, were just read under this chat's lock (by press); what is not given
        is read here, the contact and the latest run in one query. `written_at` is when the
        message was written, `replying_to` the message it answers, if any.
        """
        words = None
        if isinstance(action, Text):
            words = self.watch.screened(action.text, written_at or self.clock.now())
        step = _Step(who, action, words, stale, replying_to)
        await self._guarded(step, lambda: self._act(step, contact, run))

    async def written(
        self,
        who: Who,
        text: str,
        source: FlagSource,
        written_at: datetime,
        otherwise: Input | None,
    ) -> None:
        """Screen words that are no answer (a caption, an edit); else act on `otherwise`.

        Words of risk get the check-in. A concern gets the gentle note and is stored as a
        concern, and then `otherwise` is acted on as if it were not there.
        """
        words = self.watch.screened(text, written_at, source)
        if words.risk:
            step = _Step(who, RiskWords(), words)
            await self._guarded(step, lambda: self._act(step, None, None))
        elif words.concern and otherwise is not None:
            step = _Step(who, otherwise, words)
            await self._guarded(step, lambda: self._act(step, None, None))
        elif words.concern:
            step = _Step(who, Show(), words)
            await self._guarded(step, lambda: self._aside(step))
        elif otherwise is not None:
            await self.act(who, otherwise)

    async def _guarded(self, step: _Step, work: Callable[[], Awaitable[None]]) -> None:
        """Do the work; if words of risk could not be stored, support and alert from memory.

        A concern that could not be stored is not urgent: the person still gets its note, and
        the error handler then says, as for any answer, that it was not saved.
        """
        try:
            await work()
        except Exception as error:
            words = step.words
            if words is None or words.stored or not (words.risk or words.concern):
                raise
            if words.concern:
                await self._concern_unstored(step)
                raise
            log.error("words of risk could not be stored; alerting from memory", exc_info=error)
            await self._unstored(step, words, error)

    async def _act(self, step: _Step, contact: Contact | None, run: Run | None) -> None:
        """Read, then screen, engine, commit, deliver and mark (docs/architecture.md)."""
        who, action, words = step.who, step.action, step.words
        if contact is None:
            contact, latest = await self.repository.contact_and_run(who.user_id)
            run = run or latest
        elif run is None:
            run = await self.repository.latest_run(contact.participant.code)
        risk = words is not None and words.risk
        if contact is None:
            await self._stranger(who, words)
            return
        participant = contact.participant
        if words is not None:
            words.code, words.run_id = participant.code, run.id if run else None
        if words is not None and isinstance(action, Text):
            to = await self.replies.target(participant, step.replying_to)
            if to is not None:
                await self._reply_to_staff(step, participant, run, words, to)
                return
        came_back = participant.status == "unreachable"
        if participant.status != "active":
            participant = await self._welcome_back(who, participant)
        language = participant.language
        if run is None:
            # Consent stored but no run begun (a crash between the two): offer it from the top.
            await self._flag_and_support(step, participant, None)
            await self._introduce(who)
            return
        flow = await self.flows.version(run.flow_id, run.flow_version)
        if flow is None:
            await self._flag_and_support(step, participant, run)
            await self._send(who.chat_id, [Send(catalog(language)("conversation_closed"))], None)
            return
        if words is not None:
            words.conversation = f"{run.flow_id} (version {run.flow_version})"
        state = RunState.model_validate_json(run.state)
        kept: list[KeptMessage] = []
        if words is not None and isinstance(action, Text) and _before_shown(run, words):
            if not came_back or risk:
                await self._before_question(step, participant, flow, run, state, words)
                return
            kept.append(KeptMessage(words.text, "before_question", words.written_at))
        if came_back and not risk and isinstance(action, Text | NotText | Show):
            # What was sent while they had blocked the bot never reached them: show where they
            # are before anything typed is taken as an answer.
            action = Resume()
        shown = True
        if run.needs_delivery and not isinstance(action, Show | Resume):
            run, shown = await self._show_again(who.chat_id, participant, run)
            state = RunState.model_validate_json(run.state)
        if state.status != "checking" and await self._round_ended(run):
            await self._after_round(step, participant, run)
            return
        lead: list[Outgoing] = []
        if state.status == "checking" or isinstance(action, Safe | NeedHelp):
            action = await self.check_ins.answer(participant, run, state, action, words, lead)
        if isinstance(action, Text) and risk:
            action = Text(action.text, risk=True)
        await self._advance(
            who.chat_id,
            participant,
            flow,
            run,
            state,
            action,
            stale=step.stale,
            deliver=shown,
            words=words,
            kept=kept,
            lead=lead,
        )

    async def stop(self, who: Who) -> None:
        """Stop every message from the bot; answers are kept and the run paused."""
        contact = await self.repository.contact_for_user(who.user_id)
        if contact is None:
            await self._send(who.chat_id, [Send(catalog("en")("stopped"))], None)
            return
        code = contact.participant.code
        # Every proactive message waiting for them is dropped, and none is queued again.
        await self.repository.stop_participant(code, self.clock.now())
        run = await self.repository.latest_run(code)
        flow = await self.flows.version(run.flow_id, run.flow_version) if run else None
        prompt: int | None = None
        if run is not None and flow is not None:
            state = RunState.model_validate_json(run.state)
            outcome = advance(flow, state, Pause(), self.clock.now())
            await self._save(run, outcome.state, outcome.effects, None, (), ())
            prompt = run.prompt_message_id
        words = catalog(contact.participant.language)
        await self._send(who.chat_id, [PromptButtons(()), Send(words("stopped"))], prompt)
        if run is not None:
            await self.repository.mark_delivered(run.id, None)

    async def say(self, who: Who, key: str) -> None:
        """Send one catalogue sentence in the participant's language."""
        contact = await self.repository.contact_for_user(who.user_id)
        language = contact.participant.language if contact else self._language(None, who)
        await self._send(who.chat_id, [Send(catalog(language)(key))], None)

    async def help(self, who: Who) -> None:
        """Say what the bot is, its commands and where to get urgent help."""
        contact = await self.repository.contact_for_user(who.user_id)
        language = contact.participant.language if contact else self._language(None, who)
        words = catalog(language)
        lines = render_support(self.support, None, language)
        urgent = words("urgent_help", hours=self.staff_hours)
        text = f"{words('help')}\n\n{urgent}\n{lines}"
        await self._send(who.chat_id, [Send(text)], None)

    async def redeliver(self, pending: Pending) -> None:
        """Show again what a run's participant may not have seen (after a crash or outage)."""
        run = pending.run
        flow = await self.flows.version(run.flow_id, run.flow_version)
        if flow is None:
            return
        state = RunState.model_validate_json(run.state)
        effects: tuple[Effect, ...] | list[Effect]
        if state.status == "completed":
            effects = [Completed()]
        elif state.status == "paused":
            effects = [Paused()]
        else:
            effects = advance(flow, state, Show(), self.clock.now()).effects
        participant = await self.repository.participant(run.participant_code)
        if participant is None:
            return
        # The end was never shown, so neither was the question that goes with it.
        messages = self._messages(flow, participant, run, effects, state.status == "completed")
        await self._deliver(pending.chat_id, run, messages)

    async def _show_again(
        self, chat_id: int, participant: Participant, run: Run
    ) -> tuple[Run, bool]:
        """Show a run saved but not known to be shown, before acting on it; say if it was.

        A crash (or a timeout) after Telegram took the question but before it was recorded
        leaves the run pointing at the message before it: edits for this action (a tick, "Your
        answer") would land there. Shown again, the run points at the message now on screen.
        """
        try:
            await self.redeliver(Pending(run, chat_id, participant.language))
        except TelegramError as error:
            # Still not shown: the action is stored all the same, and shown with the rest by
            # the redelivery job, never as edits to a message that may not be the one on screen.
            log.warning("could not show a run again before acting on it: %s", error)
            return run, False
        return await self.repository.run(run.id) or run, True

    async def _advance(
        self,
        chat_id: int,
        participant: Participant,
        flow: Flow,
        run: Run,
        state: RunState,
        action: Input,
        stale: bool = False,
        deliver: bool = True,
        words: Screened | None = None,
        kept: Sequence[KeptMessage] = (),
        lead: Sequence[Outgoing] = (),
    ) -> Outcome:
        """Apply an action, commit what changed in one go, then show it (unless not `deliver`).

        The commit holds the state, the answers, what is forgotten, the flag on words of risk
        (or the concern), words kept aside and any follow-ups. A concern's note comes before
        the next question. Not delivered, the run is left to be shown by the redelivery job (it
        needs delivery).
        """
        now = self.clock.now()
        outcome = advance(flow, state, action, now)
        effects: tuple[Effect, ...] = outcome.effects
        if stale and not any(isinstance(e, Stale | AlreadyDone) for e in effects):
            effects = (Stale(), *effects)
        changed = outcome.state != state
        finished = outcome.state.status == "completed" and state.status != "completed"
        answered = next((e.step for e in effects if isinstance(e, Record)), None)
        flag = words.flag(participant.code, run.id, answered) if words else None
        note = None
        if words is not None and words.concern and outcome.state.status != "checking":
            # Read before the commit, which stores this concern; at a check-in, none at all.
            note = await self.notes.due(participant, run.id, words.written_at)
        if changed or kept:
            # Durable before visible: the answer is stored before the next question is sent.
            follow_ups = self._follow_ups(flow, now) if finished else []
            save = self._save(run, outcome.state, effects, flag, kept, follow_ups)
            await self._commit(chat_id, participant.language, words, save)
        elif flag is not None:
            await self._commit(chat_id, participant.language, words, self._flag(flag))
        if flag is not None and words is not None:
            words.stored = True
            if words.risk:
                self.alerts.kick()
        if not deliver:
            return outcome
        if note is not None:
            lead = [*lead, note]
        messages = [*lead, *self._messages(flow, participant, run, effects, finished)]
        await self._deliver(chat_id, run, messages)
        return outcome

    async def _commit(
        self, chat_id: int, language: str, words: Screened | None, write: Awaitable[object]
    ) -> None:
        """Wait for a commit; for words of risk, show support first if it is slow to come."""
        if words is None or not words.risk:
            await write
            return
        task = asyncio.ensure_future(write)
        done, _ = await asyncio.wait({task}, timeout=SUPPORT_WITHIN)
        if not done:
            # The database is slow to take it (locked by another program?): support first.
            words.supported = True
            await self._support_now(chat_id, language)
        await task

    async def _flag(self, flag: NewFlag) -> None:
        await self.repository.store_flag(flag)

    def _messages(
        self,
        flow: Flow,
        participant: Participant,
        run: Run,
        effects: tuple[Effect, ...] | list[Effect],
        finished: bool,
    ) -> list[Outgoing]:
        """Render effects; the end of a conversation asks about being contacted, once."""
        messages = self._renderer(flow, participant, run).render(effects)
        if finished and participant.contact_changed_at is None:
            messages.append(contact_question(participant.language))
        return messages

    def _follow_ups(self, flow: Flow, now: datetime) -> list[tuple[int, str, datetime]]:
        """Return the follow-ups a finished run queues: (position, flow id, due at)."""
        return [
            (position, follow_up.flow, now + timedelta(days=follow_up.after_days))
            for position, follow_up in enumerate(flow.follow_ups)
        ]

    async def _welcome_back(self, who: Who, participant: Participant) -> Participant:
        """Take someone back who had said stop (or blocked the bot); ask before messaging them."""
        await self.repository.set_status(participant.code, "active")
        if participant.status == "stopped":
            question = contact_question(participant.language, "welcome_back")
            await self._send(who.chat_id, [question], None)
        return replace(participant, status="active")

    async def _round_ended(self, run: Run) -> bool:
        """Say whether the run belongs to a round that has closed or been cancelled."""
        if run.round_id is None:
            return False
        found = await self.repository.round(run.round_id)
        return found is not None and found.status in ("closed", "cancelled")

    async def _after_round(self, step: _Step, participant: Participant, run: Run) -> None:
        """Answer someone whose round has closed: nothing more is added, and they are thanked."""
        # Closed or not, words of risk get support at once and reach a person.
        await self._flag_and_support(step, participant, run)
        found = await self.repository.round(run.round_id) if run.round_id else None
        title = found.title if found else ""
        text = catalog(participant.language)("round_closed_reply", title=title)
        chat = step.who.chat_id
        await self._send(chat, [PromptButtons(()), Send(text)], run.prompt_message_id)

    async def _flag_and_support(
        self, step: _Step, participant: Participant, run: Run | None
    ) -> None:
        """Store a flag on words of risk that no run can take, and show the support lines.

        A concern is stored too, and gets its note (unless the run had one lately).
        """
        words = step.words
        chat = step.who.chat_id
        if words is not None and words.concern:
            note = await self._concern(words, participant, run)
            if note is not None:
                await self._send(chat, [note], None)
            return
        flag = words.flag(participant.code, run.id if run else None, None) if words else None
        if words is None or flag is None:
            return
        await self._commit(chat, participant.language, words, self._flag(flag))
        words.stored = True
        self.alerts.kick()
        if not words.supported:
            await self._support_now(chat, participant.language)

    async def _concern(
        self, words: Screened, participant: Participant, run: Run | None
    ) -> Send | None:
        """Store a concern that no answer carries; return its note, if one is due."""
        flag = words.flag(participant.code, run.id if run else None, None)
        assert flag is not None
        note = await self.notes.due(participant, flag.run_id, words.written_at)
        await self._flag(flag)
        words.stored = True
        return note

    async def _before_question(
        self,
        step: _Step,
        participant: Participant,
        flow: Flow,
        run: Run,
        state: RunState,
        words: Screened,
    ) -> None:
        """Keep words typed before their question was shown, and show them where they are."""
        words.source = "before_question"
        kept = [KeptMessage(words.text, "before_question", words.written_at)]
        chat = step.who.chat_id
        if words.risk:
            await self._advance(
                chat, participant, flow, run, state, RiskWords(), words=words, kept=kept
            )
            return
        lead: list[Outgoing] = []
        if state.status in ("active", "paused"):
            lead.append(Send(catalog(participant.language)("before_question")))
        if not run.needs_delivery:
            # A concern is stored with the words kept, and its note comes before the question.
            await self._advance(
                chat, participant, flow, run, state, Show(), words=words, kept=kept, lead=lead
            )
            return
        # Never shown: kept first, then shown as the redelivery would (the end and its
        # question, a pause, the check-in or the question).
        await self.repository.keep_messages(participant.code, run.id, kept, self.clock.now())
        note = await self._concern(words, participant, run) if words.concern else None
        if note is not None:
            lead.append(note)
        if lead:
            await self._send(chat, lead, None)
        await self.redeliver(Pending(run, chat, participant.language))

    async def _reply_to_staff(
        self,
        step: _Step,
        participant: Participant,
        run: Run | None,
        words: Screened,
        to: ContactMessage,
    ) -> None:
        """Pass a participant's answer to staff (screened), never into their survey answers."""
        await self.replies.take(participant, words.text, to)
        words.source = "reply"
        lead = [Send(catalog(participant.language)("reply_passed_on", hours=self.staff_hours))]
        flow = await self.flows.version(run.flow_id, run.flow_version) if run else None
        if not words.risk or run is None or flow is None:
            await self._send(step.who.chat_id, lead, None)
            await self._flag_and_support(step, participant, run)
            return
        state = RunState.model_validate_json(run.state)
        await self._advance(
            step.who.chat_id, participant, flow, run, state, RiskWords(), words=words, lead=lead
        )

    async def reply_button(self, who: Who, value: str, message_id: int | None) -> None:
        """Start (Reply) or cancel taking the next text as an answer to staff."""
        contact = await self.repository.contact_for_user(who.user_id)
        if contact is None:
            await self._introduce(who, stale=True)
            return
        messages = await self.replies.button(contact.participant, value)
        await self._send(who.chat_id, messages, message_id if value != "y" else None)

    async def _unstored(self, step: _Step, words: Screened, error: Exception) -> None:
        """Support now and an alert from memory: the database did not take words of risk."""
        assert words.risk
        language = self._language(None, step.who)
        support = catalog(language)("unstored_support")
        if not words.supported:
            lines = render_support(self.support, None, language, urgent_only=True)
            urgent = catalog(language)("urgent_now", lines=lines, hours=self.staff_hours)
            support = f"{urgent}\n\n{support}"
        try:
            await self.sender.deliver(step.who.chat_id, [Send(support)], None)
        except (TelegramError, Unreachable) as failure:
            log.error("could not show support lines to a participant: %s", failure)
        item = Unstored(
            new_ref(),
            step.who.user_id,
            words.code,
            words.run_id,
            None,
            words.conversation,
            words.screening.label,
            words.text,
            words.source,
            words.written_at,
            _problem(error),
        )
        self.alerts.hold(item)

    async def _concern_unstored(self, step: _Step) -> None:
        """Show a concern's note though it could not be stored (nothing else is sent for it)."""
        note = self.notes.note(self._language(None, step.who), None)
        try:
            await self.sender.deliver(step.who.chat_id, [note], None)
        except (TelegramError, Unreachable) as failure:
            log.error("could not show a concern's note to a participant: %s", failure)

    async def _stranger(self, who: Who, words: Screened | None) -> None:
        """Answer someone who never agreed to take part: nothing of theirs is kept.

        Words of risk get the urgent support lines first, a concern its note; then the intro.
        """
        if words is not None and words.risk:
            await self._urgent_support(who)
        elif words is not None and words.concern:
            await self._send(who.chat_id, [self.notes.note(self._language(None, who), None)], None)
        await self._introduce(who)

    async def _aside(self, step: _Step) -> None:
        """Store a concern written outside any answer (an edit), and show its note."""
        contact, run = await self.repository.contact_and_run(step.who.user_id)
        if contact is None:
            await self._stranger(step.who, step.words)
            return
        await self._flag_and_support(step, contact.participant, run)

    async def _support_now(self, chat_id: int, language: str) -> None:
        lines = render_support(self.support, None, language, urgent_only=True)
        text = catalog(language)("urgent_now", lines=lines, hours=self.staff_hours)
        await self._send(chat_id, [Send(text)], None)

    async def send(
        self, chat_id: int, messages: Sequence[Outgoing], prompt_id: int | None
    ) -> None:
        """Send messages to a chat, editing `prompt_id` where asked; skip unreachable chats."""
        await self._send(chat_id, messages, prompt_id)

    def _renderer(self, flow: Flow, participant: Participant, run: Run) -> Renderer:
        language, nation = participant.language, participant.nation

        def support(urgent_only: bool) -> str:
            return render_support(self.support, nation, language, urgent_only=urgent_only)

        return Renderer(flow, language, run.id, support, self.staff_hours)

    async def _urgent_support(self, who: Who) -> None:
        language = self._language(None, who)
        lines = render_support(self.support, None, language, urgent_only=True)
        text = catalog(language)("urgent_now", lines=lines, hours=self.staff_hours)
        await self._send(who.chat_id, [Send(text)], None)

    async def _save(
        self,
        run: Run,
        state: RunState,
        effects: Sequence[Effect],
        flag: NewFlag | None,
        kept: Sequence[KeptMessage],
        follow_ups: Sequence[tuple[int, str, datetime]],
    ) -> None:
        answers = [
            (effect.step, json.dumps(effect.value, ensure_ascii=False))
            for effect in effects
            if isinstance(effect, Record)
        ]
        forget = [effect.step for effect in effects if isinstance(effect, Forget)]
        await self.repository.save(
            run.id,
            state.model_dump_json(),
            state.status,
            answers,
            self.clock.now(),
            forget,
            flag=flag,
            kept=kept,
            follow_ups=follow_ups,
        )

    async def _deliver(self, chat_id: int, run: Run, messages: list[Outgoing]) -> None:
        prompt = await self._send(chat_id, messages, run.prompt_message_id, run=run)
        try:
            await self.repository.mark_delivered(run.id, prompt, self.clock.now())
        except StorageUnavailable as error:
            # Shown, but not noted: the redelivery job shows it again once storage is back.
            log.warning("could not note that a run was shown: %s", error)

    async def _send(
        self,
        chat_id: int,
        messages: Sequence[Outgoing],
        prompt_id: int | None,
        run: Run | None = None,
    ) -> int | None:
        try:
            new_prompt = await self.sender.deliver(chat_id, messages, prompt_id)
        except Unreachable:
            if run is not None:
                await self.repository.set_status(run.participant_code, "unreachable")
            log.info("a participant is unreachable (blocked the bot or left Telegram)")
            return None
        return new_prompt if any(isinstance(m, Send) and m.prompt for m in messages) else None

    async def _introduce(self, who: Who, stale: bool = False) -> None:
        flow = self.flows.latest(self.default_flow)
        language = self._language(flow, who)
        words = catalog(language)
        messages: list[Outgoing] = [Send(words("stale"))] if stale else []
        if flow is None:
            messages.append(Send(words("conversation_closed")))
        else:
            messages.extend(intro(flow, language, self.minimum_age, self.staff_hours))
        await self._send(who.chat_id, messages, None)

    def _language(self, flow: Flow | None, who: Who) -> str:
        code = (who.language_code or "").split("-")[0].lower()
        offered = flow.languages if flow else languages()
        if code and code in offered:
            return code
        return flow.default_language if flow else "en"


@dataclass
class _Step:
    """One action on its way through the runner, with the words it carries (screened)."""

    who: Who
    action: Input
    words: Screened | None = None
    stale: bool = False
    replying_to: int | None = None


def _before_shown(run: Run, words: Screened) -> bool:
    """Say whether words were written before the run's question reached the participant.

    A run saved but not yet shown (a crash, Telegram failing) was not seen at all; otherwise
    Telegram's whole-second date of the message is compared with when the question was shown.
    """
    if run.needs_delivery:
        return True
    shown = run.delivered_at
    return shown is not None and words.written_at < shown.replace(microsecond=0)


def _problem(error: Exception) -> str:
    """Say, for staff, why words of risk could not be stored."""
    if isinstance(error, StorageUnavailable):
        return f"the database refused the write ({error})"
    return f"an error stopped it first ({type(error).__name__}: {error})"
