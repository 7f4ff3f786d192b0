"""What an export or report covers: one round, one conversation, or everything."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.rounds.wording import round_number
from conversations.catalog import catalog
from storage.export import ExportRound, export_round

EVERYTHING = "*"  # a button's scope for every conversation
ROUND_MARK = "R"  # a button's scope for a round, as "R3": flow ids are lower-case, never clash


@dataclass(frozen=True)
class Scope:
    """Runs of one round (and its conversation), of one conversation, or of all of them."""

    flow_id: str | None = None
    round: ExportRound | None = None

    @classmethod
    def of_round(cls, found: ExportRound) -> Scope:
        """Return the scope of a round: its runs, with its conversation's questions."""
        return cls(found.flow_id, found)

    @property
    def round_id(self) -> int | None:
        """Return the round's id, if this is a round."""
        return None if self.round is None else self.round.id

    @property
    def token(self) -> str:
        """Return the scope as a button names it: "R3", a conversation id or "*"."""
        if self.round is not None:
            return f"{ROUND_MARK}{self.round.id}"
        return self.flow_id or EVERYTHING

    @property
    def label(self) -> str:
        """Return the scope as staff read it: "R3 Winter check-in", "sample" or everything."""
        if self.round is not None:
            return f"{ROUND_MARK}{self.round.id} {self.round.title}"
        return self.flow_id or catalog("en")("scope_everything")

    def file_name(self, day: date, extension: str) -> str:
        """Return a file name such as heard-r3-2026-03-02.xlsx or heard-all-2026-03-02.csv."""
        name = f"r{self.round.id}" if self.round is not None else self.flow_id or "all"
        return f"heard-{name}-{day.isoformat()}.{extension}"


def token_round(token: str) -> int | None:
    """Return the round a button's scope names ("R3" is round 3), or None for any other scope."""
    digits = token.removeprefix(ROUND_MARK)
    if digits == token or len(digits) > 12 or not (digits.isascii() and digits.isdecimal()):
        return None
    return int(digits)


def typed_round(text: str) -> int | None:
    """Return the round a person typed as "3", "R3" or "r3"; None if it is not a round number."""
    return round_number([text])


async def round_scope(database: Path, round_id: int) -> Scope | None:
    """Return the scope of a stored round; None if there is no such round."""
    found = await asyncio.to_thread(export_round, database, round_id)
    return None if found is None else Scope.of_round(found)


class ScopeError(ValueError):
    """A choice of results on the command line that cannot be used, said in one plain line."""


async def chosen_scope(database: Path, round: str | None, flow_id: str | None) -> Scope:
    """Return what `--round ID` or `--flow ID` (or neither: everything) asks for."""
    if round is not None and flow_id is not None:
        raise ScopeError("--round and --flow cannot be used together: choose one")
    if round is None:
        return Scope(flow_id)
    number = typed_round(round)
    if number is None:
        raise ScopeError(f"--round: '{round}' is not a round; expected a number like 3 (or R3)")
    found = await round_scope(database, number)
    if found is None:
        raise ScopeError(f"there is no round R{number}")
    return found
