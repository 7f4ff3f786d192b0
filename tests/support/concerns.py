"""Screeners for the bot's tests: the phrase list alone, or with a concern for chosen words.

The bot's tests pin screening as they pin time: they are about what the bot does with each
verdict, and the risk model (tested on its own, and retrained as lines are added) must not
change what they see. `PhraseScreener` is how Heard screened before the model: a flag on a
phrase match, else ok. `ConcernScreener` adds a concern where a test wants one.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.safeguarding.screening import PhraseList, Screener, screen
from bot.safeguarding.verdicts import OK, Screening, Verdict

# Words of the kind a concern is for: hard, but no sign of danger now.
CONCERN = "some days it is hard to cope"
SCORE = 0.62


class PhraseScreener(Screener):
    """The shipped phrase list alone: a flag on a match, else ok."""

    def __init__(self) -> None:
        super().__init__(PhraseList.shipped())

    def screen(self, text: str) -> Screening:
        """Return a flag for a phrase the list matches, else ok."""
        found = screen(text, self.phrases)
        if found is None:
            return OK
        return Screening(Verdict.FLAG, found.phrase, found.theme, sentence=text)


class ConcernScreener(PhraseScreener):
    """The phrase list, except that text holding one of `fragments` is a concern."""

    def __init__(self, fragments: Iterable[str] = (CONCERN,)) -> None:
        super().__init__()
        self.fragments = tuple(f.lower() for f in fragments)

    def screen(self, text: str) -> Screening:
        """Return a concern for a chosen fragment; otherwise the phrase list's verdict."""
        if any(fragment in text.lower() for fragment in self.fragments):
            return Screening(Verdict.CONCERN, score=SCORE, sentence=text)
        return super().screen(text)
