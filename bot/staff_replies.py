"""A participant's answer to a person at the charity: never a survey answer.

A message sent with `/reply` carries a Reply button. Pressing it, or using Telegram's own
Reply on the message, makes the next text an answer to staff: it is stored as a message from
the participant, threaded with their flag, and the sweep passes it to the safeguarding chat.
"""

from __future__ import annotations

from datetime import timedelta

from bot.clock import Clock
from bot.safeguarding.alerts import Alerts
from conversations.callbacks import ChoiceButton
from conversations.catalog import catalog
from conversations.render import Button, Outgoing, PromptButtons, Send
from storage.repository import Participant, Repository
from storage.safety import ContactMessage

REPLY_WINDOW = timedelta(hours=1)  # after pressing Reply, the next text goes to staff


class StaffReplies:
    """Take participants' answers to staff messages, and the Reply button."""

    def __init__(self, repository: Repository, alerts: Alerts, clock: Clock) -> None:
        self.repository = repository
        self.alerts = alerts
        self.clock = clock

    async def target(
        self, participant: Participant, replying_to: int | None
    ) -> ContactMessage | None:
        """Return the staff message a text answers (Telegram's Reply, or the Reply button)."""
        if replying_to is not None:
            found = await self.repository.staff_message_in_chat(participant.code, replying_to)
            if found is not None:
                return found
        until = participant.replying_until
        if participant.replying_to is not None and until is not None and until > self.clock.now():
            return await self.repository.contact_message(participant.replying_to)
        return None

    async def take(self, participant: Participant, text: str, to: ContactMessage) -> None:
        """Store a participant's answer to staff, threaded with their flag, to be passed on."""
        code = participant.code
        flag_id = to.flag_id
        if flag_id is None:
            flag = await self.repository.open_flag_of(code)
            flag_id = flag.id if flag else None
        await self.repository.add_contact_message(
            code, "from_participant", text, self.clock.now(), flag_id=flag_id
        )
        if participant.replying_to is not None:
            await self.repository.set_replying(code, None, None)
        self.alerts.kick()

    async def button(self, participant: Participant, value: str) -> list[Outgoing]:
        """Start (Reply) or cancel taking the next text as an answer; what to show."""
        code, words = participant.code, catalog(participant.language)
        if value != "y":
            await self.repository.set_replying(code, None, None)
            return [PromptButtons(()), Send(words("reply_cancelled"))]
        staff = [
            m
            for m in await self.repository.contact_messages_of(code)
            if m.direction == "to_participant"
        ]
        if not staff:
            return [Send(words("stale"))]
        await self.repository.set_replying(code, staff[-1].id, self.clock.now() + REPLY_WINDOW)
        cancel = Button(words("button_reply_cancel"), ChoiceButton("reply", "x").encode())
        return [Send(words("reply_prompt"), ((cancel,),))]
