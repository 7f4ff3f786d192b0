"""What coordinators have half set up: a new round or a feedback message, one per person.

Drafts live in memory only. Nothing is stored until the coordinator confirms, so a restart
loses an unfinished draft and nothing else; a button left over from it is answered kindly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from telegram import Message
from telegram.ext import filters

from conversations.model import Flow
from storage.rounds import CONTACTABLE

Step = Literal[
    "flow", "title", "opens", "closes", "audience", "earlier", "reminders", "invitation", "confirm"
]


@dataclass
class RoundDraft:
    """A round being set up with /newround: the answers so far and the question being asked."""

    step: Step = "flow"
    prompt_id: int | None = None
    flow: Flow | None = None
    title: str = ""
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    audience: str = CONTACTABLE
    reminders: int = 1
    invitation: str | None = None


@dataclass
class FeedbackDraft:
    """A "you said, we did" message being written with /feedback, before it is confirmed."""

    round_id: int
    title: str
    text: str | None = None
    prompt_id: int | None = None


Draft = RoundDraft | FeedbackDraft


class Drafts:
    """Each coordinator's draft in progress, by Telegram user id."""

    def __init__(self) -> None:
        self._by_user: dict[int, Draft] = {}
        self.waiting = _Waiting(self._by_user)

    def get(self, user_id: int) -> Draft | None:
        """Return the user's draft, if they have one."""
        return self._by_user.get(user_id)

    def put(self, user_id: int, draft: Draft) -> None:
        """Keep a draft for the user, in place of any other."""
        self._by_user[user_id] = draft

    def drop(self, user_id: int) -> Draft | None:
        """Forget the user's draft, returning it."""
        return self._by_user.pop(user_id, None)


class _Waiting(filters.MessageFilter):
    """Match messages from users with a draft in progress; everyone else passes by."""

    __slots__ = ("_by_user",)

    def __init__(self, by_user: dict[int, Draft]) -> None:
        super().__init__(name="coordinator draft in progress")
        self._by_user = by_user

    def filter(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and user.id in self._by_user
