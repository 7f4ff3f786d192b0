"""/feedback ID: the coordinator writes "you said, we did", sees it as people will, confirms.

The words wait in memory (see bot.rounds.drafts) until Confirm; a restart loses them, and the
Confirm button then says to write them again. Nothing is queued before Confirm.
"""

from __future__ import annotations

from bot.journey import Who
from bot.rounds.drafts import Drafts, FeedbackDraft
from bot.rounds.planner import PlanError, RoundPlanner
from bot.rounds.wording import people_text
from bot.sender import Sender
from conversations.callbacks import RoundButton
from conversations.catalog import catalog
from conversations.render import Button, Outgoing, PromptButtons, Send

# The actions of the buttons under a preview: send it, or drop it.
ACTIONS = ("send", "drop")


class FeedbackGuide:
    """Take a round's "you said, we did" message, preview it, and queue it on Confirm."""

    def __init__(self, planner: RoundPlanner, sender: Sender, drafts: Drafts) -> None:
        self.planner = planner
        self.sender = sender
        self.drafts = drafts
        self.words = catalog("en")

    async def start(self, person: Who, round_id: int) -> None:
        """Ask for the message as the coordinator's next one, if the round may have feedback."""
        try:
            found, count = await self.planner.feedback_reach(round_id)
        except PlanError as error:
            await self._refuse(person, error, None)
            return
        previous = self.drafts.drop(person.user_id)
        # Starting again takes the buttons off whatever was left unanswered.
        prompt = previous.prompt_id if previous else None
        draft = FeedbackDraft(found.id, found.title, prompt_id=prompt)
        self.drafts.put(person.user_id, draft)
        await self._ask(person, draft, count)

    async def typed(self, person: Who, draft: FeedbackDraft, text: str | None) -> None:
        """Take the message (or new words for it) and show the preview with Confirm."""
        try:
            found, count = await self.planner.feedback_reach(draft.round_id)
        except PlanError as error:
            # Sent by someone else meanwhile, or the round was cancelled: nothing to preview.
            self.drafts.drop(person.user_id)
            await self._refuse(person, error, draft.prompt_id)
            return
        if text is None:
            await self._ask(person, draft, count, Send(self.words("coordinator_type_please")))
            return
        try:
            draft.text = self.planner.feedback_text(text)
        except PlanError as error:
            problem = Send(self.words("coordinator_problem", reason=error))
            await self._ask(person, draft, count, problem)
            return
        # Exactly what participants will get, from the same catalogue sentence.
        preview = self.words("feedback_message", title=found.title, text=draft.text)
        reach = self.words("feedback_reach", people=people_text(count))
        send = Button(self.words("button_feedback_send"), RoundButton(found.id, "send").encode())
        messages: list[Outgoing] = [
            PromptButtons(()),
            Send(self.words("feedback_preview")),
            Send(preview),
            Send(reach, ((send,), (self._drop(found.id),)), prompt=True),
        ]
        draft.prompt_id = await self.sender.deliver(person.chat_id, messages, draft.prompt_id)

    async def pressed(self, person: Who, button: RoundButton, message_id: int | None) -> None:
        """Send on Confirm, or drop on Cancel; a button from a lost draft sends nothing."""
        draft = self.drafts.get(person.user_id)
        if not isinstance(draft, FeedbackDraft) or draft.round_id != button.round:
            key = "feedback_nothing_sent" if button.action == "drop" else "feedback_lost"
            await self._say(person, self.words(key, id=button.round), message_id)
            return
        if draft.prompt_id != message_id:
            # An earlier preview: the newest one, with its own buttons, still stands.
            await self._say(person, self.words("stale"), message_id)
            return
        self.drafts.drop(person.user_id)
        if button.action != "send" or draft.text is None:
            await self._say(person, self.words("feedback_nothing_sent"), message_id)
            return
        actor = f"staff:{person.user_id}"
        try:
            count = await self.planner.send_feedback(draft.round_id, draft.text, actor)
        except PlanError as error:
            await self._refuse(person, error, message_id)
            return
        await self._say(
            person, self.words("feedback_queued", people=people_text(count)), message_id
        )

    async def cancel(self, person: Who, draft: FeedbackDraft) -> None:
        """Drop the message; nothing was queued."""
        self.drafts.drop(person.user_id)
        await self._say(person, self.words("feedback_nothing_sent"), draft.prompt_id)

    async def _ask(
        self, person: Who, draft: FeedbackDraft, count: int, before: Send | None = None
    ) -> None:
        write = self.words(
            "feedback_write", id=draft.round_id, title=draft.title, people=people_text(count)
        )
        ask = Send(write, ((self._drop(draft.round_id),),), prompt=True)
        messages: list[Outgoing] = [PromptButtons(()), *([before] if before else []), ask]
        draft.prompt_id = await self.sender.deliver(person.chat_id, messages, draft.prompt_id)

    def _drop(self, round_id: int) -> Button:
        return Button(
            self.words("button_coordinator_cancel"), RoundButton(round_id, "drop").encode()
        )

    async def _refuse(self, person: Who, error: PlanError, message_id: int | None) -> None:
        await self._say(person, self.words("coordinator_refused", reason=error), message_id)

    async def _say(self, person: Who, text: str, message_id: int | None) -> None:
        await self.sender.deliver(person.chat_id, [PromptButtons(()), Send(text)], message_id)
