"""Short, versioned button data (at most 64 bytes) that still works after a restart.

Question buttons: `v1|q|RUN|VERSION|STEP|ACTION|CHOICE` where STEP and CHOICE are positions in
the flow, so a button names exactly one question of one run of one flow version.
Consent buttons: `v1|c|FLOW|VERSION|CONSENT|y` or `…|n` (then `|ITEM` when answering an
invitation); age buttons: `v1|a|FLOW|VERSION|y`;
buttons about the participant themselves: `v1|s|TOPIC|VALUE` (contact, nation, delete);
a safeguarding reviewer's outcome: `v1|f|FLAG|n` (no action), `…|s` (support sent), `…|e`.
An export: `v1|x|SCOPE|FORMAT`, SCOPE a conversation id, `R3` for round 3 or `*` for everything
(flow ids are lower-case, so a round never reads as one), FORMAT empty until it is chosen.
An invitation (a row of the outbox): `v1|i|ITEM|y` take part, `…|n` not this time, `…|c` carry on.
A coordinator's action on a round: `v1|r|ROUND|ACTION`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PREFIX = "v1"
MAX_BYTES = 64
# pick, toggle, done, skip, back; after a check-in: keep going (safe), help now, wait (pause).
Action = Literal["p", "t", "d", "s", "b", "k", "h", "w"]
ACTIONS: tuple[Action, ...] = ("p", "t", "d", "s", "b", "k", "h", "w")
# An invitation: take part, not this time, carry on (a reminder to someone part-way through).
InviteAnswer = Literal["y", "n", "c"]
INVITE_ANSWERS: tuple[InviteAnswer, ...] = ("y", "n", "c")


@dataclass(frozen=True)
class QuestionButton:
    """A button on a question: pick, toggle, done, skip or back."""

    run: int
    version: int
    step: int
    action: Action
    choice: str = ""

    def encode(self) -> str:
        """Return the callback data for this button."""
        parts = [PREFIX, "q", str(self.run), str(self.version), str(self.step), self.action]
        return _checked("|".join([*parts, self.choice]))


@dataclass(frozen=True)
class ConsentButton:
    """A button answering a flow's consent question."""

    flow: str
    version: int
    consent: int
    agree: bool
    # The invitation (outbox row) this consent answers, when it came from one; 0 if not.
    item: int = 0

    def encode(self) -> str:
        """Return the callback data for this button."""
        answer = "y" if self.agree else "n"
        parts = [PREFIX, "c", self.flow, str(self.version), str(self.consent), answer]
        if self.item:
            parts.append(str(self.item))
        return _checked("|".join(parts))


@dataclass(frozen=True)
class AgeButton:
    """A button answering "are you old enough?" before a flow's consent question."""

    flow: str
    version: int
    old_enough: bool

    def encode(self) -> str:
        """Return the callback data for this button."""
        answer = "y" if self.old_enough else "n"
        return _checked("|".join([PREFIX, "a", self.flow, str(self.version), answer]))


@dataclass(frozen=True)
class ChoiceButton:
    """A button about the participant themselves: contact, nation, or deleting their data."""

    topic: str
    value: str

    def encode(self) -> str:
        """Return the callback data for this button."""
        return _checked("|".join([PREFIX, "s", self.topic, self.value]))


@dataclass(frozen=True)
class FlagButton:
    """A safeguarding reviewer's outcome for a flag."""

    flag: int
    outcome: str

    def encode(self) -> str:
        """Return the callback data for this button."""
        return _checked("|".join([PREFIX, "f", str(self.flag), self.outcome]))


@dataclass(frozen=True)
class ExportButton:
    """A staff member's choice of what to export and, then, the format.

    The scope is a conversation id, "R3" for round 3, or "*" for everything.
    """

    scope: str
    fmt: str = ""

    def encode(self) -> str:
        """Return the callback data for this button."""
        return _checked("|".join([PREFIX, "x", self.scope, self.fmt]))


@dataclass(frozen=True)
class InviteButton:
    """A participant's answer to an invitation or reminder: take part, not this time, carry on."""

    item: int
    answer: InviteAnswer

    def encode(self) -> str:
        """Return the callback data for this button."""
        return _checked("|".join([PREFIX, "i", str(self.item), self.answer]))


@dataclass(frozen=True)
class RoundButton:
    """A coordinator's action on a round; `action` is a short word such as "close"."""

    round: int
    action: str

    def encode(self) -> str:
        """Return the callback data for this button."""
        return _checked("|".join([PREFIX, "r", str(self.round), self.action]))


Button = (
    QuestionButton
    | ConsentButton
    | AgeButton
    | ChoiceButton
    | FlagButton
    | ExportButton
    | InviteButton
    | RoundButton
)


def decode(data: str) -> Button | None:
    """Read callback data; None for anything forged, foreign or from another format."""
    parts = data.split("|")
    if len(data.encode()) > MAX_BYTES or len(parts) < 2 or parts[0] != PREFIX:
        return None
    kind, rest = parts[1], parts[2:]
    try:
        action = next((a for a in ACTIONS if a == rest[3]), None) if len(rest) == 5 else None
        if kind == "q" and action is not None:
            return QuestionButton(
                _count(rest[0]), _count(rest[1]), _count(rest[2]), action, rest[4]
            )
        if kind == "c" and len(rest) in (4, 5) and rest[3] in ("y", "n"):
            item = _count(rest[4]) if len(rest) == 5 else 0
            return ConsentButton(rest[0], _count(rest[1]), _count(rest[2]), rest[3] == "y", item)
        if kind == "a" and len(rest) == 3 and rest[2] in ("y", "n"):
            return AgeButton(rest[0], _count(rest[1]), rest[2] == "y")
        if kind == "s" and len(rest) == 2 and all(part.isascii() for part in rest):
            return ChoiceButton(rest[0], rest[1])
        if kind == "f" and len(rest) == 2 and rest[1] in ("n", "s", "e"):
            return FlagButton(_count(rest[0]), rest[1])
        if kind == "x" and len(rest) == 2 and rest[1] in ("", "csv", "xlsx", "json"):
            return ExportButton(rest[0], rest[1])
        if kind == "i" and len(rest) == 2:
            answer = next((a for a in INVITE_ANSWERS if a == rest[1]), None)
            if answer is not None:
                return InviteButton(_count(rest[0]), answer)
        if kind == "r" and len(rest) == 2 and rest[1].isascii() and rest[1].isalnum():
            return RoundButton(_count(rest[0]), rest[1])
    except ValueError:
        return None
    return None


def _count(text: str) -> int:
    if not text.isdigit() or len(text) > 12:
        raise ValueError(text)
    return int(text)


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data
