"""Chat through a conversation in the terminal, with the same engine and words as the bot."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from conversations.catalog import catalog
from conversations.engine import RunState, advance
from conversations.events import Back, Begin, Input, Pause, Skip, Text
from conversations.model import Flow
from conversations.render import (
    Keyboard,
    Outgoing,
    Renderer,
    Send,
    SettlePrompt,
    consent_question,
    intro,
)

COMMANDS: dict[str, Callable[[], Input]] = {"/skip": Skip, "/back": Back, "/pause": Pause}
YES = ("y", "yes")
MINIMUM_AGE = 18


def simulate(
    flow: Flow,
    language: str,
    read: Callable[[str], str] | None = None,
    write: Callable[[str], None] = print,
) -> int:
    """Run one conversation in the terminal until it ends or the user quits."""
    read = read or input  # looked up now, so a replaced input() is honoured
    for welcome in intro(flow, language, MINIMUM_AGE):
        _show(welcome, write)
    if read("Type y if you are old enough, anything else if not: ").strip().lower() not in YES:
        write(catalog(language)("too_young", age=MINIMUM_AGE))
        return 0
    _show(consent_question(flow, language), write)
    if read("Type y to agree, anything else to decline: ").strip().lower() not in YES:
        write(catalog(language)("declined"))
        return 0
    renderer = Renderer(flow, language, run_id=1)
    state = RunState.start(flow)
    action: Input = Begin()
    for _ in range(10_000):
        outcome = advance(flow, state, action, datetime.now(UTC))
        state = outcome.state
        for message in renderer.render(outcome.effects):
            _show(message, write)
        if state.status == "completed":
            return 0
        try:
            typed = read("> ")
        except EOFError:
            return 0
        if typed.strip() == "/quit":
            return 0
        command = COMMANDS.get(typed.strip())
        action = command() if command else Text(typed)
    return 0


def _show(message: Outgoing, write: Callable[[str], None]) -> None:
    if isinstance(message, Send):
        write(message.text)
        if message.keyboard:
            write(_buttons(message.keyboard))
        write("")
    elif isinstance(message, SettlePrompt):
        write(f"({message.text.splitlines()[-1]})")


def _buttons(keyboard: Keyboard) -> str:
    return "  ".join(f"[{button.label}]" for row in keyboard for button in row)
