"""Completion by each equality answer, with every count under 5 held back.

Counts are held back as bot.exports.small_counts says, in each column: completed, and not
completed. A completion rate is shown only beside two counts that are both shown. Nothing here
is ever charted.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.exports.codebook import Entry
from bot.exports.small_counts import NO_ANSWER, counted_as, held_back, listed_options


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
        counts.update(counted_as(value))

    def with_retired_options(self) -> None:
        """Add options answered in an older version but gone from the newest, by their id."""
        options = listed_options(self.entry, set(self.completed) | set(self.not_completed))
        self.entry = dataclasses.replace(self.entry, options=options)

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
