"""Screen what people write for signs of risk: the phrase list, the risk model and context cues.

A short text is read whole, a long one sentence by sentence (so one risky sentence in a long
answer is not lost among the others), each three ways: the phrase list a safeguarding lead
edits (phrases.yaml), the risk model trained from labelled lines (risk_model.py), and context
cues (cues.py). The verdict (verdicts.py) is the most serious of its sentences':

- a phrase of the list, or a model score at `flag_at` or above, flags the sentence (a phrase
  marked `topic`, such as "self harm" on its own, counts only at `concern_at` or above);
- a phrase the model scores below `phrase_flag_at` is only a concern;
- with a context cue (past, negated, quoted, general), a flag stands only at `cue_flag_at` or
  above, and is otherwise lowered to a concern — never to ok;
- with no phrase, a score at `concern_at` or above is a concern.

Reading short answers whole keeps a sentence with the ones around it ("I'm not suicidal. I
just can't see the point."); on the training lines' cross-validation it also gave fewer false
concerns than reading them sentence by sentence as well.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.safeguarding.cues import cues
from bot.safeguarding.normalise import normalise
from bot.safeguarding.phrase_list import (
    Match,
    PhraseList,
    PhraseListError,
    Thresholds,
    first_match,
    screen,
)
from bot.safeguarding.risk_model import RiskModel
from bot.safeguarding.verdicts import OK, Screening, Verdict

__all__ = [
    "Match",
    "PhraseList",
    "PhraseListError",
    "Screener",
    "Screening",
    "Thresholds",
    "Verdict",
    "screen",
    "sentences",
]

# A text this long or shorter is read whole; a longer one sentence by sentence.
WHOLE_UP_TO = 400
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*[\r\n]+\s*|(?<=[.!?])(?=[A-Z])|\s+-\s+|;\s*")
_SEVERITY = {Verdict.OK: 0, Verdict.CONCERN: 1, Verdict.FLAG: 2}


def sentences(text: str) -> list[str]:
    """Split a text into its sentences (line breaks, full stops, question marks, semicolons)."""
    return [part for part in (piece.strip() for piece in _SENTENCE_END.split(text)) if part]


@dataclass(frozen=True)
class _Reading:
    screening: Screening
    rank: tuple[int, float]


class Screener:
    """Gives the verdict on a text: the phrase list, the risk model and context cues together."""

    def __init__(self, phrases: PhraseList, model: RiskModel | None = None) -> None:
        self.phrases = phrases
        self.model = model if model is not None else RiskModel.shipped()

    @classmethod
    def shipped(cls) -> Screener:
        """Return a screener with the phrase list and model installed with Heard."""
        return cls(PhraseList.shipped(), RiskModel.shipped())

    def screen(self, text: str) -> Screening:
        """Return the verdict on a text: flag, concern or ok, and why."""
        units = [text] if len(text) <= WHOLE_UP_TO else sentences(text)
        best: _Reading | None = None
        for unit in units:
            reading = self._read(unit)
            if best is None or reading.rank > best.rank:
                best = reading
        return best.screening if best is not None else OK

    def _read(self, sentence: str) -> _Reading:
        """Give one sentence its verdict."""
        normal = normalise(sentence, self.phrases.keep_doubles)
        if not normal:
            return _Reading(OK, (0, 0.0))
        found = first_match(normal, self.phrases)
        score = self.model.score(normal)
        context = cues(normal, sentence)
        phrase = found is not None and (
            not found.topic or score >= self.phrases.thresholds.concern_at
        )
        verdict = decide(phrase, score, bool(context), self.phrases.thresholds)
        screening = Screening(
            verdict,
            found.phrase if found else None,
            found.theme if found else None,
            score,
            context,
            sentence,
        )
        return _Reading(screening, (_SEVERITY[verdict], score))


def decide(phrase: bool, score: float, cued: bool, limits: Thresholds) -> Verdict:
    """Combine a phrase match, the model's score and context cues into one sentence's verdict."""
    if not phrase and score < limits.flag_at:
        return Verdict.CONCERN if score >= limits.concern_at else Verdict.OK
    if cued:
        return Verdict.FLAG if score >= limits.cue_flag_at else Verdict.CONCERN
    if not phrase or score >= limits.phrase_flag_at:
        return Verdict.FLAG
    return Verdict.CONCERN
