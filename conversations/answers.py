"""Understand a typed answer to a question: "2", an option's words, a number."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from conversations.events import Reprompt
from conversations.model import (
    FreeTextStep,
    MessageStep,
    MultipleChoiceStep,
    NumberStep,
    Option,
    Question,
    ScaleStep,
    SingleChoiceStep,
    YesNoStep,
)
from conversations.routing import Value

YES = {"yes", "y", "yeah", "yep", "yup", "ok", "okay", "sure", "ie", "do", "oes"}
NO = {"no", "n", "nope", "nah", "na", "nac ydw", "nac oes"}
DONE = {"done", "finished", "that's all", "thats all", "that is all", "gorffen"}


@dataclass(frozen=True)
class Parsed:
    """A typed answer that was understood."""

    value: Value


def parse_text(step: Question | MessageStep, text: str) -> Parsed | Reprompt | Literal["done"]:
    """Turn typed text into an answer for this question, or say kindly why not."""
    cleaned = text.strip()
    if isinstance(step, MessageStep):
        return Reprompt(step.id, "not_option")
    if isinstance(step, FreeTextStep):
        if not cleaned:
            return Reprompt(step.id, "empty")
        if len(cleaned) > step.max_length:
            return Reprompt(step.id, "too_long", step.max_length, length=len(cleaned))
        return Parsed(cleaned)
    key = _key(cleaned)
    if isinstance(step, SingleChoiceStep):
        option = _option(step.options, key)
        return Parsed(option.id) if option else Reprompt(step.id, "not_option")
    if isinstance(step, YesNoStep):
        if key in YES or key == "1":
            return Parsed(True)
        if key in NO or key == "2":
            return Parsed(False)
        return Reprompt(step.id, "not_option")
    if isinstance(step, MultipleChoiceStep):
        return _multiple(step, key)
    if isinstance(step, ScaleStep):
        number = _number(cleaned)
        if number is None or number != int(number):
            return Reprompt(step.id, "out_of_range", step.max, step.min)
        if not step.min <= number <= step.max:
            return Reprompt(step.id, "out_of_range", step.max, step.min)
        return Parsed(int(number))
    return _bounded_number(step, cleaned)


def _bounded_number(step: NumberStep, cleaned: str) -> Parsed | Reprompt:
    number = _number(cleaned)
    if number is None:
        return Reprompt(step.id, "not_number", step.max, step.min)
    if step.whole and number != int(number):
        return Reprompt(step.id, "not_whole", step.max, step.min)
    too_low = step.min is not None and number < step.min
    too_high = step.max is not None and number > step.max
    if too_low or too_high:
        return Reprompt(step.id, "out_of_range", step.max, step.min)
    return Parsed(int(number) if step.whole else number)


def _multiple(step: MultipleChoiceStep, key: str) -> Parsed | Reprompt | Literal["done"]:
    if key in DONE:
        return "done"
    whole = _option(step.options, key)
    pieces = [p.strip() for p in re.split(r"[,;/&]|\band\b", key) if p.strip()]
    if whole is None and len(pieces) == 1 and all(w.isdecimal() for w in key.split()):
        pieces = key.split()
    parts = [whole] if whole else [_option(step.options, piece) for piece in pieces]
    if not parts or any(part is None for part in parts):
        return Reprompt(step.id, "not_option")
    chosen = {part.id for part in parts if part is not None}
    if len(chosen) > 1 and any(part.exclusive for part in parts if part is not None):
        return Reprompt(step.id, "exclusive")
    if step.max_choices is not None and len(chosen) > step.max_choices:
        return Reprompt(step.id, "too_many", step.max_choices)
    return Parsed([option.id for option in step.options if option.id in chosen])


def _option(options: list[Option], key: str) -> Option | None:
    # isdecimal, not isdigit: int() refuses digits such as '፩' that isdigit accepts; and
    # int() refuses thousands of digits, so only short numbers can be an option's number.
    if key.isdecimal() and len(key) <= 3 and 1 <= int(key) <= len(options):
        return options[int(key) - 1]
    for option in options:
        labels = [option.label] if isinstance(option.label, str) else list(option.label.values())
        if key == _key(option.id) or any(key == _key(label) for label in labels):
            return option
    return None


def _key(text: str) -> str:
    """Fold case, accents' forms, quotes and spacing so typed words match labels."""
    folded = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    folded = re.sub(r"[.!?\"]+$", "", folded.strip())
    return re.sub(r"\s+", " ", folded).strip()


def _number(text: str) -> float | None:
    cleaned = text.strip()
    # Thousands may be grouped with commas or spaces ("1,000", "1 000"); "1,5" is not 15.
    if re.fullmatch(r"[-+]?\d{1,3}([, ]\d{3})+(\.\d+)?", cleaned):
        cleaned = cleaned.replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)", cleaned):
        return None
    number = float(cleaned)
    # Hundreds of digits make float('inf'), which int() and JSON cannot take.
    return number if math.isfinite(number) else None
