"""The gentle note a concern gets: where support is, and what Heard is not; never a nag.

A concern does not stop the conversation. Before the next question the person is told, once,
that support is there if things are hard, with the support lines for their nation, and that
Heard is not a crisis service. Someone writing several hard answers is not told again and
again: a run that had a concern or a flag in the last `NOTE_GAP` gets no second note (a flag's
check-in showed the same lines).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.support import SupportFile, render_support
from conversations.catalog import catalog
from conversations.render import Send
from storage.repository import Participant
from storage.safety import SafetyStore

NOTE_GAP = timedelta(hours=24)


class ConcernNotes:
    """Say what a concern gets shown, and whether it is shown this time."""

    def __init__(self, flags: SafetyStore, support: SupportFile, staff_hours: str) -> None:
        self.flags = flags
        self.support = support
        self.staff_hours = staff_hours

    async def due(
        self, participant: Participant, run_id: int | None, written_at: datetime
    ) -> Send | None:
        """Return the note for a concern not stored yet, unless this run had one lately.

        Times are when the words were written (Telegram's date), as flags store them.
        """
        since = written_at - NOTE_GAP
        for flag in await self.flags.flags_of(participant.code):
            if flag.run_id == run_id and flag.created_at > since:
                return None
        return self.note(participant.language, participant.nation)

    def note(self, language: str, nation: str | None) -> Send:
        """Return the note in a language, with the support lines for a nation (if known)."""
        lines = render_support(self.support, nation, language)
        return Send(catalog(language)("concern_note", lines=lines, hours=self.staff_hours))
