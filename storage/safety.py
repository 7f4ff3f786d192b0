"""Safeguarding data: flags, the posts about them, messages with staff, words kept aside."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from storage.audit import Audit

# Where words of risk were written: an answer, a message outside any question (between
# questions, after the end, during the check-in), a caption, an edited message, a reply to
# staff, words typed before their question was shown; or the "I need help now" button.
FlagSource = Literal[
    "answer", "message", "caption", "edit", "reply", "before_question", "help_button"
]
# How soon a person must hear of a flag: 'flag' (the check-in, an alert now, its answer withheld
# until reviewed) or 'concern' (a gentle note; reviewed later, never alerted or withheld).
FlagPriority = Literal["flag", "concern"]
KeptWhy = Literal["before_question", "flood"]
PostKind = Literal["alert", "reminder", "urgent", "reply", "stored"]


@dataclass(frozen=True)
class Flag:
    """Words of risk a participant wrote, waiting for (or given) a person's review."""

    id: int
    participant_code: str | None
    run_id: int | None
    step_id: str | None
    phrase: str
    text: str | None
    created_at: datetime
    alerted_at: datetime | None
    reviewed_at: datetime | None
    outcome: str | None
    source: FlagSource = "answer"
    urgent_at: datetime | None = None
    urgent_alerted_at: datetime | None = None
    safe_at: datetime | None = None
    stored_at: datetime | None = None
    alert_stale: bool = False
    note: str | None = None
    reviewed_by: int | None = None
    priority: FlagPriority = "flag"


@dataclass(frozen=True)
class NewFlag:
    """Words of risk to store, with the state and answers they came with."""

    participant_code: str
    run_id: int | None
    step_id: str | None
    phrase: str
    text: str
    written_at: datetime
    source: FlagSource = "answer"
    # Told of from memory before the database took it (storage was failing).
    alerted_at: datetime | None = None
    urgent: bool = False
    priority: FlagPriority = "flag"


@dataclass(frozen=True)
class KeptMessage:
    """Words a participant sent that are kept, but as no question's answer."""

    text: str
    why: KeptWhy
    written_at: datetime


@dataclass(frozen=True)
class StoredKept:
    """A kept message, as stored."""

    id: int
    run_id: int | None
    text: str
    why: KeptWhy
    written_at: datetime


@dataclass(frozen=True)
class AlertPost:
    """A message the bot posted to staff about a flag."""

    id: int
    flag_id: int | None
    chat_id: int
    message_id: int
    kind: PostKind
    posted_at: datetime
    redact: bool


@dataclass(frozen=True)
class ContactMessage:
    """A message between a person at the charity and a participant (never an answer)."""

    id: int
    participant_code: str
    flag_id: int | None
    direction: Literal["to_participant", "from_participant"]
    text: str
    staff_user_id: int | None
    chat_message_id: int | None
    created_at: datetime
    relayed_at: datetime | None


class SafetyStore(Protocol):
    """Flags and everything that hangs on them, as the crisis path needs it."""

    async def add_flag(
        self,
        participant_code: str,
        run_id: int | None,
        step_id: str | None,
        phrase: str,
        text: str,
        now: datetime,
        *,
        source: FlagSource = "answer",
        alerted_at: datetime | None = None,
        urgent: bool = False,
        priority: FlagPriority = "flag",
    ) -> Flag:
        """Record words of risk for a person to review (written at `now`, stored now)."""

    async def store_flag(self, new: NewFlag, late: datetime | None = None) -> Flag:
        """Store a flag; `late`: when one kept in the spool (storage failing) is stored."""

    async def flag(self, flag_id: int) -> Flag | None:
        """Return one flag."""

    async def flags(self, open_only: bool = True) -> list[Flag]:
        """Return flags: flag priority first, then concerns, each oldest first."""

    async def flags_of(self, participant_code: str) -> list[Flag]:
        """Return a participant's flags, oldest first."""

    async def open_flag_of(self, participant_code: str) -> Flag | None:
        """Return the participant's newest flag (not a concern) nobody has reviewed yet."""

    async def flags_to_tell(self) -> list[Flag]:
        """Return flags staff must hear about: not alerted, urgent not told, alert out of date.

        Concerns are never among them: they wait in the review queue.
        """

    async def mark_alerted(self, flag_id: int, now: datetime) -> None:
        """Note that staff were told about a flag."""

    async def mark_urgent_alerted(self, flag_id: int, now: datetime) -> None:
        """Note that staff were told a participant pressed "I need help now"."""

    async def mark_alert_current(self, flag_id: int) -> None:
        """Note that the posted alerts about a flag say what is now known."""

    async def check_in_answer(
        self,
        participant_code: str,
        run_id: int | None,
        answer: Literal["safe", "help"],
        now: datetime,
    ) -> Flag | None:
        """Record a check-in answer on the open flag, not a concern; "help" with none opens one."""

    async def review_flag(self, flag_id: int, reviewer: int, outcome: str, audit: Audit) -> bool:
        """Record a reviewer's outcome, audited; False (nothing audited) if no such open flag."""

    async def note_flag(self, flag_id: int, note: str, audit: Audit) -> bool:
        """Add a reviewer's note to a flag, audited; False (nothing audited) if no such flag."""

    async def add_alert_post(
        self, flag_id: int | None, chat_id: int, message_id: int, kind: PostKind, now: datetime
    ) -> None:
        """Remember a message posted to staff about a flag."""

    async def alert_posts(self, flag_id: int) -> list[AlertPost]:
        """Return the messages posted to staff about a flag, oldest first."""

    async def posts_to_redact(self) -> list[AlertPost]:
        """Return posts whose words must go: their participant deleted their data."""

    async def mark_redacted(self, post_id: int) -> None:
        """Note that a post's words were removed (or the post deleted)."""

    async def add_contact_message(
        self,
        participant_code: str,
        direction: Literal["to_participant", "from_participant"],
        text: str,
        now: datetime,
        *,
        flag_id: int | None = None,
        staff_user_id: int | None = None,
        chat_message_id: int | None = None,
        audit: Audit | None = None,
    ) -> ContactMessage:
        """Store a message between staff and a participant (with its audit entry, if any)."""

    async def contact_message(self, message_id: int) -> ContactMessage | None:
        """Return one message between staff and a participant."""

    async def staff_message_in_chat(
        self, participant_code: str, chat_message_id: int
    ) -> ContactMessage | None:
        """Return the staff message shown as this message id in the participant's chat."""

    async def contact_messages_of(self, participant_code: str) -> list[ContactMessage]:
        """Return the messages between staff and a participant, oldest first."""

    async def unrelayed(self) -> list[ContactMessage]:
        """Return participants' messages to staff not yet posted to them."""

    async def mark_relayed(self, message_id: int, audit: Audit) -> None:
        """Note that staff have a participant's message, audited."""

    async def set_replying(
        self, participant_code: str, to: int | None, until: datetime | None
    ) -> None:
        """Start (or end, with None) taking the participant's next text as a reply to staff."""

    async def keep_messages(
        self, participant_code: str, run_id: int | None, kept: Sequence[KeptMessage], now: datetime
    ) -> None:
        """Keep words that are no question's answer."""

    async def kept_of(self, participant_code: str) -> list[StoredKept]:
        """Return the words kept aside for a participant, oldest first."""
