"""Notice words of risk in anything a person writes, before anything touches the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.safeguarding.screening import Match, PhraseList, screen
from storage.safety import FlagSource, NewFlag


@dataclass
class Screened:
    """Words a person wrote, screened; `stored` once their flag is committed."""

    text: str
    match: Match | None
    written_at: datetime
    source: FlagSource = "answer"
    stored: bool = False
    supported: bool = False  # the support lines were shown already, before the commit
    # Filled in as the runner learns them, for an alert sent from memory if storage fails.
    code: str | None = None
    run_id: int | None = None
    conversation: str = "none"

    def flag(self, code: str, run_id: int | None, step_id: str | None) -> NewFlag | None:
        """Return the flag to commit with these words, if they are words of risk."""
        if self.match is None:
            return None
        source: FlagSource = self.source
        if step_id is None and source == "answer":
            source = "message"
        return NewFlag(
            code, run_id, step_id, self.match.phrase, self.text, self.written_at, source
        )


class RiskWatch:
    """Screen what participants write against the phrase list the safeguarding lead edits."""

    def __init__(self, phrases: PhraseList) -> None:
        self.phrases = phrases

    def check(self, text: str) -> Match | None:
        """Return the phrase a text matches, if any."""
        return screen(text, self.phrases)

    def screened(self, text: str, written_at: datetime, source: FlagSource = "answer") -> Screened:
        """Screen a text someone wrote, keeping where and when it was written."""
        return Screened(text, self.check(text), written_at, source)
