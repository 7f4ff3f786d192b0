"""Say pydantic's validation errors once per place, in words a file's editor knows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

Loc = tuple[str | int, ...]
# Given one error, its location and the file-facing field: return all three, adjusted.
Adjust = Callable[[Mapping[str, Any], Loc, Loc, str], tuple[Loc, Loc, str]]


def plain(item: Mapping[str, Any]) -> str:
    """Say one pydantic error plainly."""
    if item["type"] == "missing":
        return "is missing"
    if item["type"] == "extra_forbidden":
        return "is not a known setting here (check its spelling and indentation)"
    return str(item["msg"]).replace("Input should be", "should be").removeprefix("Value error, ")


def grouped(
    error: ValidationError,
    internal: Callable[[str | int], bool],
    adjust: Adjust | None = None,
) -> list[tuple[Loc, Loc, list[str]]]:
    """Return (location, field, messages) per field; a union tried per member is said once."""
    found: dict[Loc, tuple[Loc, list[str]]] = {}
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        field = tuple(part for part in loc if not internal(part))
        message = plain(item)
        if adjust is not None:
            loc, field, message = adjust(item, loc, field, message)
        _, messages = found.setdefault(field, (loc, []))
        if message not in messages:
            messages.append(message)
    return [(loc, field, messages) for field, (loc, messages) in found.items()]
