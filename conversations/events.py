"""What a participant does (inputs) and what the engine decides should happen (effects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from conversations.routing import Value

# ---- Inputs: one participant action, already parsed by the host ----


@dataclass(frozen=True)
class Begin:
    """Start a run after consent."""


@dataclass(frozen=True)
class Resume:
    """Come back to a run: /start, or any message while paused."""


@dataclass(frozen=True)
class Text:
    """A typed message; `risk` when the host's screening found words of risk in it."""

    text: str
    risk: bool = False


@dataclass(frozen=True)
class RiskWords:
    """Words of risk written outside any answer: a caption, an edit, a reply to staff."""


@dataclass(frozen=True)
class Safe:
    """After a check-in: "I'm safe, carry on"."""


@dataclass(frozen=True)
class NeedHelp:
    """After a check-in: "I need help now"."""


@dataclass(frozen=True)
class Pick:
    """A button for one answer: an option id, `yes`/`no`, or a scale point."""

    step: str
    choice: str


@dataclass(frozen=True)
class Toggle:
    """A multiple choice button, switching an option on or off."""

    step: str
    choice: str


@dataclass(frozen=True)
class Done:
    """The Done button of a multiple choice question."""

    step: str


@dataclass(frozen=True)
class Skip:
    """Skip a question: the Skip button (with its step) or /skip (the current one)."""

    step: str | None = None


@dataclass(frozen=True)
class Back:
    """Go back to change the last answer: the button (with its step) or /back."""

    step: str | None = None


@dataclass(frozen=True)
class Pause:
    """Stop for now and come back later."""


@dataclass(frozen=True)
class NotText:
    """A photo, voice note, sticker or anything else that is not text."""

    kind: str


@dataclass(frozen=True)
class Show:
    """Show the current question again (after a stale button, or a lost message)."""


Input = (
    Begin
    | Resume
    | Text
    | Pick
    | Toggle
    | Done
    | Skip
    | Back
    | Pause
    | NotText
    | Show
    | Safe
    | NeedHelp
    | RiskWords
)

# ---- Effects: what the host should store and show, in order ----

RepromptReason = Literal[
    "not_text",
    "empty",
    "too_long",
    "not_option",
    "not_number",
    "not_whole",
    "out_of_range",
    "choose_one",
    "choose_or_skip",
    "too_many",
    "required",
    "exclusive",
]


@dataclass(frozen=True)
class Record:
    """Store this answer (None: the participant skipped it)."""

    step: str
    value: Value


@dataclass(frozen=True)
class Forget:
    """Delete a stored answer: it lies on a path the participant went back from."""

    step: str


@dataclass(frozen=True)
class Settle:
    """Close the question's message: remove its buttons and show what happened."""

    step: str
    value: Value
    how: Literal["answered", "skipped", "back", "paused"]


@dataclass(frozen=True)
class Note:
    """Show a section's calm note before its first question."""

    section: str


@dataclass(frozen=True)
class Say:
    """Show a message step."""

    step: str


@dataclass(frozen=True)
class Ask:
    """Ask a question, with its place in the conversation."""

    step: str
    number: int
    total: int
    selected: tuple[str, ...] = ()
    has_previous: bool = False
    previous: Value = None


@dataclass(frozen=True)
class Selection:
    """The multiple choice selection changed: redraw its buttons."""

    step: str
    selected: tuple[str, ...]
    can_go_back: bool = True


@dataclass(frozen=True)
class Reprompt:
    """Explain why that did not work, kindly; the question is asked again after it."""

    step: str
    reason: RepromptReason
    limit: float | None = None
    low: float | None = None
    length: int | None = None


@dataclass(frozen=True)
class Recap:
    """Welcome someone back and say where they were."""

    number: int
    total: int


@dataclass(frozen=True)
class CheckIn:
    """Words of risk were written: respond warmly, show support, ask if they are safe now."""


@dataclass(frozen=True)
class CheckInNudge:
    """Something other than an answer to the check-in: ask again, briefly, with its buttons."""


@dataclass(frozen=True)
class UrgentHelp:
    """They need help now: the urgent options first, and what the charity can and can't do."""


@dataclass(frozen=True)
class Paused:
    """Confirm the pause and say how to come back."""


@dataclass(frozen=True)
class Completed:
    """The conversation has ended: thank them."""


@dataclass(frozen=True)
class AlreadyDone:
    """There is nothing to continue: the conversation was finished before."""


@dataclass(frozen=True)
class Stale:
    """A button from an earlier question was pressed; nothing changed."""


@dataclass(frozen=True)
class NothingToGoBack:
    """/back on the first question."""


Effect = (
    Record
    | Forget
    | Settle
    | Note
    | Say
    | Ask
    | Selection
    | Reprompt
    | Recap
    | CheckIn
    | CheckInNudge
    | UrgentHelp
    | Paused
    | Completed
    | AlreadyDone
    | Stale
    | NothingToGoBack
)
