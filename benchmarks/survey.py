"""The throughput benchmark's conversation, as the baselines and the load driver see it.

The baselines ask the same questions as Heard, in the same words and with the same buttons
(rendered once, at start-up, by Heard's own renderer), but keep their state their own way.
The load driver needs only to know which questions are typed and which are buttons.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.catalog import catalog
from conversations.events import Ask
from conversations.loader import load_flow_file
from conversations.model import FreeTextStep, MessageStep, NumberStep, Question, text_in
from conversations.render import Renderer, contact_question

SURVEY_FILE = Path(__file__).resolve().parent / "flows" / "throughput-survey.yaml"
SURVEY_ID = "throughput-survey"
SHOWN_LIMIT = 300
# Where the "many people at once" participants stand: one of the typed questions (0-based).
RESUME_AT = (2, 4, 6, 9)


def questions() -> list[Question]:
    """Return the survey's questions, in order (it has no branches and no message steps)."""
    flow = load_flow_file(SURVEY_FILE).flow
    return [step for step in flow.steps if not isinstance(step, MessageStep)]


def typed(step: Question) -> bool:
    """Say whether a question is answered by typing rather than with a button."""
    return isinstance(step, FreeTextStep | NumberStep)


def typed_answer(step: Question, user: int, number: int) -> str:
    """Return what the load driver's participant types for a question."""
    if isinstance(step, NumberStep):
        return str(user % 50 + 1)
    return f"Person {user % 1000}, answer {number}: the staff were kind but the wait was long."


def resume_question(user: int) -> int:
    """Return the typed question (0-based) a seeded participant is at, for the restart test."""
    return RESUME_AT[user % len(RESUME_AT)]


@dataclass(frozen=True)
class Asked:
    """One question as the baselines send it: words, and buttons as (label, data) rows."""

    text: str
    rows: tuple[tuple[tuple[str, str], ...], ...]
    typed: bool
    words: str

    def markup(self) -> InlineKeyboardMarkup:
        """Return the question's inline keyboard."""
        return _markup(self.rows)

    def label(self, data: str) -> str:
        """Return the label of the button with this data ("" if there is none)."""
        return next((label for row in self.rows for label, d in row if d == data), "")

    def settled(self, answer: str) -> str:
        """Return the question's message once answered, as Heard rewrites it."""
        shown = answer if len(answer) <= SHOWN_LIMIT else answer[: SHOWN_LIMIT - 1] + "…"
        return f"{self.words}\n\n{catalog('en')('answered', answer=shown)}"


@dataclass(frozen=True)
class Script:
    """Everything a baseline says: each question, the end, and the contact question."""

    asked: tuple[Asked, ...]
    end: str
    contact: str
    contact_rows: tuple[tuple[tuple[str, str], ...], ...]

    def contact_markup(self) -> InlineKeyboardMarkup:
        """Return the contact question's buttons."""
        return _markup(self.contact_rows)


def script() -> Script:
    """Render the survey once with Heard's renderer; button data become `s|QUESTION|N`."""
    flow = load_flow_file(SURVEY_FILE).flow
    renderer = Renderer(flow, "en", run_id=1)
    steps = questions()
    asked = []
    for number, step in enumerate(steps, start=1):
        ask = Ask(step.id, number, len(steps), (), False, None)
        keyboard = renderer.keyboard(ask)
        rows = tuple(
            tuple((button.label, f"s|{number}|{r}.{c}") for c, button in enumerate(row))
            for r, row in enumerate(keyboard)
        )
        words = text_in(step.text, "en", flow.default_language)
        asked.append(Asked(renderer.question(ask), rows, typed(step), words))
    contact = contact_question("en")
    contact_rows = tuple(
        tuple((button.label, button.data) for button in row) for row in contact.keyboard
    )
    end = f"{text_in(flow.end, 'en', flow.default_language)}\n\n{catalog('en')('completed')}"
    return Script(tuple(asked), end, contact.text, contact_rows)


def _markup(rows: tuple[tuple[tuple[str, str], ...], ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
