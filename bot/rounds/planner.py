"""Set up, close and follow up rounds, with the checks both Telegram and the CLI rely on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.flows import FlowLibrary
from bot.rounds.messages import default_invitation
from bot.rounds.when import WhenError, describe, parse_when
from conversations.model import Flow, text_in
from storage.audit import Audit
from storage.repository import Repository
from storage.rounds import (
    CONTACTABLE,
    NewRound,
    Round,
    RoundFigures,
    RoundStatus,
    earlier_round,
    took_part_in,
)

MAX_TITLE = 100
# Leaves room for the footer every invitation carries, under Telegram's 4,096 characters.
MAX_INVITATION = 3_000
MAX_FEEDBACK = 3_500
MAX_REMINDERS = 2
MAX_RETENTION_DAYS = 36_500
DEFAULT_REMINDER_DAYS = 3.0


class PlanError(ValueError):
    """A round cannot be set up or changed as asked; the message says why, plainly."""


@dataclass(frozen=True)
class RoundView:
    """A round with its live figures (eligible counted now for a round not yet open)."""

    round: Round
    figures: RoundFigures


class RoundPlanner:
    """Everything a coordinator does to rounds, checked and written to the audit log."""

    def __init__(
        self, repository: Repository, flows: FlowLibrary, clock: Clock, zone: ZoneInfo
    ) -> None:
        self.repository = repository
        self.flows = flows
        self.clock = clock
        self.zone = zone

    # --- one check per answer, so a guided conversation can ask again ------------------------

    def flow(self, flow_id: str) -> Flow:
        """Return the conversation a round would use."""
        flow = self.flows.latest(flow_id.strip())
        if flow is None:
            known = ", ".join(sorted(self.flows.current)) or "none"
            raise PlanError(f"there is no conversation '{flow_id.strip()}' (there are: {known})")
        return flow

    def title(self, text: str, flow: Flow) -> str:
        """Return a round's title (the conversation's own title when left empty)."""
        title = " ".join(text.split())
        if not title:
            return text_in(flow.title, flow.default_language, flow.default_language)
        if len(title) > MAX_TITLE:
            raise PlanError(f"a title can be up to {MAX_TITLE} characters (this is {len(title)})")
        return title

    def opens(self, text: str) -> datetime:
        """Return when a round opens: now, or a time still to come."""
        when = self._when(text)
        now = self.clock.now()
        if when < now and text.strip().lower() != "now":
            raise PlanError(
                f'{describe(when, self.zone)} has already passed; use "now" or a later time'
            )
        return max(when, now)

    def closes(self, text: str, opens: datetime) -> datetime:
        """Return when a round closes, which must be after it opens."""
        when = self._when(text)
        if when <= opens:
            raise PlanError(
                f"the round must close after it opens ({describe(opens, self.zone)}); "
                f"{describe(when, self.zone)} is not after that"
            )
        return when

    def reminders(self, value: str | int) -> int:
        """Return how many reminders to send: none, one or two."""
        text = str(value).strip()
        if not text.isdecimal() or int(text) > MAX_REMINDERS:
            raise PlanError(f"reminders can be 0, 1 or 2 (got {text or 'nothing'})")
        return int(text)

    async def audience(self, text: str) -> str:
        """Return an audience: everyone contactable, or those who took part in round N."""
        words = text.strip().lower()
        if words in ("", "all", "everyone", CONTACTABLE):
            return CONTACTABLE
        number = words.removeprefix("round").strip().lstrip("#:r")
        if not number.isdecimal() or await self.repository.round(int(number)) is None:
            raise PlanError(f"there is no round '{text.strip()}' to take the audience from")
        return took_part_in(int(number))

    def retention(self, value: str | int | None) -> int | None:
        """Return how many days to keep a round's conversations (None: the setting)."""
        if value is None or str(value).strip() == "":
            return None
        text = str(value).strip()
        if not text.isdecimal() or not 1 <= int(text) <= MAX_RETENTION_DAYS:
            raise PlanError(
                f"retention is a whole number of days from 1 to {MAX_RETENTION_DAYS} (got {text})"
            )
        return int(text)

    def invitation(self, text: str | None) -> str | None:
        """Return a coordinator's invitation text, or None for the default."""
        if text is None or not text.strip():
            return None
        if len(text) > MAX_INVITATION:
            raise PlanError(
                f"an invitation can be up to {MAX_INVITATION} characters (this is {len(text)})"
            )
        return text.strip()

    def default_invitation(self, flow: Flow, language: str = "en") -> str:
        """Return the invitation written from the conversation itself."""
        return default_invitation(flow, language)

    def _when(self, text: str) -> datetime:
        try:
            return parse_when(text, self.clock.now(), self.zone)
        except WhenError as error:
            raise PlanError(str(error)) from None

    # --- acting on rounds ---------------------------------------------------------------------

    async def create(
        self,
        *,
        flow_id: str,
        opens: str,
        closes: str,
        actor: str,
        title: str = "",
        audience: str = CONTACTABLE,
        reminders: str | int = 1,
        invitation: str | None = None,
        notify_chat: int | None = None,
        retention_days: str | int | None = None,
    ) -> Round:
        """Check every part of a new round, store it, and audit it."""
        flow = self.flow(flow_id)
        opens_at = self.opens(opens)
        new = NewRound(
            title=self.title(title, flow),
            flow_id=flow.id,
            opens_at=opens_at,
            closes_at=self.closes(closes, opens_at),
            created_by=actor,
            audience=await self.audience(audience),
            reminders=self.reminders(reminders),
            reminder_days=DEFAULT_REMINDER_DAYS,
            invitation=self.invitation(invitation),
            notify_chat=notify_chat,
            retention_days=self.retention(retention_days),
        )
        return await self.store(new, actor)

    async def store(self, new: NewRound, actor: str) -> Round:
        """Store a round already checked part by part, and audit it."""
        now = self.clock.now()
        detail = (
            f"'{new.title}' ({new.flow_id}) opens {new.opens_at.isoformat()} "
            f"closes {new.closes_at.isoformat()}, audience {new.audience}, "
            f"{new.reminders} reminder(s)"
            + (f", kept {new.retention_days} days" if new.retention_days else "")
        )
        return await self.repository.create_round(
            new, now, lambda round_id: Audit(actor, "round created", f"R{round_id} {detail}", now)
        )

    async def get(self, round_id: int) -> Round:
        """Return a round, or say plainly that there is none."""
        found = await self.repository.round(round_id)
        if found is None:
            raise PlanError(f"there is no round R{round_id}")
        return found

    async def view(self, round_id: int) -> RoundView:
        """Return a round with its live figures."""
        return await self._view(await self.get(round_id))

    async def overview(self) -> list[RoundView]:
        """Return every round, newest first, with live figures."""
        return [await self._view(found) for found in await self.repository.rounds()]

    async def _view(self, found: Round) -> RoundView:
        figures = await self.repository.round_figures(found.id)
        if found.status == "scheduled":
            eligible = await self.repository.audience_size(found.audience)
            figures = RoundFigures(eligible, *(0 for _ in range(7)))
        return RoundView(found, figures)

    async def end(self, round_id: int, actor: str, *, cancel: bool = False) -> Round:
        """Close a round now (or cancel it); those part-way through are told and thanked."""
        found = await self.get(round_id)
        if found.status not in ("scheduled", "open"):
            raise PlanError(f"round R{round_id} is already {found.status}")
        status: RoundStatus = "cancelled" if cancel else "closed"
        now = self.clock.now()
        audit = Audit(actor, f"round {status}", f"R{round_id} '{found.title}'", now)
        await self.repository.end_round(round_id, status, now, audit)
        return await self.get(round_id)

    async def feedback_reach(self, round_id: int) -> tuple[Round, int]:
        """Return a round and how many people its feedback would reach, if it may be sent."""
        found = await self.get(round_id)
        if found.status not in ("open", "closed"):
            raise PlanError(f"round R{round_id} is {found.status}: nobody has taken part in it")
        if found.feedback_at is not None:
            raise PlanError(
                f"feedback for round R{round_id} was already sent on "
                f"{describe(found.feedback_at, self.zone)}"
            )
        reach = await self.repository.feedback_audience(round_id)
        if reach == 0:
            raise PlanError(
                f"nobody would receive it: no one who took part in round R{round_id} "
                "is still taking messages from us"
            )
        return found, reach

    def feedback_text(self, text: str) -> str:
        """Return "you said, we did" text fit to send."""
        cleaned = text.strip()
        if not cleaned:
            raise PlanError("the feedback message is empty")
        if len(cleaned) > MAX_FEEDBACK:
            raise PlanError(
                f"feedback can be up to {MAX_FEEDBACK} characters (this is {len(cleaned)})"
            )
        return cleaned

    async def send_feedback(self, round_id: int, text: str, actor: str) -> int:
        """Queue the feedback to those who took part and want updates; count them."""
        words = self.feedback_text(text)
        await self.feedback_reach(round_id)
        now = self.clock.now()
        return await self.repository.queue_feedback(
            round_id,
            words,
            now,
            lambda count: Audit(
                actor, "feedback sent", f"R{round_id} to {count} participant(s)", now
            ),
        )


def audience_label(audience: str) -> str:
    """Describe an audience for staff."""
    earlier = earlier_round(audience)
    if earlier is None:
        return "everyone who agreed to be contacted"
    return f"those who took part in round R{earlier} (and agreed to be contacted)"
