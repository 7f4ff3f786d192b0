"""The storage interface the bot depends on, and the records it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from storage.audit import Audit
from storage.rounds import RoundStore
from storage.safety import KeptMessage, NewFlag, SafetyStore
from storage.vitals import VitalsStore

ParticipantStatus = Literal["active", "stopped", "unreachable"]
Role = Literal["coordinator", "staff", "safeguarding"]
ROLES: tuple[Role, ...] = ("coordinator", "staff", "safeguarding")


class StorageUnavailable(Exception):
    """The database refused a read or a write (locked, full, failing); nothing was changed."""


class FlowVersionConflict(Exception):
    """A flow file changed but kept the version number already stored."""

    def __init__(self, flow_id: str, version: int) -> None:
        self.flow_id = flow_id
        self.version = version
        super().__init__(
            f"conversation '{flow_id}' version {version} has changed since it was first used; "
            f"give it a new version number (for example {version + 1}) so earlier answers "
            "keep their meaning"
        )


@dataclass(frozen=True)
class Participant:
    """A person who agreed to take part, known by a random code."""

    code: str
    language: str
    status: ParticipantStatus
    contact_ok: bool
    created_at: datetime
    nation: str | None = None
    contact_changed_at: datetime | None = None
    # After pressing "Reply" under a message from staff: which one, and until when.
    replying_to: int | None = None
    replying_until: datetime | None = None


@dataclass(frozen=True)
class ConsentRecord:
    """One agreement to take part, as stored."""

    flow_id: str
    flow_version: int
    consent_version: int
    given_at: datetime


@dataclass(frozen=True)
class Deleted:
    """How much was deleted with a participant."""

    runs: int
    answers: int
    consents: int


@dataclass(frozen=True)
class Contact:
    """Where to reach a participant in Telegram (from the identity table only)."""

    participant: Participant
    chat_id: int


@dataclass(frozen=True)
class Run:
    """One participant's pass through one version of a flow."""

    id: int
    participant_code: str
    flow_id: str
    flow_version: int
    state: str
    status: str
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    prompt_message_id: int | None
    needs_delivery: bool
    round_id: int | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class StoredAnswer:
    """One stored answer; `value` is JSON (`null` when skipped)."""

    run_id: int
    step_id: str
    value: str
    answered_at: datetime


@dataclass(frozen=True)
class ConsentGiven:
    """Which consent text, in which flow version, a participant agreed to."""

    flow_id: str
    flow_version: int
    consent_version: int


@dataclass(frozen=True)
class Pending:
    """A run whose latest messages may not have reached the participant."""

    run: Run
    chat_id: int
    language: str


@dataclass(frozen=True)
class StaffRole:
    """A role held by a member of staff."""

    user_id: int
    role: Role
    granted_by: int
    granted_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One privileged action, or an attempt at one."""

    id: int
    at: datetime
    actor: str
    action: str
    detail: str


@dataclass(frozen=True)
class Purged:
    """What a retention purge removed."""

    runs: int
    answers: int
    participants: int


class Repository(RoundStore, SafetyStore, VitalsStore, Protocol):
    """Everything Heard stores, as a small async interface."""

    async def register_flow(
        self, flow_id: str, version: int, content_hash: str, definition: str, now: datetime
    ) -> None:
        """Keep a flow version's definition; refuse a changed one with the same version."""

    async def flow_definition(self, flow_id: str, version: int) -> str | None:
        """Return the stored definition (JSON) of a flow version."""

    async def contact_for_user(self, user_id: int) -> Contact | None:
        """Return the participant behind a Telegram user, if they ever consented."""

    async def contact_and_run(self, user_id: int) -> tuple[Contact | None, Run | None]:
        """Return contact_for_user and that participant's latest_run, read together."""

    async def enrol(
        self,
        *,
        user_id: int,
        chat_id: int,
        language: str,
        consent: ConsentGiven,
        now: datetime,
    ) -> Participant:
        """Record consent, creating the participant and identity if they are new."""

    async def start_run(
        self,
        participant_code: str,
        flow_id: str,
        flow_version: int,
        state: str,
        now: datetime,
        *,
        round_id: int | None = None,
        invitation_id: int | None = None,
    ) -> Run:
        """Create a run for a participant (in a round, or from an invitation, if given)."""

    async def latest_run(self, participant_code: str) -> Run | None:
        """Return the participant's most recent run."""

    async def run(self, run_id: int) -> Run | None:
        """Return one run."""

    async def save(
        self,
        run_id: int,
        state: str,
        status: str,
        answers: list[tuple[str, str]],
        now: datetime,
        forget: Sequence[str] = (),
        *,
        flag: NewFlag | None = None,
        kept: Sequence[KeptMessage] = (),
        follow_ups: Sequence[tuple[int, str, datetime]] = (),
    ) -> int | None:
        """Store a run's new state, answers, deletions, flag, kept words and follow-ups at once.

        Returns the new flag's id, if a flag was given.
        """

    async def mark_delivered(
        self, run_id: int, prompt_message_id: int | None, now: datetime | None = None
    ) -> None:
        """Note that the run's messages were shown (at `now`), and which holds the question."""

    async def undelivered(self) -> list[Pending]:
        """Return runs whose latest state was saved but not yet shown."""

    async def set_status(self, participant_code: str, status: ParticipantStatus) -> None:
        """Change whether a participant may be sent messages."""

    async def answers(self, run_id: int) -> list[StoredAnswer]:
        """Return a run's answers in the order they were given."""

    async def participant(self, code: str) -> Participant | None:
        """Return a participant by code."""

    async def set_contact(self, code: str, contact_ok: bool, now: datetime) -> None:
        """Record whether a participant wants messages about future rounds."""

    async def set_nation(self, code: str, nation: str | None) -> None:
        """Record which nation's support lines a participant wants to see ("none": not said)."""

    async def consents_of(self, code: str) -> list[ConsentRecord]:
        """Return a participant's consent records, oldest first."""

    async def runs_of(self, code: str) -> list[Run]:
        """Return a participant's runs, oldest first."""

    async def delete_participant(self, code: str, audit: Callable[[Deleted], Audit]) -> Deleted:
        """Delete a participant with everything of theirs, in one go, audited with the counts."""

    async def contact_for_code(self, code: str) -> Contact | None:
        """Return where to reach a participant, by their code."""

    async def purge(
        self,
        now: datetime,
        retention_days: int,
        dry_run: bool = False,
        audit: Callable[[Purged], Audit] | None = None,
    ) -> Purged:
        """Delete runs last touched before a time, and people left with nothing; count them.

        `audit` makes the audit entry from the counts, written in the same transaction.
        """

    async def grant_role(self, user_id: int, role: Role, granted_by: int, audit: Audit) -> bool:
        """Give a user a role, audited; False (and nothing audited) if they already had it."""

    async def revoke_role(self, user_id: int, role: Role, audit: Audit) -> bool:
        """Take a role away, audited; False (and nothing audited) if they did not have it."""

    async def roles_of(self, user_id: int) -> set[Role]:
        """Return the roles a user holds in the database."""

    async def staff_roles(self) -> list[StaffRole]:
        """Return every role held, by user then role."""

    async def audit(self, actor: str, action: str, detail: str, now: datetime) -> None:
        """Append an entry to the audit log, for an act that wrote nothing else (a view)."""

    async def audit_entries(self, limit: int = 50) -> list[AuditEntry]:
        """Return the newest audit entries, newest first."""

    async def close(self) -> None:
        """Release the database."""
