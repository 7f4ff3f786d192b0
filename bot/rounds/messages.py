"""What each proactive send says: invitations, reminders, follow-ups, closing notes, feedback."""

from __future__ import annotations

from dataclasses import dataclass

from bot.flows import FlowLibrary
from conversations.callbacks import InviteButton
from conversations.catalog import catalog
from conversations.model import Flow, text_in
from conversations.render import Button, Keyboard, Outgoing, PromptButtons, Send
from storage.repository import Repository
from storage.rounds import OutboxItem, Round


@dataclass(frozen=True)
class Composed:
    """The messages for one send, and the question message whose buttons they retire."""

    messages: list[Outgoing]
    prompt_id: int | None = None


def invite_keyboard(item_id: int, language: str) -> Keyboard:
    """Return the "Take part" / "Not this time" buttons for an invitation."""
    words = catalog(language)
    return (
        (Button(words("button_take_part"), InviteButton(item_id, "y").encode()),),
        (Button(words("button_not_this_time"), InviteButton(item_id, "n").encode()),),
    )


def default_invitation(flow: Flow, language: str) -> str:
    """Return the invitation written from the conversation itself."""
    fallback = flow.default_language
    return catalog(language)(
        "invitation_default",
        title=text_in(flow.title, language, fallback),
        duration=text_in(flow.intro.duration, language, fallback),
    )


class OutboxMessages:
    """Compose a send from its outbox row, in the participant's language."""

    def __init__(self, repository: Repository, flows: FlowLibrary) -> None:
        self.repository = repository
        self.flows = flows

    async def compose(self, item: OutboxItem, found: Round | None) -> Composed | None:
        """Return what to send, or None if what it is about no longer exists."""
        words = catalog(item.language)
        if item.kind == "feedback":
            if found is None or found.feedback is None:
                return None
            text = words("feedback_message", title=found.title, text=found.feedback)
            return Composed([Send(text)])
        if item.kind == "closed":
            if found is None:
                return None
            run = await self.repository.run(item.run_id) if item.run_id else None
            notice = Send(words("round_closed_notice", title=found.title))
            if run is None or run.prompt_message_id is None:
                return Composed([notice])
            return Composed([PromptButtons(()), notice], run.prompt_message_id)
        flow = self.flows.latest(item.flow_id or (found.flow_id if found else ""))
        if flow is None:
            return None
        language, fallback = item.language, flow.default_language
        footer = words("invitation_footer")
        if item.kind == "invitation" and found is not None:
            body = found.invitation or default_invitation(flow, language)
            return Composed([Send(f"{body}\n\n{footer}", invite_keyboard(item.id, language))])
        title = text_in(flow.title, language, fallback)
        duration = text_in(flow.intro.duration, language, fallback)
        if item.kind == "reminder" and found is not None:
            run_id = await self.repository.round_run_id(item.participant_code, found.id)
            if run_id is not None:
                carry_on = Button(words("button_carry_on"), InviteButton(item.id, "c").encode())
                return Composed([Send(words("reminder_started", title=title), ((carry_on,),))])
            text = words("reminder_not_started", title=title, duration=duration)
            return Composed([Send(f"{text}\n\n{footer}", invite_keyboard(item.id, language))])
        if item.kind == "follow_up":
            done = await self._done_title(item)
            text = words("follow_up_invitation", done=done, title=title, duration=duration)
            return Composed([Send(f"{text}\n\n{footer}", invite_keyboard(item.id, language))])
        return None

    async def _done_title(self, item: OutboxItem) -> str:
        """Return the title of the conversation a follow-up follows."""
        run = await self.repository.run(item.run_id) if item.run_id else None
        flow = await self.flows.version(run.flow_id, run.flow_version) if run else None
        if flow is None:
            return catalog(item.language)("follow_up_earlier")
        return text_in(flow.title, item.language, flow.default_language)
