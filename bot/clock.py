"""Where the bot gets the time, so tests can pin it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Tell the current time (timezone-aware, UTC)."""

    def now(self) -> datetime:
        """Return the current time."""


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        """Return the current time in UTC."""
        return datetime.now(UTC)
