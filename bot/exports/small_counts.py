"""Counts of equality answers as they may be shown: none small enough to pick anyone out.

Every option of a question is listed, chosen or not, with one line for no answer. A count
below SMALL_NUMBER, 0 included, is shown as "<5". The number of runs is shown elsewhere (a
report's headline, an export's Summary), so a column with only one such cell would let anyone
work it out by subtraction: then the next smallest count in that column is held back too,
shown as "hidden". Reports and exports both count this way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.exports.codebook import Entry, option_id

SMALL_NUMBER = 5
SMALL = f"<{SMALL_NUMBER}"
HIDDEN = "hidden"
TALLIED = ("single_choice", "multiple_choice", "scale", "yes_no")  # typed answers are not
NO_ANSWER = ""  # the option id of runs that skipped the question or never reached it


def counted_as(value: Any) -> list[str]:
    """Return the option ids an answer counts under: each option chosen, or no answer."""
    chosen = (value or [None]) if isinstance(value, list) else [value]
    return [NO_ANSWER if option is None else option_id(option) for option in chosen]


def listed_options(entry: Entry, seen: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """Return a question's options, then any answered in an older version only, by their id."""
    known = {option for option, _ in entry.options} | {NO_ANSWER}
    return entry.options + tuple((o, o) for o in sorted(set(seen) - known))


def held_back(counts: list[int]) -> list[str]:
    """Return a column's counts as shown: under 5 as "<5", and one more if only one is."""
    shown = [str(count) if count >= SMALL_NUMBER else SMALL for count in counts]
    small = [i for i, count in enumerate(counts) if count < SMALL_NUMBER]
    others = [i for i in range(len(counts)) if i not in small]
    if len(small) == 1 and others:
        # The column's total is known from the headline: hide one more so it cannot be solved.
        shown[min(others, key=lambda i: counts[i])] = HIDDEN
    return shown
