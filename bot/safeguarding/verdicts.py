"""What screening says of a text: flag, concern or ok, and why, in words a reviewer can read."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Verdict(StrEnum):
    """How sure screening is that a text shows risk, and so what Heard does with it.

    - `flag`: the safety check-in and an alert now; the answer is withheld until reviewed.
    - `concern`: a gentle note with where to get help, and a lower-priority item for review;
      the answer is not withheld and the conversation goes on.
    - `ok`: nothing.
    """

    FLAG = "flag"
    CONCERN = "concern"
    OK = "ok"


@dataclass(frozen=True)
class Screening:
    """The verdict on one text, with what led to it.

    `phrase` names the entry of the phrase list that matched (None if none did); `score` is the
    risk model's highest score over the text's sentences (0 to 1); `cues` are the context cues
    found in the deciding sentence ("past", "negated", "quoted", "general"), which can lower a
    flag to a concern but never to ok; `sentence` is the sentence that decided.
    """

    verdict: Verdict
    phrase: str | None = None
    theme: str | None = None
    score: float = 0.0
    cues: tuple[str, ...] = ()
    sentence: str = ""

    @property
    def label(self) -> str:
        """A short name for why this text was picked out, stored with its flag for reviewers."""
        if self.phrase is not None:
            return self.phrase
        if self.verdict is Verdict.OK:
            return ""
        return f"risk model {self.score:.2f}"

    def explain(self) -> str:
        """Say, in one line, why: the phrase matched, the model's score and any cues."""
        parts = [f"phrase {self.phrase!r}" if self.phrase else "no phrase"]
        parts.append(f"model {self.score:.2f}")
        if self.cues:
            parts.append("cues " + ",".join(self.cues))
        return "; ".join(parts)


OK = Screening(Verdict.OK)
