"""The guided /newround: one question at a time, each answer checked, then a summary to confirm.

Every button is a shortcut for something a coordinator could type ("now", "round 3", "2"), so
a typed answer and a pressed one go through the same planner check. A bad answer is explained
and the same question asked again. The draft is kept in memory (see bot.rounds.drafts): a bot
restart loses an unfinished set-up, and its buttons then say how to start again.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.journey import Who
from bot.rounds.drafts import Drafts, RoundDraft
from bot.rounds.planner import DEFAULT_REMINDER_DAYS, PlanError, RoundPlanner, audience_label
from bot.rounds.when import describe
from bot.rounds.wording import days_text, flow_label, flow_title, reminders_text
from bot.sender import Sender
from conversations.callbacks import RoundButton
from conversations.catalog import catalog
from conversations.model import Flow
from conversations.render import Button, Outgoing, PromptButtons, Send
from storage.rounds import CONTACTABLE, NewRound, Round

# The round number every draft button carries: the round does not exist yet.
DRAFT = 0
CLOSE_AFTER_WEEKS = (1, 2, 4)
EARLIER_SHOWN = 10
TITLE_SHOWN = 40
_ACTION = re.compile(r"([a-z]+)([0-9]*)")


def draft_button(label: str, action: str) -> tuple[Button]:
    """Return a one-button row for a step of the draft."""
    return (Button(label, RoundButton(DRAFT, action).encode()),)


class NewRoundGuide:
    """Ask a coordinator for each part of a new round, then store it when they confirm."""

    def __init__(self, planner: RoundPlanner, sender: Sender, drafts: Drafts) -> None:
        self.planner = planner
        self.sender = sender
        self.drafts = drafts
        self.words = catalog("en")

    async def start(self, person: Who) -> None:
        """Begin a new draft (in place of any unfinished one) and ask the first question."""
        previous = self.drafts.drop(person.user_id)
        # Starting again takes the buttons off the question left unanswered.
        draft = RoundDraft(prompt_id=previous.prompt_id if previous else None)
        self.drafts.put(person.user_id, draft)
        await self._ask(person, draft)

    async def typed(self, person: Who, draft: RoundDraft, text: str | None) -> None:
        """Take a typed answer to the current question; None is a message with no words."""
        if text is None:
            await self._ask(person, draft, [Send(self.words("coordinator_type_please"))])
        elif draft.step == "confirm":
            await self._ask(person, draft, [Send(self.words("coordinator_use_buttons"))])
        else:
            await self._answer(person, draft, text)

    async def pressed(self, person: Who, action: str, message_id: int | None) -> None:
        """Apply a button from the draft; one from a lost or finished draft changes nothing."""
        draft = self.drafts.get(person.user_id)
        if not isinstance(draft, RoundDraft):
            await self._say(person, "newround_lost", message_id)
            return
        if action == "stop":
            await self.cancel(person, draft)
            return
        if message_id != draft.prompt_id:
            # From an earlier question: the question in front of them still stands.
            await self._say(person, "stale", message_id)
            return
        shortcut = self._shortcut(draft, action)
        if shortcut is None:
            await self._ask(person, draft, [Send(self.words("stale"))])
        elif draft.step == "audience" and shortcut == "earlier":
            draft.step = "earlier"
            await self._ask(person, draft)
        elif draft.step == "confirm":
            await self._store(person, draft)
        else:
            await self._answer(person, draft, shortcut)

    async def cancel(self, person: Who, draft: RoundDraft) -> None:
        """Abandon the draft; nothing was stored."""
        self.drafts.drop(person.user_id)
        await self._say(person, "newround_cancelled", draft.prompt_id)

    async def _answer(self, person: Who, draft: RoundDraft, text: str) -> None:
        try:
            await self._check(draft, text)
        except PlanError as error:
            problem = self.words("coordinator_problem", reason=error)
            await self._ask(person, draft, [Send(problem)])
            return
        await self._ask(person, draft)

    async def _check(self, draft: RoundDraft, text: str) -> None:
        """Check one answer with the planner and move on to the next question."""
        planner = self.planner
        step = draft.step
        if step == "flow":
            draft.flow, draft.step = planner.flow(text), "title"
        elif step == "title":
            draft.title, draft.step = planner.title(text, self._flow(draft)), "opens"
        elif step == "opens":
            draft.opens_at, draft.step = planner.opens(text), "closes"
        elif step == "closes":
            draft.closes_at, draft.step = planner.closes(text, self._opens(draft)), "audience"
        elif step in ("audience", "earlier"):
            draft.audience, draft.step = await planner.audience(text), "reminders"
        elif step == "reminders":
            draft.reminders, draft.step = planner.reminders(text), "invitation"
        elif step == "invitation":
            draft.invitation, draft.step = planner.invitation(text), "confirm"

    def _shortcut(self, draft: RoundDraft, action: str) -> str | None:
        """Return what a button stands for, as typed; None if it is not for this question."""
        matched = _ACTION.fullmatch(action)
        if matched is None:
            return None
        word, digits = matched.group(1), matched.group(2)
        number = int(digits) if digits else None
        step = draft.step
        flows = sorted(self.planner.flows.current)
        if step == "flow" and word == "flow" and number is not None and number < len(flows):
            return flows[number]
        if step == "title" and word == "same":
            return ""
        if step == "opens" and word in ("now", "tomorrow"):
            return "now" if word == "now" else "tomorrow 10:00"
        if step == "closes" and word == "weeks" and number in CLOSE_AFTER_WEEKS:
            return f"{self._weeks_after(draft, number):%Y-%m-%d %H:%M}"
        if step == "audience" and word in ("everyone", "earlier"):
            return CONTACTABLE if word == "everyone" else "earlier"
        if step == "earlier" and word == "from" and number is not None:
            return f"round {number}"
        if step == "reminders" and word == "reminders" and number is not None:
            return str(number)
        if step == "invitation" and word == "default":
            return ""
        if step == "confirm" and word == "save":
            return "save"
        return None

    async def _store(self, person: Who, draft: RoundDraft) -> None:
        actor = f"staff:{person.user_id}"
        new = NewRound(
            title=draft.title,
            flow_id=self._flow(draft).id,
            opens_at=self._opens(draft),
            closes_at=self._closes(draft),
            created_by=actor,
            audience=draft.audience,
            reminders=draft.reminders,
            reminder_days=DEFAULT_REMINDER_DAYS,
            invitation=draft.invitation,
            notify_chat=person.chat_id,
        )
        made = await self.planner.store(new, actor)
        self.drafts.drop(person.user_id)
        saved = self.words(
            "newround_saved",
            id=made.id,
            title=made.title,
            opens=describe(made.opens_at, self.planner.zone),
        )
        await self.sender.deliver(
            person.chat_id, [PromptButtons(()), Send(saved)], draft.prompt_id
        )

    async def _ask(
        self, person: Who, draft: RoundDraft, before: list[Outgoing] | None = None
    ) -> None:
        """Take the buttons off the last question, then ask the current one."""
        question = await self._question(draft)
        messages: list[Outgoing] = [PromptButtons(()), *(before or []), question]
        draft.prompt_id = await self.sender.deliver(person.chat_id, messages, draft.prompt_id)

    async def _question(self, draft: RoundDraft) -> Send:
        words, step = self.words, draft.step
        rows: list[tuple[Button]] = []
        if step == "flow":
            text = words("newround_flow")
            for number, flow_id in enumerate(sorted(self.planner.flows.current)):
                label = flow_label(flow_id, self.planner.flows.latest(flow_id))
                rows.append(draft_button(label, f"flow{number}"))
        elif step == "title":
            text = words("newround_title", title=flow_title(self._flow(draft)))
            rows.append(draft_button(words("button_newround_same_title"), "same"))
        elif step == "opens":
            text = words("newround_opens", zone=self.planner.zone.key)
            rows.append(draft_button(words("button_newround_now"), "now"))
            rows.append(draft_button(words("button_newround_tomorrow"), "tomorrow"))
        elif step == "closes":
            text = words("newround_closes", opens=self._describe(self._opens(draft)))
            for weeks in CLOSE_AFTER_WEEKS:
                when = self._describe(self._weeks_after(draft, weeks))
                key = "button_newround_week" if weeks == 1 else "button_newround_weeks"
                rows.append(draft_button(words(key, weeks=weeks, when=when), f"weeks{weeks}"))
        elif step == "audience":
            text = words("newround_audience")
            rows.append(draft_button(words("button_newround_everyone"), "everyone"))
            if await self._earlier_rounds():
                rows.append(draft_button(words("button_newround_earlier"), "earlier"))
        elif step == "earlier":
            text = words("newround_earlier")
            for earlier in await self._earlier_rounds():
                label = words(
                    "button_newround_round",
                    id=earlier.id,
                    title=_short(earlier.title),
                    status=words(f"rounds_status_{earlier.status}"),
                )
                rows.append(draft_button(label, f"from{earlier.id}"))
        elif step == "reminders":
            text = words("newround_reminders", days=days_text(DEFAULT_REMINDER_DAYS))
            for count in range(3):
                rows.append(
                    draft_button(words(f"button_newround_reminders_{count}"), f"reminders{count}")
                )
        elif step == "invitation":
            default = self.planner.default_invitation(self._flow(draft))
            text = words("newround_invitation", text=default)
            rows.append(draft_button(words("button_newround_default"), "default"))
        else:
            text = await self._summary(draft)
            rows.append(draft_button(words("button_coordinator_confirm"), "save"))
        rows.append(draft_button(words("button_coordinator_cancel"), "stop"))
        return Send(text, tuple(rows), prompt=True)

    async def _summary(self, draft: RoundDraft) -> str:
        flow = self._flow(draft)
        count = await self.planner.repository.audience_size(draft.audience)
        return self.words(
            "newround_summary",
            title=draft.title,
            flow=flow_label(flow.id, flow),
            opens=self._describe(self._opens(draft)),
            closes=self._describe(self._closes(draft)),
            audience=audience_label(draft.audience),
            count=count,
            reminders=reminders_text(draft.reminders, DEFAULT_REMINDER_DAYS),
            invitation=draft.invitation or self.planner.default_invitation(flow),
        )

    async def _earlier_rounds(self) -> list[Round]:
        """Return recent rounds people may have taken part in (any but those not yet open)."""
        rounds = await self.planner.repository.rounds()
        return [r for r in rounds if r.status != "scheduled"][:EARLIER_SHOWN]

    async def _say(self, person: Who, key: str, message_id: int | None) -> None:
        """Take the buttons off a message and say one thing."""
        messages: list[Outgoing] = [PromptButtons(()), Send(self.words(key))]
        await self.sender.deliver(person.chat_id, messages, message_id)

    def _weeks_after(self, draft: RoundDraft, weeks: int) -> datetime:
        # Local arithmetic keeps the wall-clock time across a clock change.
        return self._opens(draft).astimezone(self.planner.zone) + timedelta(weeks=weeks)

    def _describe(self, when: datetime) -> str:
        return describe(when, self.planner.zone)

    @staticmethod
    def _flow(draft: RoundDraft) -> Flow:
        assert draft.flow is not None, "asked a question before choosing the conversation"
        return draft.flow

    @staticmethod
    def _opens(draft: RoundDraft) -> datetime:
        assert draft.opens_at is not None, "asked a question before choosing when it opens"
        return draft.opens_at

    @staticmethod
    def _closes(draft: RoundDraft) -> datetime:
        assert draft.closes_at is not None, "asked for confirmation before the closing time"
        return draft.closes_at


def _short(title: str) -> str:
    return title if len(title) <= TITLE_SHOWN else title[: TITLE_SHOWN - 1] + "…"
