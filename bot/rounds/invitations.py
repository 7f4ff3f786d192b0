"""A participant's answer to an invitation: take part, not this time, or carry on."""

from __future__ import annotations

from bot.journey import Journey, Who
from conversations.callbacks import ConsentButton, InviteButton
from conversations.catalog import catalog
from conversations.events import Show
from conversations.model import Flow
from conversations.render import Outgoing, PromptButtons, Send, about, consent_question
from storage.repository import ConsentGiven, Contact
from storage.rounds import OutboxItem, Round

ANSWERABLE = ("invitation", "reminder", "follow_up")


class Invitations:
    """Turn an invitation's buttons into a new run, a recorded "no", or the run already begun."""

    def __init__(self, journey: Journey) -> None:
        self.journey = journey
        self.repository = journey.repository

    async def answer(self, who: Who, button: InviteButton, message_id: int | None) -> None:
        """Act on "Take part", "Not this time" or "Carry on"; a forged button changes nothing."""
        found = await self._invitation(who, button.item)
        if found is None:
            await self.journey.act(who, Show(), stale=True)
            return
        contact, item, current = found
        if button.answer == "n":
            await self.repository.decline(
                item.id, contact.participant.code, self.journey.clock.now()
            )
            await self._reply(who, contact, "invitation_declined", message_id)
            return
        await self._take_part(who, contact, item, current, message_id)

    async def consented(self, who: Who, button: ConsentButton, message_id: int | None) -> None:
        """Record consent given from an invitation, then begin; a "no" counts as declining."""
        found = await self._invitation(who, button.item)
        if found is None:
            await self.journey.act(who, Show(), stale=True)
            return
        contact, item, current = found
        flow = self.journey.flows.latest(button.flow)
        fresh = (
            flow is not None
            and flow.version == button.version
            and flow.consent.version == button.consent
        )
        if flow is None or not fresh:
            await self._reply(who, contact, "stale", None)
            await self._take_part(who, contact, item, current, None)
            return
        if not button.agree:
            await self.repository.decline(
                item.id, contact.participant.code, self.journey.clock.now()
            )
            await self._reply(who, contact, "invitation_declined", message_id)
            return
        participant = contact.participant
        await self.repository.enrol(
            user_id=who.user_id,
            chat_id=who.chat_id,
            language=participant.language,
            consent=ConsentGiven(flow.id, flow.version, flow.consent.version),
            now=self.journey.clock.now(),
        )
        await self._take_part(who, contact, item, current, message_id)

    async def _take_part(
        self,
        who: Who,
        contact: Contact,
        item: OutboxItem,
        current: Round | None,
        message_id: int | None,
    ) -> None:
        participant = contact.participant
        now = self.journey.clock.now()
        if current is not None and (current.status != "open" or now >= current.closes_at):
            await self._reply(who, contact, "invitation_closed", message_id)
            return
        if current is not None:
            run_id = await self.repository.round_run_id(participant.code, current.id)
        else:
            run_id = await self.repository.invitation_run_id(participant.code, item.id)
        if run_id is not None:
            run = await self.repository.run(run_id)
            if run is None or run.status == "completed":
                await self._reply(who, contact, "invitation_done", message_id)
                return
            await self.journey.send(who.chat_id, [PromptButtons(())], message_id)
            await self.journey.act(who, Show(), contact=contact)
            return
        flow = self.journey.flows.latest(current.flow_id if current else item.flow_id or "")
        if flow is None:
            await self._reply(who, contact, "conversation_closed", message_id)
            return
        if not await self._has_consent(participant.code, flow):
            language = participant.language
            asks: list[Outgoing] = [
                PromptButtons(()),
                about(flow, language, self.journey.staff_hours),
                consent_question(flow, language, item.id),
            ]
            await self.journey.send(who.chat_id, asks, message_id)
            return
        await self.journey.send(who.chat_id, [PromptButtons(())], message_id)
        await self.journey.begin_run(
            who.chat_id,
            participant,
            flow,
            round_id=current.id if current else None,
            invitation_id=None if current else item.id,
        )

    async def _invitation(
        self, who: Who, item_id: int
    ) -> tuple[Contact, OutboxItem, Round | None] | None:
        """Return the person, their invitation and its round; None unless it is theirs."""
        contact = await self.repository.contact_for_user(who.user_id)
        item = await self.repository.outbox_item(item_id) if contact is not None else None
        if contact is None or item is None or item.kind not in ANSWERABLE:
            return None
        if item.participant_code != contact.participant.code:
            return None
        # A follow-up keeps its round for the record, but is not bound by the round's dates.
        in_round = item.round_id is not None and item.kind != "follow_up"
        current = (
            await self.repository.round(item.round_id) if in_round and item.round_id else None
        )
        return contact, item, current

    async def _has_consent(self, code: str, flow: Flow) -> bool:
        consents = await self.repository.consents_of(code)
        return any(
            c.flow_id == flow.id and c.consent_version == flow.consent.version for c in consents
        )

    async def _reply(self, who: Who, contact: Contact, key: str, message_id: int | None) -> None:
        text = catalog(contact.participant.language)(key)
        await self.journey.send(who.chat_id, [PromptButtons(()), Send(text)], message_id)
