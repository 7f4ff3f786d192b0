"""Which question the bot asked in which chat, and when, read from a FakeTelegram's calls.

A message asks a question when the bot *sends* it (sendMessage, not an edit) with buttons that
name the question: the age gate (`v1|a|…`), the consent question (`v1|c|…`) or a step of the
flow (`v1|q|RUN|VERSION|STEP|…`, STEP its position in the flow). Every question Heard asks
carries such a button (at least Skip or Go back), so the log needs no knowledge of wording.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from conversations.callbacks import AgeButton, ConsentButton, QuestionButton, decode
from conversations.model import Flow
from tests.support.fake_telegram import FakeTelegram

AGE_GATE = "(age gate)"
CONSENT = "(consent)"
# Actions on a question's own buttons; the check-in's buttons (k, h, w) name no question.
QUESTION_ACTIONS = frozenset("ptdsb")


@dataclass(frozen=True)
class Asked:
    """One question the bot sent: when the server answered the send, which step, which message."""

    at: float
    step: str
    message_id: int


class QuestionLog:
    """Read the server's calls as they come, and keep the questions asked in each chat."""

    def __init__(self, server: FakeTelegram, flow: Flow) -> None:
        self.server = server
        self.flow = flow
        self._sends = 0
        self._read = 0
        self._asked: dict[int, list[Asked]] = {}

    def update(self) -> None:
        """Read the calls made since the last update (cheap: each call is read once)."""
        calls = self.server.calls
        for call in calls[self._read :]:
            if call.method != "sendMessage" or not call.ok:
                continue
            self._sends += 1
            step = self._step_of(call.params.get("reply_markup"))
            if step is not None:
                chat = call.params["chat_id"]
                asked = Asked(call.at, step, call.result_or_error["message_id"])
                self._asked.setdefault(chat, []).append(asked)
        self._read = len(calls)

    def sent(self) -> int:
        """Return how many messages the bot has sent so far (in every chat)."""
        self.update()
        return self._sends

    def asked(self, chat_id: int) -> list[Asked]:
        """Return the questions asked in a chat, oldest first."""
        self.update()
        return list(self._asked.get(chat_id, []))

    def asked_since(self, chat_id: int, step: str, since: float) -> bool:
        """Say whether the bot asked this step in the chat after `since` (time.monotonic())."""
        self.update()
        return any(a.step == step and a.at > since for a in self._asked.get(chat_id, ()))

    def repeated(
        self, chat_id: int, path: Sequence[str], backs: Iterable[float] = ()
    ) -> list[Asked]:
        """Return the questions asked again in a chat after a later one, without a way back.

        Questions must go forward along `path` (the steps the participant takes, in order):
        asking the current question again is fine (a restart or a stale button shows where
        they are), asking an earlier one is a repeat, unless the participant went back first;
        each time in `backs` (when they pressed "Go back") lets the bot go back one question,
        once, whenever it does: the current question shown again after a restart in between
        does not use it up.
        """
        found: list[Asked] = []
        floor = -1
        credit = 0  # backs pressed and not yet used
        went_back = sorted(backs)
        for asked in self.asked(chat_id):
            while went_back and went_back[0] < asked.at:
                went_back.pop(0)
                credit += 1
            place = path.index(asked.step)
            if place >= floor:
                floor = place
            elif floor - place <= credit:
                credit -= floor - place
                floor = place
            else:
                found.append(asked)
        return found

    def _step_of(self, markup: object) -> str | None:
        """Return the question a keyboard belongs to, or None if it is not a question's."""
        if not isinstance(markup, dict):
            return None
        rows = markup.get("inline_keyboard") or []
        for button in (b for row in rows for b in row):
            data = decode(str(button.get("callback_data", "")))
            if isinstance(data, AgeButton):
                return AGE_GATE
            if isinstance(data, ConsentButton):
                return CONSENT
            if isinstance(data, QuestionButton) and data.action in QUESTION_ACTIONS:
                return self.flow.steps[data.step].id
        return None
