"""The participant journey: consent, then each action through the engine, durable first."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from telegram.error import TelegramError

from bot.clock import Clock
from bot.flows import FlowLibrary
from bot.safeguarding.screening import Match
from bot.safeguarding.watch import RiskWatch
from bot.sender import Sender, Unreachable
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
    NotText,
    Pause,
    Paused,
    Record,
    Resume,
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
from storage.repository import ConsentGiven, Contact, Participant, Pending, Repository, Run

log = logging.getLogger(__name__)


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
        self.staff_hours = staff_hours

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
        contact, run = await self.repository.contact_and_run(who.user_id)
        if contact is None:
            await self._introduce(who, stale=True)
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
    ) -> None:
        """Apply one action to the participant's current run; strangers get the intro.

        `contact` and `run`, when given, were just read under this chat's lock (by press); what
        is not given is read here, the contact and the latest run in one query.
        """
        if contact is None:
            contact, latest = await self.repository.contact_and_run(who.user_id)
            run = run or latest
        elif run is None:
            run = await self.repository.latest_run(contact.participant.code)
        risk = self.watch.check(action.text) if isinstance(action, Text) else None
        if contact is None:
            if risk is not None:
                # Not a participant, so nothing is kept; support comes first all the same.
                await self._urgent_support(who)
            await self._introduce(who)
            return
        participant = contact.participant
        came_back = participant.status == "unreachable"
        if participant.status != "active":
            participant = await self._welcome_back(who, participant)
        language = participant.language
        if run is None:
            # Consent stored but no run begun (a crash between the two): offer it from the top.
            if risk is not None:
                await self._urgent_support(who)
            await self._introduce(who)
            return
        flow = await self.flows.version(run.flow_id, run.flow_version)
        if flow is None:
            await self._send(who.chat_id, [Send(catalog(language)("conversation_closed"))], None)
            return
        if came_back and risk is None and isinstance(action, Text | NotText | Show):
            # What was sent while they had blocked the bot never reached them: show where they
            # are before anything typed is taken as an answer.
            action = Resume()
        shown = True
        if run.needs_delivery and not isinstance(action, Show | Resume):
            run, shown = await self._show_again(who.chat_id, participant, run)
        if isinstance(action, Text) and risk is not None:
            action = Text(action.text, risk=True)
        state = RunState.model_validate_json(run.state)
        if state.status != "checking" and await self._round_ended(run):
            await self._after_round(who, participant, run, action, risk)
            return
        outcome = await self._advance(
            who.chat_id, participant, flow, run, state, action, stale=stale, deliver=shown
        )
        if isinstance(action, Text) and risk is not None:
            step = next((e.step for e in outcome.effects if isinstance(e, Record)), None)
            await self.watch.flag(participant.code, run, step, risk, action.text)

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
            await self._save(run, outcome.state, outcome.effects)
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
    ) -> Outcome:
        """Apply an action, store what changed, then show it (unless `deliver` is False).

        Not delivered, the run is left to be shown by the redelivery job (it needs delivery).
        """
        outcome = advance(flow, state, action, self.clock.now())
        effects: tuple[Effect, ...] = outcome.effects
        if stale and not any(isinstance(e, Stale | AlreadyDone) for e in effects):
            effects = (Stale(), *effects)
        changed = outcome.state != state
        finished = outcome.state.status == "completed" and state.status != "completed"
        if finished and flow.follow_ups:
            # Queued first: a follow-up is only sent once its run is stored as finished.
            await self._queue_follow_ups(participant, flow, run)
        if changed:
            # Durable before visible: the answer is stored before the next question is sent.
            await self._save(run, outcome.state, effects)
        if not deliver:
            return outcome
        await self._deliver(
            chat_id, run, self._messages(flow, participant, run, effects, finished)
        )
        return outcome

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

    async def _queue_follow_ups(self, participant: Participant, flow: Flow, run: Run) -> None:
        now = self.clock.now()
        await self.repository.queue_follow_ups(
            participant.code,
            run.id,
            run.round_id,
            [
                (position, follow_up.flow, now + timedelta(days=follow_up.after_days))
                for position, follow_up in enumerate(flow.follow_ups)
            ],
        )

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

    async def _after_round(
        self, who: Who, participant: Participant, run: Run, action: Input, risk: Match | None
    ) -> None:
        """Answer someone whose round has closed: nothing more is added, and they are thanked."""
        if isinstance(action, Text) and risk is not None:
            # Closed or not, words of risk get support at once and reach a person.
            await self._urgent_support(who)
            await self.watch.flag(participant.code, run, None, risk, action.text)
        found = await self.repository.round(run.round_id) if run.round_id else None
        title = found.title if found else ""
        text = catalog(participant.language)("round_closed_reply", title=title)
        await self._send(who.chat_id, [PromptButtons(()), Send(text)], run.prompt_message_id)

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

    async def _save(self, run: Run, state: RunState, effects: Sequence[Effect]) -> None:
        answers = [
            (effect.step, json.dumps(effect.value, ensure_ascii=False))
            for effect in effects
            if isinstance(effect, Record)
        ]
        forget = [effect.step for effect in effects if isinstance(effect, Forget)]
        await self.repository.save(
            run.id, state.model_dump_json(), state.status, answers, self.clock.now(), forget
        )

    async def _deliver(self, chat_id: int, run: Run, messages: list[Outgoing]) -> None:
        prompt = await self._send(chat_id, messages, run.prompt_message_id, run=run)
        await self.repository.mark_delivered(run.id, prompt)

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
