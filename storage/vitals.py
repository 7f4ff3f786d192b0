"""How much the database holds and how recent it is: for checks on the clock and the purge."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storage.repository import AuditEntry


@dataclass(frozen=True)
class Activity:
    """How many runs there are, and the newest time anyone's data was written."""

    runs: int
    newest: datetime | None


class VitalsStore(Protocol):
    """The storage interface for the database's vital signs."""

    async def activity(self) -> Activity:
        """Return how many runs there are and when participant data was last written."""

    async def latest_audit(self, actions: Sequence[str]) -> AuditEntry | None:
        """Return the newest audit entry with one of these actions, if any."""
