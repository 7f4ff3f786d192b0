"""Screen everything a person writes, before anything touches the database.

Each text gets one of three verdicts (`bot.safeguarding.verdicts`): a flag (the check-in, an
alert now, its answer withheld until reviewed), a concern (a gentle note, and a lower-priority
item in the review queue; the conversation goes on) or ok (nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.safeguarding.screening import Screener
from bot.safeguarding.verdicts import Screening, Verdict
from storage.safety import FlagSource, NewFlag


@dataclass
class Screened:
    """Words a person wrote, screened; `stored` once their flag (or concern) is committed."""

    text: str
    screening: Screening
    written_at: datetime
    source: FlagSource = "answer"
    stored: bool = False
    supported: bool = False  # the support lines were shown already, before the commit
    # Filled in as the runner learns them, for an alert sent from memory if storage fails.
    code: str | None = None
    run_id: int | None = None
    conversation: str = "none"

    @property
    def risk(self) -> bool:
        """Say whether these are words of risk: the check-in, and a person alerted now."""
        return self.screening.verdict is Verdict.FLAG

    @property
    def concern(self) -> bool:
        """Say whether these words are a concern: a gentle note, and a review item for later."""
        return self.screening.verdict is Verdict.CONCERN

    def flag(self, code: str, run_id: int | None, step_id: str | None) -> NewFlag | None:
        """Return the flag (or concern) to commit with these words; None if they are ok."""
        if not (self.risk or self.concern):
            return None
        source: FlagSource = self.source
        if step_id is None and source == "answer":
            source = "message"
        return NewFlag(
            code,
            run_id,
            step_id,
            self.screening.label,
            self.text,
            self.written_at,
            source,
            priority="flag" if self.risk else "concern",
        )


class RiskWatch:
    """Screen what participants write: the phrase list the safeguarding lead edits, and more."""

    def __init__(self, screener: Screener) -> None:
        self.screener = screener

    def check(self, text: str) -> Screening:
        """Return the verdict on a text: flag, concern or ok, and why."""
        return self.screener.screen(text)

    def screened(self, text: str, written_at: datetime, source: FlagSource = "answer") -> Screened:
        """Screen a text someone wrote, keeping where and when it was written."""
        return Screened(text, self.check(text), written_at, source)
