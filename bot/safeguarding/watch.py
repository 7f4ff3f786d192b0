"""Notice words of risk, record a flag, and make sure a person at the charity sees it."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import TelegramError

from bot.clock import Clock
from bot.flows import FlowLibrary
from bot.safeguarding.screening import Match, PhraseList, screen
from bot.sender import Sender, Unreachable
from conversations.model import text_in
from conversations.render import Send
from storage.repository import Flag, Repository, Run

log = logging.getLogger(__name__)
ALERT_TEXT_LIMIT = 1500


class RiskWatch:
    """Screen what participants write; flag and alert on words of risk."""

    def __init__(
        self,
        phrases: PhraseList,
        repository: Repository,
        flows: FlowLibrary,
        sender: Sender,
        clock: Clock,
        alert_chat: int | None,
        remind_after: timedelta = timedelta(hours=24),
    ) -> None:
        self.phrases = phrases
        self.repository = repository
        self.flows = flows
        self.sender = sender
        self.clock = clock
        self.alert_chat = alert_chat
        self.remind_after = remind_after

    def check(self, text: str) -> Match | None:
        """Return the phrase a text matches, if any."""
        return screen(text, self.phrases)

    async def flag(
        self, code: str, run: Run, step_id: str | None, match: Match, text: str
    ) -> None:
        """Store a flag, then alert the safeguarding chat about it."""
        now = self.clock.now()
        flag = await self.repository.add_flag(code, run.id, step_id, match.phrase, text, now)
        await self._alert(flag)

    async def alert_pending(self) -> None:
        """Alert about flags not yet told of, and remind about those nobody has reviewed."""
        now = self.clock.now()
        for flag in await self.repository.flags():
            if flag.alerted_at is None:
                await self._alert(flag)
            elif now - flag.alerted_at >= self.remind_after:
                await self._alert(flag, reminder=True)

    async def _alert(self, flag: Flag, reminder: bool = False) -> None:
        if self.alert_chat is None:
            log.warning("safeguarding flag F-%s: HEARD_SAFEGUARDING_CHAT is not set", flag.id)
            return
        try:
            text = await self.describe(flag, reminder)
            await self.sender.deliver(self.alert_chat, [Send(text)], None)
        except (TelegramError, Unreachable) as error:
            # The flag is stored; the timer tries again until someone has been told.
            log.error("could not alert the safeguarding chat about F-%s: %s", flag.id, error)
            return
        await self.repository.mark_alerted(flag.id, self.clock.now())

    async def describe(self, flag: Flag, reminder: bool = False) -> str:
        """Describe a flag for the safeguarding chat: no Telegram id, name or username."""
        run = await self.repository.run(flag.run_id) if flag.run_id is not None else None
        flow = await self.flows.version(run.flow_id, run.flow_version) if run else None
        conversation, question = "none", "a message outside any question"
        if run is not None:
            conversation = f"{run.flow_id} (version {run.flow_version})"
        if flow is not None and flag.step_id is not None and flow.has_step(flag.step_id):
            step = flow.step(flag.step_id)
            question = text_in(step.text, flow.default_language, flow.default_language)
        text = flag.text or ""
        shown = text if len(text) <= ALERT_TEXT_LIMIT else text[: ALERT_TEXT_LIMIT - 1] + "…"
        heading = "Reminder: not reviewed yet. " if reminder else ""
        return (
            f"{heading}Safeguarding flag F-{flag.id}\n"
            f"Participant: {flag.participant_code or 'deleted'}\n"
            f"Conversation: {conversation}\n"
            f"Question: {question}\n"
            f"Matched: {flag.phrase}\n"
            f"They wrote: {shown}\n"
            f"Time: {flag.created_at.strftime('%Y-%m-%d %H:%M')} UTC\n\n"
            "They were shown support lines and asked if they are safe now."
        )
