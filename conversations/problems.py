"""Problems found in a conversation file, each located by file, line and step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a look) in a conversation file."""

    file: str
    line: int
    step: str | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        step = f" step '{self.step}'" if self.step else ""
        return f"{where}:{step} {self.severity}: {self.message}"


class FlowError(Exception):
    """A conversation file that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
