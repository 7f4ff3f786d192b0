"""Completion by each equality answer, with every count under 5 held back.

A count below SMALL_NUMBER is shown as "<5". The headline gives the totals, so a column with
only one such cell would let anyone work it out by subtraction: then the next smallest count
in that column is held back too, shown as "hidden". A completion rate is shown only beside two
counts that are both shown. Nothing here is ever charted.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.exports.codebook import Entry, option_id
from bot.exports.export import SMALL_NUMBER

TALLIED = ("single_choice", "multiple_choice", "scale", "yes_no")  # typed answers are not
NO_ANSWER = ""  # the option id of runs that skipped the question or never reached it
SMALL = f"<{SMALL_NUMBER}"
HIDDEN = "hidden"


@dataclass(frozen=True)
class EqualityRow:
    """One answer's line in the breakdown, with its counts as they may be shown."""

    label: str
    completed: str
    not_completed: str
    rate: str | None  # "75%" of those giving this answer who completed; None when held back


@dataclass
class EqualityFigures:
    """Runs that completed, and that did not, by their answer to one equality question."""

    entry: Entry
    flows: frozenset[str]  # the conversations that ask it: other runs are not counted
    completed: Counter[str] = field(default_factory=Counter)  # by option id
    not_completed: Counter[str] = field(default_factory=Counter)

    def add(self, completed: bool, value: Any) -> None:
        """Count one run by its answer (a list counts once for each option chosen)."""
        counts = self.completed if completed else self.not_completed
        chosen = (value or [None]) if isinstance(value, list) else [value]
        for option in chosen:
            counts[NO_ANSWER if option is None else option_id(option)] += 1

    def with_retired_options(self) -> None:
        """Add options answered in an older version but gone from the newest, by their id."""
        known = {option for option, _ in self.entry.options} | {NO_ANSWER}
        seen = set(self.completed) | set(self.not_completed)
        retired = tuple((o, o) for o in sorted(seen - known))
        if retired:
            self.entry = dataclasses.replace(self.entry, options=self.entry.options + retired)

    def rows(self, no_answer: str) -> list[EqualityRow]:
        """Return one row per option and one for no answer, with small counts held back."""
        options = [*self.entry.options, (NO_ANSWER, no_answer)]
        done = held_back([self.completed[option] for option, _ in options])
        not_done = held_back([self.not_completed[option] for option, _ in options])
        rows = []
        for (_, label), completed, not_completed in zip(options, done, not_done, strict=True):
            rate = None
            if completed.isdecimal() and not_completed.isdecimal():
                total = int(completed) + int(not_completed)
                rate = f"{int(completed) / total:.0%}"
            rows.append(EqualityRow(label, completed, not_completed, rate))
        return rows


def held_back(counts: list[int]) -> list[str]:
    """Return a column's counts as shown: under 5 as "<5", and one more if only one is."""
    shown = [str(count) if count >= SMALL_NUMBER else SMALL for count in counts]
    small = [i for i, count in enumerate(counts) if count < SMALL_NUMBER]
    others = [i for i in range(len(counts)) if i not in small]
    if len(small) == 1 and others:
        # The column's total is known from the headline: hide one more so it cannot be solved.
        shown[min(others, key=lambda i: counts[i])] = HIDDEN
    return shown
