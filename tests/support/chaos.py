"""Random network faults for the fake Bot API server, from a seed (opt-in: FakeTelegram.chaos).

What real Telegram does, and so what this does:

- **5xx.** Telegram's front ends answer any method, getUpdates included, with 500, 502 or
  504 during its own outages. Here every method in scope answers one with `error_rate`
  (as a JSON error body; python-telegram-bot raises NetworkError for any 5xx either way).
- **Timeouts.** A request can vanish on the way there, or be carried out with the answer lost
  on the way back; the client only sees its read timeout or a closed connection. Here
  `timeout_rate` of the calls get no answer: the server waits `hang_seconds` (0: at once; more
  than the client's read timeout, 5 s by default in python-telegram-bot, for a true timeout)
  and then closes the connection. Half of them are carried out first (the message exists, the
  bot does not know it), half are not; which is decided by the same seeded dice.
- **Flood control.** Telegram answers 429 with `retry_after` to a bot that sends too fast, and
  goes on answering 429 to every send until that time has passed. Here a send starts such a
  burst with `burst_rate`: for `retry_after` seconds every call of a sending method answers 429
  with the seconds left. getUpdates is never flood-limited, by Telegram or here.

The dice are seeded, so the sequence of rolls is the same for the same seed; which call meets
which roll depends on the order the calls arrive in, which concurrency can change. A test that
must see a burst whatever the order sets `burst_at`: the send with that number (1 for the first
in scope) starts one, dice or no dice.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

# Methods that post or change a message: what Telegram's flood control answers 429 to.
SENDING = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "deleteMessage",
    }
)
SERVER_ERRORS = ((500, "Internal Server Error"), (502, "Bad Gateway"), (504, "Gateway Timeout"))


@dataclass(frozen=True)
class Failure:
    """Answer the call with this error instead of carrying it out."""

    code: int
    description: str
    retry_after: int | None = None


@dataclass(frozen=True)
class Drop:
    """Give the call no answer: wait `hang` seconds, then close the connection."""

    performed: bool
    hang: float


Fault = Failure | Drop


@dataclass(frozen=True)
class ChaosSettings:
    """How often each fault happens, to which methods, from which seed."""

    seed: int
    error_rate: float = 0.05
    timeout_rate: float = 0.02
    burst_rate: float = 0.0
    retry_after: int = 1
    hang_seconds: float = 0.0
    methods: frozenset[str] | None = None  # None: every method
    burst_at: int | None = None  # this send (counting from 1) starts a burst in any case

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.timeout_rate, self.burst_rate)
        if any(not 0 <= rate <= 1 for rate in rates) or sum(rates) > 1:
            raise ValueError(f"rates must be between 0 and 1 and add up to 1 at most: {rates}")
        if self.retry_after < 1 or self.hang_seconds < 0:
            raise ValueError("retry_after must be 1 or more, hang_seconds 0 or more")


class Chaos:
    """Roll the dice for each call; remember a flood burst until its time has passed."""

    def __init__(self, settings: ChaosSettings) -> None:
        self.settings = settings
        self.injected: Counter[str] = Counter()
        self._dice = random.Random(settings.seed)
        self._flood_until = 0.0
        self._sends = 0

    def roll(self, method: str, now: float) -> Fault | None:
        """Return the fault for one call of `method` arriving at `now`, or None to answer it."""
        settings = self.settings
        if settings.methods is not None and method not in settings.methods:
            return None
        if method in SENDING and now < self._flood_until:
            return self._flood(now)
        if method in SENDING:
            self._sends += 1
            if self._sends == settings.burst_at:
                return self._burst(now)
        roll = self._dice.random()
        if roll < settings.error_rate:
            code, description = self._dice.choice(SERVER_ERRORS)
            self.injected[f"{code}"] += 1
            return Failure(code, description)
        roll -= settings.error_rate
        if roll < settings.timeout_rate:
            performed = self._dice.random() < 0.5
            self.injected["no answer, carried out" if performed else "no answer"] += 1
            return Drop(performed, settings.hang_seconds)
        roll -= settings.timeout_rate
        if method in SENDING and roll < settings.burst_rate:
            return self._burst(now)
        return None

    def _burst(self, now: float) -> Failure:
        self.injected["429 bursts"] += 1
        self._flood_until = now + self.settings.retry_after
        return self._flood(now)

    def _flood(self, now: float) -> Failure:
        wait = max(1, math.ceil(self._flood_until - now))
        self.injected["429"] += 1
        return Failure(429, f"Too Many Requests: retry after {wait}", wait)


class Timed(Protocol):
    """A recorded call, as far as the retry_after check needs it."""

    @property
    def method(self) -> str: ...
    @property
    def ok(self) -> bool: ...
    @property
    def result_or_error(self) -> object: ...
    @property
    def at(self) -> float: ...
    @property
    def arrived(self) -> float: ...


def retry_after_violations(calls: Sequence[Timed], grace: float = 0.2) -> list[Timed]:
    """Return calls that arrived sooner than a 429's retry_after allowed, for the same method.

    A call counts from `grace` seconds after the 429 was answered: one already on its way when
    the 429 went out (sent concurrently, before the client could know) is not the client's
    fault.
    """
    late: list[Timed] = []
    for refused in calls:
        retry_after = _retry_after(refused)
        if retry_after is None:
            continue
        start, end = refused.at + grace, refused.at + retry_after
        late += [c for c in calls if c.method == refused.method and start < c.arrived < end]
    return list({id(c): c for c in late}.values())


def _retry_after(call: Timed) -> float | None:
    error = call.result_or_error
    if call.ok or not isinstance(error, dict) or error.get("error_code") != 429:
        return None
    parameters = error.get("parameters") or {}
    value = parameters.get("retry_after")
    return float(value) if isinstance(value, int | float) else None


def method_set(methods: Iterable[str] | None) -> frozenset[str] | None:
    """Return a method list as a frozen set (None stays None: every method)."""
    return None if methods is None else frozenset(methods)
