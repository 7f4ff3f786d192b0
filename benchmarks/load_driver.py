"""A load driver: many participants answering a bot as fast as it replies, through the fake server.

It talks to the fake server's control routes (benchmarks.fake_server_control) on 127.0.0.1 and
never to the bot. Each participant answers the question they were last sent, with a button or
typed words as the survey says, as soon as it arrives. Every time is the server's: an answer is
timed from the moment it was queued for getUpdates to the moment the bot's next message to that
chat was answered by the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks.survey import questions, typed, typed_answer
from conversations.model import Question

HOST = "127.0.0.1"
POLL_SECONDS = 2.0


class ControlClient:
    """The fake server's control routes, over one HTTP session."""

    def __init__(self, port: int) -> None:
        self.base = f"http://{HOST}:{port}"
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> ControlClient:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _get(self, path: str, **query: float | int) -> Any:
        assert self._session is not None
        params = {key: str(value) for key, value in query.items()}
        async with self._session.get(self.base + path, params=params) as response:
            return await response.json()

    async def inject(self, actions: Sequence[dict[str, Any]]) -> list[float | None]:
        """Queue each action as an update; return when each was queued (None: not found)."""
        assert self._session is not None
        async with self._session.post(self.base + "/inject", json={"actions": actions}) as r:
            stamps: list[float | None] = (await r.json())["at"]
            return stamps

    async def events(self, cursor: int, wait: float) -> tuple[int, list[list[Any]]]:
        """Return the messages the bot sent after `cursor`, waiting up to `wait` s for one."""
        found = await self._get("/events", cursor=cursor, timeout=wait)
        return int(found["cursor"]), list(found["events"])

    async def calls(self, cursor: int = 0) -> dict[str, Any]:
        """Return the calls answered since `cursor`, by method, and the updates still pending."""
        found: dict[str, Any] = await self._get("/calls", cursor=cursor)
        return found

    async def ready(self, wait: float) -> float | None:
        """Return when a long poll was first waiting, or None if none came within `wait` s."""
        found = await self._get("/ready", timeout=wait)
        at = found["at"]
        return None if at is None else float(at)


@dataclass
class Person:
    """One participant as the driver sees them."""

    user: int
    presses_left: int = 0
    start: int = 0
    message: int = 0
    rows: list[list[str]] = field(default_factory=list)
    answered: int = 0
    asked_at: float | None = None
    ready: bool = False
    done: bool = False


@dataclass
class Answers:
    """What the server saw of a burst of answers."""

    latencies: list[float]
    first_at: float
    last_at: float
    unexpected: int
    lost: int

    @property
    def seconds(self) -> float:
        """Return the time from the first answer queued to the last reply."""
        return max(self.last_at - self.first_at, 1e-9)


class Driver:
    """Drive people through the survey: onboard them, then let them answer at full speed."""

    def __init__(self, client: ControlClient, alive: Callable[[], bool]) -> None:
        self.client = client
        self.alive = alive
        self.steps: list[Question] = questions()
        self.cursor = 0
        self._first_at = 0.0
        self._lost = 0

    async def onboard(self, people: Sequence[Person], deadline: float) -> int:
        """Send /start for everyone, press through any intro, and wait for the first question."""
        by_user = {person.user: person for person in people}
        await self.client.inject([{"user": p.user, "text": "/start"} for p in people])
        waiting = len(people)
        while waiting and time.monotonic() < deadline and self.alive():
            self.cursor, events = await self.client.events(self.cursor, POLL_SECONDS)
            presses = []
            for chat, message, _, rows in events:
                person = by_user.get(chat)
                if person is None or person.ready or not rows:
                    continue
                if person.presses_left:
                    person.presses_left -= 1
                    presses.append({"user": chat, "message": message, "data": rows[0][0]})
                    continue
                person.ready, person.message, person.rows = True, message, rows
                waiting -= 1
            if presses:
                await self.client.inject(presses)
        return len(people) - waiting

    async def answer(
        self, people: Sequence[Person], answers: int, deadline: float, shapes: list[list[int]]
    ) -> Answers:
        """Let everyone answer `answers` questions, each as soon as the question arrives."""
        await self.begin(people)
        return await self.collect(people, answers, deadline, shapes)

    async def begin(self, people: Sequence[Person]) -> None:
        """Have everyone answer the question in front of them, all at once."""
        self._first_at, self._lost = 0.0, 0
        await self._send([(person, self._action(person)) for person in people])

    async def collect(
        self, people: Sequence[Person], answers: int, deadline: float, shapes: list[list[int]]
    ) -> Answers:
        """Time each reply; answer it at once until everyone has given `answers` answers.

        `shapes[i]` is the keyboard shape (buttons per row) of question i, the end's last: a
        reply of another shape is counted as unexpected. A reply with no buttons where the
        question has some is a note before the question (Heard's "before_question" one, say):
        counted as unexpected, and the question that follows it is taken as the reply.
        """
        by_user = {person.user: person for person in people}
        latencies: list[float] = []
        unexpected = 0
        last_at = 0.0
        remaining = sum(1 for person in people if not person.done)
        while remaining and time.monotonic() < deadline and self.alive():
            self.cursor, events = await self.client.events(self.cursor, POLL_SECONDS)
            outgoing = []
            for chat, message, at, rows in events:
                person = by_user.get(chat)
                if person is None or person.asked_at is None:
                    continue
                if not rows and any(shapes[person.start + person.answered + 1]):
                    unexpected += 1
                    continue
                latencies.append(at - person.asked_at)
                last_at = max(last_at, at)
                person.asked_at = None
                person.answered += 1
                person.message, person.rows = message, rows
                if [len(row) for row in rows] != shapes[person.start + person.answered]:
                    unexpected += 1
                if person.answered >= answers:
                    person.done, remaining = True, remaining - 1
                else:
                    outgoing.append((person, self._action(person)))
            if outgoing:
                remaining -= await self._send(outgoing)
        lost = self._lost + remaining
        return Answers(latencies, self._first_at, last_at, unexpected, lost)

    async def _send(self, outgoing: list[tuple[Person, dict[str, Any]]]) -> int:
        """Queue the answers; return how many could not be (their message was not found)."""
        stamps = await self.client.inject([action for _, action in outgoing])
        lost = 0
        for (person, _), at in zip(outgoing, stamps, strict=True):
            if at is None:
                person.done, lost = True, lost + 1
                continue
            person.asked_at = at
            self._first_at = self._first_at or at
        self._lost += lost
        return lost

    def _action(self, person: Person) -> dict[str, Any]:
        number = person.start + person.answered
        step = self.steps[number]
        if typed(step):
            return {"user": person.user, "text": typed_answer(step, person.user, number + 1)}
        options = [data for row in person.rows[:-1] for data in row] or person.rows[0]
        choice = options[(person.user + number) % len(options)]
        return {"user": person.user, "message": person.message, "data": choice}
