"""Labelled lines for training and evaluating screening: `label<TAB>text`, grouped by category.

A file holds lines `risk<TAB>text` or `<anything else><TAB>text` (ordinary), and comment lines
starting with "#"; a comment `# category: NAME` starts a category that runs until the next one.
Blank lines are skipped. A line without a tab is a mistake, named with its file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

RISK = "risk"
_CATEGORY = re.compile(r"^#\s*category:\s*(\S(?:.*\S)?)\s*$", re.IGNORECASE)
UNCATEGORISED = "uncategorised"


@dataclass(frozen=True)
class Labelled:
    """One labelled line: is it risk, its text, its category and where it came from."""

    risk: bool
    text: str
    category: str
    source: str
    line: int


class LabelledFileError(ValueError):
    """A labelled file with lines that cannot be read."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def read_lines(lines: Iterable[str], source: str) -> list[Labelled]:
    """Read labelled lines; raise LabelledFileError naming every malformed line."""
    found: list[Labelled] = []
    problems: list[str] = []
    category = UNCATEGORISED
    for number, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if line.startswith("#"):
            named = _CATEGORY.match(line)
            if named:
                category = named.group(1)
            continue
        label, tab, text = line.partition("\t")
        if not tab or not text.strip():
            problems.append(
                f"{source}:{number}: expected 'label<TAB>text' (label 'risk' or another word)"
            )
            continue
        found.append(Labelled(label.strip() == RISK, text, category, source, number))
    if problems:
        raise LabelledFileError(problems)
    return found


def read_file(path: Path) -> list[Labelled]:
    """Read one labelled file."""
    try:
        with path.open(encoding="utf-8") as lines:
            return read_lines(lines, str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise LabelledFileError([f"{path}: cannot read it: {error}"]) from None


def read_folder(folder: Path) -> Iterator[tuple[Path, list[Labelled]]]:
    """Read every `*.tsv` file of a folder, in name order."""
    for path in sorted(folder.glob("*.tsv")):
        yield path, read_file(path)
