"""Answers to the safety check-in: recorded on the flag, and passed on to a person.

"I need help now" marks the open flag urgent (or opens one) and the sweep tells staff within
seconds; "I'm safe — carry on" is noted on the flag. Anything typed instead is no survey
answer: it goes to staff as a message from the participant, and a "no" to "Are you safe
right now?" counts as "I need help now".
"""

from __future__ import annotations

import re

from bot.clock import Clock
from bot.safeguarding.alerts import Alerts
from bot.safeguarding.unstored import Unstored, new_ref
from bot.safeguarding.watch import Screened
from conversations.catalog import catalog
from conversations.engine import RunState
from conversations.events import Input, NeedHelp, Safe, Text
from conversations.render import Outgoing, Send
from storage.repository import Participant, Repository, Run, StorageUnavailable


class CheckIns:
    """Record what someone at the check-in does, and make sure a person hears of it."""

    def __init__(
        self, repository: Repository, alerts: Alerts, clock: Clock, staff_hours: str
    ) -> None:
        self.repository = repository
        self.alerts = alerts
        self.clock = clock
        self.staff_hours = staff_hours

    async def answer(
        self,
        participant: Participant,
        run: Run,
        state: RunState,
        action: Input,
        words: Screened | None,
        lead: list[Outgoing],
    ) -> Input:
        """Record an answer to the check-in; return the action the engine is to take."""
        code, now = participant.code, self.clock.now()
        language = participant.language
        if isinstance(action, Text) and words is not None and not words.risk:
            # Everything said during the check-in reaches a person, and is no survey answer
            # (a concern in it is stored as a concern too, but gets no note: the check-in is on).
            flag = await self.repository.open_flag_of(code)
            await self.repository.add_contact_message(
                code, "from_participant", action.text, now, flag_id=flag.id if flag else None
            )
            self.alerts.kick()
            lead.append(Send(catalog(language)("passed_on", hours=self.staff_hours)))
            if not_safe(action.text, language):
                action = NeedHelp()
        if isinstance(action, NeedHelp):
            try:
                await self.repository.check_in_answer(code, run.id, "help", now)
            except StorageUnavailable as error:
                problem = f"the database refused the write ({error})"
                self.alerts.hold(self._help_unstored(code, run, problem))
            self.alerts.kick()
        elif isinstance(action, Safe) and state.status == "checking":
            await self.repository.check_in_answer(code, run.id, "safe", now)
            self.alerts.kick()
        return action

    def _help_unstored(self, code: str, run: Run, problem: str) -> Unstored:
        """Return "I need help now" as a flag for the spool, the database refusing it."""
        return Unstored(
            ref=new_ref(),
            user_id=0,  # the code is known: nothing needs looking up
            participant_code=code,
            run_id=run.id,
            step_id=None,
            conversation=f"{run.flow_id} (version {run.flow_version})",
            phrase="pressed “I need help now”",
            text="",
            source="help_button",
            written_at=self.clock.now(),
            problem=problem,
        )


def not_safe(text: str, language: str) -> bool:
    """Say whether a typed answer to "Are you safe right now?" means no."""
    said = " ".join(re.sub(r"[^\w\s]", " ", text.lower().replace("'", "")).split())
    said = said.replace("im ", "i am ")
    return said in catalog(language)("not_safe_words").split("|")
