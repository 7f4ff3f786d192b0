"""Consultation rounds and the outbox of proactive sends: records and the storage interface."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from storage.audit import Audit

RoundStatus = Literal["scheduled", "open", "closed", "cancelled"]
OutboxKind = Literal["invitation", "reminder", "follow_up", "closed", "feedback"]
OutboxStatus = Literal["pending", "claimed", "sent", "failed", "skipped"]
# Who a round invites: everyone who agreed to be contacted, or those of them who took part
# in an earlier round ("round:ID").
CONTACTABLE = "contactable"


def took_part_in(round_id: int) -> str:
    """Return the audience of those who took part in an earlier round."""
    return f"round:{round_id}"


def earlier_round(audience: str) -> int | None:
    """Return the earlier round an audience is drawn from, if any."""
    prefix, _, number = audience.partition(":")
    return int(number) if prefix == "round" and number.isdigit() else None


@dataclass(frozen=True)
class NewRound:
    """What a coordinator asks for when setting up a round."""

    title: str
    flow_id: str
    opens_at: datetime
    closes_at: datetime
    created_by: str
    audience: str = CONTACTABLE
    reminders: int = 1
    reminder_days: float = 3.0
    invitation: str | None = None
    notify_chat: int | None = None
    retention_days: int | None = None


@dataclass(frozen=True)
class Round:
    """A round as stored."""

    id: int
    title: str
    flow_id: str
    opens_at: datetime
    closes_at: datetime
    audience: str
    reminders: int
    reminder_days: float
    invitation: str | None
    status: RoundStatus
    created_by: str
    created_at: datetime
    notify_chat: int | None
    progress_message_id: int | None
    closed_at: datetime | None
    feedback: str | None
    feedback_at: datetime | None
    retention_days: int | None = None


@dataclass(frozen=True)
class RoundFigures:
    """Live counts for a round."""

    eligible: int
    invited: int
    started: int
    completed: int
    declined: int
    stopped: int
    failed: int
    waiting: int


@dataclass(frozen=True)
class OutboxItem:
    """One proactive send, with what is needed to decide whether it is still wanted."""

    id: int
    key: str
    kind: OutboxKind
    participant_code: str
    round_id: int | None
    run_id: int | None
    flow_id: str | None
    due_at: datetime
    status: OutboxStatus
    attempts: int
    recovered: bool
    chat_id: int
    language: str
    participant_status: str
    contact_ok: bool


@dataclass(frozen=True)
class SendTally:
    """How one kind of send for a round has gone."""

    total: int
    sent: int
    failed: int
    skipped: int

    @property
    def done(self) -> bool:
        """Say whether nothing is left waiting."""
        return self.sent + self.failed + self.skipped >= self.total


class RoundStore(Protocol):
    """Rounds, their outbox and the replies to invitations."""

    async def create_round(
        self, new: NewRound, now: datetime, audit: Callable[[int], Audit]
    ) -> Round:
        """Store a new round, scheduled to open, with the audit entry made from its id."""

    async def round(self, round_id: int) -> Round | None:
        """Return one round."""

    async def rounds(self) -> list[Round]:
        """Return every round, newest first."""

    async def audience_size(self, audience: str) -> int:
        """Count who a round with this audience would invite now."""

    async def open_due_rounds(self, now: datetime) -> list[Round]:
        """Open each scheduled round whose time has come: queue one invitation per person."""

    async def close_due_rounds(self, now: datetime) -> list[Round]:
        """Close each open round whose closing time has passed."""

    async def end_round(
        self, round_id: int, status: RoundStatus, now: datetime, audit: Audit | None
    ) -> bool:
        """Close or cancel a round, audited: drop unsent invitations, tell those mid-way."""

    async def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[OutboxItem]:
        """Claim due sends (and ones whose claim expired) until the lease ends."""

    async def expire_claims(self, now: datetime) -> int:
        """End every lease now (at start-up no send can be in flight); count them."""

    async def outbox_item(self, item_id: int) -> OutboxItem | None:
        """Return one send with its participant's current state."""

    async def mark_sent(self, item_id: int, now: datetime) -> None:
        """Record a send as done; an invitation's reminders are queued from now."""

    async def retry_later(self, item_id: int, due_at: datetime, error: str) -> None:
        """Put a claimed send back, due again later."""

    async def give_up(self, item_id: int, status: OutboxStatus, reason: str) -> None:
        """Record that a send failed or is no longer wanted."""

    async def mark_unreachable(self, participant_code: str) -> None:
        """Note that a participant cannot be reached; drop every send waiting for them."""

    async def stop_participant(self, participant_code: str, now: datetime) -> int:
        """Stop every proactive message to a participant, now and later; count those dropped."""

    async def waiting_for(self, participant_code: str) -> list[OutboxItem]:
        """Return the proactive sends still waiting for a participant, soonest first."""

    async def decline(self, item_id: int, participant_code: str, now: datetime) -> bool:
        """Record "not this time" for an invitation; False if it was already recorded."""

    async def has_declined(self, participant_code: str, round_id: int) -> bool:
        """Say whether a participant said "not this time" to a round."""

    async def round_run_id(self, participant_code: str, round_id: int) -> int | None:
        """Return the participant's run in a round, if they started one."""

    async def invitation_run_id(self, participant_code: str, item_id: int) -> int | None:
        """Return the run a participant started from an invitation outside any round."""

    async def round_figures(self, round_id: int) -> RoundFigures:
        """Count eligible, invited, started, completed, declined, stopped and failed."""

    async def send_tally(self, round_id: int, kind: OutboxKind) -> SendTally:
        """Count one kind of send for a round by how it went."""

    async def feedback_audience(self, round_id: int) -> int:
        """Count who a round's "you said, we did" message would reach."""

    async def queue_feedback(
        self, round_id: int, text: str, now: datetime, audit: Callable[[int], Audit]
    ) -> int:
        """Keep the feedback text and queue it to those who took part (audited); count them."""

    async def queue_follow_ups(
        self,
        participant_code: str,
        run_id: int,
        round_id: int | None,
        follow_ups: Sequence[tuple[int, str, datetime]],
    ) -> None:
        """Queue follow-up invitations (position, flow id, due at) after a completed run."""

    async def set_progress_message(self, round_id: int, message_id: int | None) -> None:
        """Remember the message that shows a round's sending progress."""
