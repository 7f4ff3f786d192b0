"""How rounds are described to coordinators: counts, reminders, conversations, times."""

from __future__ import annotations

from conversations.catalog import catalog
from conversations.model import Flow, text_in


def days_text(days: float) -> str:
    """Return a number of days without a needless ".0"."""
    return f"{days:g}"


def reminders_text(count: int, days: float) -> str:
    """Describe a round's reminders: how many, and how long after the invitation."""
    return catalog("en")(f"reminders_{count}", days=days_text(days), twice=days_text(days * 2))


def people_text(count: int) -> str:
    """Return "1 person" or "N people"."""
    words = catalog("en")
    return words("people_one") if count == 1 else words("people_many", count=f"{count:,}")


def flow_title(flow: Flow) -> str:
    """Return a conversation's title in its first language."""
    return text_in(flow.title, flow.default_language, flow.default_language)


def flow_label(flow_id: str, flow: Flow | None) -> str:
    """Name a conversation by title and id (by id alone once its file is gone)."""
    title = flow_title(flow) if flow is not None else flow_id
    return catalog("en")("button_newround_flow", title=title, id=flow_id)


def round_number(args: list[str]) -> int | None:
    """Read a round's number as typed after a command: "3", "R3" or "#3"."""
    if len(args) != 1:
        return None
    number = args[0].upper().removeprefix("R").removeprefix("#")
    if not (number.isascii() and number.isdecimal()) or len(number) > 9 or int(number) == 0:
        return None
    return int(number)
