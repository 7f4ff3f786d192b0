"""Fixtures and helpers for the conversations tests: flows from text, a pinned clock, a chat."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from conversations.buttons import button_input
from conversations.callbacks import ConsentButton, QuestionButton, decode
from conversations.engine import Outcome, RunState, advance
from conversations.events import (
    Back,
    Begin,
    Input,
    NotText,
    Pause,
    Resume,
    Skip,
    Text,
)
from conversations.loader import LoadedFlow, load_flow_file, load_flow_text
from conversations.model import Flow
from conversations.problems import FlowError, Problem
from conversations.render import (
    Keyboard,
    PromptButtons,
    Renderer,
    Send,
    SettlePrompt,
    consent_question,
    intro,
)

FLOWS = Path(__file__).parent.parent / "data" / "flows"
SAMPLE = FLOWS / "sample.yaml"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
RUN_ID = 42

# Everything a flow needs besides its steps; `flow_text` appends the steps.
HEADER = """\
id: test
version: 3
title: Test flow
intro: {who: We are testing., duration: One minute., data_use: Kept safe., support: Call 999.}
consent: {version: 1, text: "Happy to take part?"}
end: Thank you.
"""


def flow_text(steps: str, header: str = HEADER) -> str:
    """Return a whole flow file: the header, then `steps:` with this (dedented) block."""
    return header + "steps:\n" + dedent(steps)


def load_text(text: str) -> LoadedFlow:
    """Load a flow from text, as the file `broken.yaml`."""
    return load_flow_text(text, "broken.yaml")


def flow_of(steps: str, header: str = HEADER) -> Flow:
    """Return the flow made of this header and steps block; it must load."""
    return load_text(flow_text(steps, header)).flow


def problems_in(text: str) -> list[Problem]:
    """Return every problem loading reports (errors raised, or warnings of a loaded flow)."""
    try:
        return list(load_text(text).warnings)
    except FlowError as error:
        return error.problems


def line_number(text: str, needle: str, occurrence: int = 1) -> int:
    """Return the 1-based line of the n-th line of `text` that contains `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) >= occurrence, f"{needle!r} is not in the text {occurrence} times"
    return found[occurrence - 1]


COMMANDS: dict[str, Input] = {
    "/start": Resume(),
    "/skip": Skip(),
    "/back": Back(),
    "/pause": Pause(),
}


@dataclass
class Message:
    """A bot message as the participant sees it now, and the buttons it was sent with."""

    text: str
    keyboard: Keyboard
    sent_keyboard: Keyboard


@dataclass
class Chat:
    """One participant's chat with one run of a flow, kept as a readable transcript.

    `> ` is the participant, `< #n` a new bot message, `~ #n` an edit of message n and `= ` an
    answer stored before anything is shown. Time moves on a minute per action.
    """

    flow: Flow
    language: str = ""
    run_id: int = RUN_ID
    now: datetime = NOW
    state: RunState = field(init=False)
    renderer: Renderer = field(init=False)
    messages: dict[int, Message] = field(default_factory=dict)
    prompt: int | None = None
    lines: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.language = self.language or self.flow.default_language
        self.state = RunState.start(self.flow)
        self.renderer = Renderer(self.flow, self.language, self.run_id)

    def open(self) -> None:
        """Show the welcome and the consent question, as /start and the age check do."""
        self.lines.append("> /start")
        for send in [
            *intro(self.flow, self.language, 18),
            consent_question(self.flow, self.language),
        ]:
            self._show(send)

    def send(self, text: str) -> Outcome:
        """Type a message (a known /command becomes its input)."""
        self._log("> ", text, ())
        return self.act(COMMANDS.get(text, Text(text)))

    def send_photo(self) -> Outcome:
        """Send something that is not text."""
        self.lines.append("> (photo)")
        return self.act(NotText("photo"))

    def press(self, label: str, message: int | None = None) -> Outcome:
        """Tap a button by its label: on the newest message showing it, or on an older one.

        Tapping message n's button uses the keyboard it was sent with: a quick double tap that
        beat the edit removing it.
        """
        if message is None:
            message = next(
                (n for n in sorted(self.messages, reverse=True) if self._has(n, label)), None
            )
            assert message is not None, f"no button {label!r}; the chat is:\n{self.transcript()}"
            keyboard = self.messages[message].keyboard
            self.lines.append(f"> [{label}]")
        else:
            keyboard = self.messages[message].sent_keyboard
            self.lines.append(f"> [{label}] on #{message}")
        data = next(b.data for row in keyboard for b in row if b.label == label)
        button = decode(data)
        if isinstance(button, ConsentButton):
            assert button.agree, "the chat helper only follows an agreement"
            return self.act(Begin())
        assert isinstance(button, QuestionButton), data
        action = button_input(self.flow, button)
        assert action is not None, button
        return self.act(action)

    def act(self, action: Input) -> Outcome:
        """Apply one input: store its answers, then show what the renderer makes of it."""
        outcome = advance(self.flow, self.state, action, self.now)
        self.now += timedelta(minutes=1)
        self.state = outcome.state
        self.outcomes.append(outcome)
        for record in outcome.records():
            self.lines.append(f"= saved {record.step}: {json.dumps(record.value)}")
        for out in self.renderer.render(outcome.effects):
            if isinstance(out, Send):
                self._show(out)
            elif isinstance(out, SettlePrompt):
                assert self.prompt is not None, "a settle with no question on screen"
                self._edit(self.prompt, out.text, ())
                self.prompt = None
            else:
                assert isinstance(out, PromptButtons)
                if self.prompt is not None:
                    self._edit(self.prompt, None, out.keyboard)
                    if not out.keyboard:
                        self.prompt = None
        return outcome

    def last_text(self) -> str:
        """Return the text of the newest bot message."""
        return self.messages[max(self.messages)].text

    def labels(self) -> list[str]:
        """Return the labels of the buttons on the question on screen."""
        if self.prompt is None:
            return []
        return [b.label for row in self.messages[self.prompt].keyboard for b in row]

    def transcript(self) -> str:
        """Return the whole chat as text."""
        return "\n".join(self.lines) + "\n"

    def _has(self, message: int, label: str) -> bool:
        return any(b.label == label for row in self.messages[message].keyboard for b in row)

    def _show(self, send: Send) -> None:
        number = len(self.messages) + 1
        self.messages[number] = Message(send.text, send.keyboard, send.keyboard)
        if send.prompt:
            self.prompt = number
        self._log(f"< #{number} ", send.text, send.keyboard)

    def _edit(self, number: int, text: str | None, keyboard: Keyboard) -> None:
        message = self.messages[number]
        if text is None and keyboard == message.keyboard:
            return  # nothing would change; a host would not call Telegram
        message.keyboard = keyboard
        if text is None:
            self._log(
                f"~ #{number} ", "(buttons changed)" if keyboard else "(buttons removed)", keyboard
            )
        else:
            message.text = text
            self._log(f"~ #{number} ", text, keyboard)

    def _log(self, prefix: str, text: str, keyboard: Keyboard) -> None:
        indent = " " * len(prefix)
        lines = text.split("\n")
        # Lines are stripped on the right: golden files must survive editors that trim them.
        self.lines.append((prefix + lines[0]).rstrip())
        self.lines.extend((indent + line).rstrip() for line in lines[1:])
        if keyboard:
            rows = " ".join("[" + " | ".join(b.label for b in row) + "]" for row in keyboard)
            self.lines.append(f"{indent}buttons: {rows}")


@pytest.fixture(scope="session")
def sample() -> Flow:
    """Return the sample flow that uses every step kind."""
    return load_flow_file(SAMPLE).flow


@pytest.fixture
def chat(sample: Flow) -> Chat:
    """Return a chat with the sample flow, not yet begun."""
    return Chat(sample)


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Say whether golden files are to be rewritten (`pytest --update-golden`)."""
    return bool(request.config.getoption("--update-golden"))
