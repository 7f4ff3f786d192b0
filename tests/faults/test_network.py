"""Network faults: 5xx, calls left unanswered, 429 bursts; nothing lost, nothing sent twice.

The fake server's chaos mode (tests/support/chaos.py) fails calls at random while people
answer the in-process bot. People join on a calm network: a stranger's /start and the age
question store nothing, so there is nothing for Heard to show again if they fail (the
participant is told to try again); everything after consent is stored first and shown again
by the redelivery job (every 0.5 s in tests) until it gets through. A question whose send got
no answer may or may not have been shown: what is typed before it is known to be shown is kept
aside and the question asked again, so people then answer again.
"""

import asyncio
import json
import os
import time

import pytest

from conversations.loader import load_flow_file
from tests.support.bot_harness import SAMPLE_FLOWS
from tests.support.chaos import SENDING, retry_after_violations
from tests.support.database import rows
from tests.support.question_log import AGE_GATE, CONSENT, QuestionLog

pytestmark = pytest.mark.faults

SEED = int(os.environ.get("HEARD_FAULTS_SEED", "20260302"))
FLOW = load_flow_file(SAMPLE_FLOWS / "sample.yaml").flow
PATH = (AGE_GATE, CONSENT, "used", "rating", "liked", "contact", "change", "age")
PEOPLE = 12
FIRST_USER = 80_000
WAIT = 30.0
END = "Thank you for taking part."
ERROR = "Sorry, something went wrong on our side"
KEPT_ASIDE = "Your message may have come before this question reached you"
KEPT_ASIDE_TRIES = 3
LIKED = (("staff",), ("place",), ("staff", "place"), ("speed",))
LABELS = {"staff": "The staff", "speed": "Being seen quickly", "place": "The place"}


def plan(n):
    """Return (step, value) a participant gives, in order, from their number."""
    return [
        ("used", True),
        ("rating", 1 + n % 5),
        ("liked", list(LIKED[n % len(LIKED)])),
        ("contact", ("phone", "visit")[n % 2]),
        ("change", f"Shorter waits, from participant {n}"),
        ("age", 20 + n),
    ]


class Person:
    """A participant who acts, then waits (bounded) for the bot's answer; never repeats."""

    def __init__(self, fake, log, n):
        self.fake = fake
        self.log = log
        self.n = n
        self.chat = FIRST_USER + n

    async def answer_everything(self):
        answers = dict(plan(self.n))
        await self._press("Yes", "rating")
        await self._press(str(answers["rating"]), "liked")
        for option in answers["liked"]:
            label = LABELS[option]
            await self._do(
                self._pressing(label), lambda since, label=label: self._has(f"✅ {label}")
            )
        await self._press("Done", "contact")
        await self._type("1" if answers["contact"] == "phone" else "2", "change")
        await self._type(answers["change"], "age")
        await self._do(lambda: self.fake.send_text(self.chat, str(answers["age"])), self._ended)

    async def _press(self, label, then):
        await self._do(self._pressing(label), self._asked(then))

    async def _type(self, text, then):
        await self._do(lambda: self.fake.send_text(self.chat, text), self._asked(then))

    def _pressing(self, label):
        def press():
            message = self._keyboard()
            assert message is not None, f"chat {self.chat}: no buttons to press {label!r}"
            [data] = [b["callback_data"] for b in message.inline_buttons() if b["text"] == label]
            return self.fake.press(self.chat, message.message_id, data)

        return press

    async def _do(self, act, expect):
        # A question whose send got no answer may have been shown or not: what is typed
        # then is kept aside and the question asked again, so they answer again (bounded).
        for _ in range(KEPT_ASIDE_TRIES):
            since = time.monotonic()
            act()
            try:
                await self.fake.wait_for(
                    lambda since=since: expect(since) or self._kept_aside(since), timeout=WAIT
                )
            except TimeoutError:
                break
            if expect(since):
                return
        shown = "\n".join(repr(m.display_text[:60]) for m in self.fake.chat_messages(self.chat))
        raise AssertionError(f"chat {self.chat} never got an answer; it shows:\n{shown}")

    def _kept_aside(self, since):
        return any(
            c.ok and c.at > since and str(c.params.get("text", "")).startswith(KEPT_ASIDE)
            for c in self.fake.calls_of("sendMessage")
            if c.params.get("chat_id") == self.chat
        )

    def _asked(self, step):
        return lambda since: self.log.asked_since(self.chat, step, since)

    def _keyboard(self):
        """Return the newest message with buttons, or None (between two questions, say)."""
        shown = self.fake.chat_messages(self.chat)
        return next((m for m in reversed(shown) if m.inline_buttons()), None)

    def _has(self, label):
        keyboard = self._keyboard()
        return keyboard is not None and any(b["text"] == label for b in keyboard.inline_buttons())

    def _ended(self, since):
        return any(
            c.ok and c.at > since and str(c.params.get("text", "")).startswith(END)
            for c in self.fake.calls_of("sendMessage")
            if c.params.get("chat_id") == self.chat
        )


async def join(make_user, n):
    user = make_user(FIRST_USER + n)
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")
    assert "Have you used the service?" in user.last_text()


@pytest.mark.timeout(90)
async def test_network_faults_lose_nothing_and_honour_retry_after(
    heard, make_user, fake, database
):
    print(f"\nseed {SEED} (set HEARD_FAULTS_SEED to change it)")
    for n in range(PEOPLE):
        await join(make_user, n)
    log = QuestionLog(fake, FLOW)
    started = time.monotonic()
    chaos = fake.chaos(
        seed=SEED,
        error_rate=0.05,
        timeout_rate=0.02,
        burst_rate=0.01,
        retry_after=1,
        burst_at=20,  # one burst at least, whatever order the calls come in
    )
    people = [Person(fake, log, n) for n in range(PEOPLE)]
    await asyncio.gather(*(p.answer_everything() for p in people))
    fake.calm()
    took = time.monotonic() - started

    # Nothing lost, nothing twice: exactly what each person said, one run each, all finished.
    for n in range(PEOPLE):
        stored = rows(
            database,
            "SELECT a.step_id, a.value FROM answers a JOIN runs r ON r.id = a.run_id "
            "JOIN identities i USING (participant_code) WHERE i.telegram_user_id = ? "
            "ORDER BY a.seq",
            (FIRST_USER + n,),
        )
        assert [(step, json.loads(value)) for step, value in stored] == plan(n)
    assert rows(database, "SELECT COUNT(*), SUM(status = 'completed') FROM runs") == [
        (PEOPLE, PEOPLE)
    ]
    # No question was asked again once answered (the current one may be shown again).
    assert [a for p in people for a in log.repeated(p.chat, PATH)] == []
    # retry_after honoured: no call of a method sooner than a 429 for it allowed.
    refused = [c for c in fake.calls if not c.ok and c.result_or_error.get("error_code") == 429]
    assert refused, "the seed gave no 429 burst: choose another"
    assert retry_after_violations(fake.calls) == []
    # Every question whose send failed (or got no answer) reached the participant later.
    chats = {str(p.chat) for p in people}
    failed = [
        c
        for c in fake.calls_of("sendMessage")
        # (A call refused before its parameters were read has them as sent: strings.)
        if (not c.ok or c.dropped) and str(c.params.get("chat_id")) in chats
    ]
    assert failed, "the seed failed no send: choose another"
    errors = sum(1 for p in people for m in fake.chat_messages(p.chat) if ERROR in (m.text or ""))
    print(
        f"{PEOPLE} participants, {len(plan(0)) * PEOPLE} answers checked in {took:.1f} s; "
        f"faults {dict(chaos.injected)}; calls {len(fake.calls)}, sends that failed "
        f"{len(failed)}, 429s {len(refused)}, retry_after violations 0, "
        f"'something went wrong' shown {errors}"
    )
    assert not heard._task.done()


async def test_network_outage_answer_is_kept_and_shown_when_it_recovers(
    heard, make_user, fake, database
):
    await join(make_user, 0)
    chat = FIRST_USER
    # Telegram goes away just after the bot took the participant's answer.
    message = next(m for m in reversed(fake.chat_messages(chat)) if m.inline_buttons())
    [yes] = [b["callback_data"] for b in message.inline_buttons() if b["text"] == "Yes"]
    update_id = fake.press(chat, message.message_id, yes)
    await fake.wait_for(lambda: update_id in fake.delivered_update_ids(), timeout=5)
    chaos = fake.chaos(
        seed=SEED, error_rate=1.0, timeout_rate=0.0, methods=SENDING | {"answerCallbackQuery"}
    )
    await heard.settle(update_id)
    await asyncio.sleep(1.5)  # three redelivery rounds, all failing
    assert rows(database, "SELECT step_id, value FROM answers") == [("used", "true")]
    assert not any("How was it?" in (m.text or "") for m in fake.chat_messages(chat))
    fake.calm()
    await fake.wait_for(
        lambda: "How was it?" in (fake.chat_messages(chat)[-1].text or ""), timeout=5
    )
    assert sum(chaos.injected.values()) >= 3
    for _ in range(50):  # marked shown just after the send
        if rows(database, "SELECT needs_delivery FROM runs") == [(0,)]:
            break
        await asyncio.sleep(0.1)
    assert rows(database, "SELECT needs_delivery FROM runs") == [(0,)]


async def test_network_reply_lost_after_telegram_took_the_question(
    fake, make_user, heard, database
):
    """A send that times out after Telegram took it: the next press lands on what they see."""
    await join(make_user, 0)
    user = make_user(FIRST_USER)
    # The next question's send hangs past python-telegram-bot's 5 s read timeout, carried out.
    chaos = fake.chaos(
        seed=4, error_rate=0.0, timeout_rate=1.0, hang_seconds=5.5, methods=["sendMessage"]
    )
    message = next(m for m in reversed(fake.chat_messages(user.chat_id)) if m.inline_buttons())
    [yes] = [b["callback_data"] for b in message.inline_buttons() if b["text"] == "Yes"]
    update_id = fake.press(user.chat_id, message.message_id, yes)
    # Only that one send: calm again as soon as it has arrived (faults are rolled on arrival).
    while not chaos.injected:  # noqa: ASYNC110 - the server signals calls answered, not arrived
        await asyncio.sleep(0.01)
    fake.calm()
    await heard.settle(update_id, bound=15)
    await fake.wait_for(lambda: any(c.dropped for c in fake.calls), timeout=5)
    [hung] = [c for c in fake.calls_of("sendMessage") if c.dropped]
    assert hung.ok, "seed 4 rolls 'carried out' first; the test needs that case"
    assert "How was it?" in user.last_text()
    await user.press("4")
    assert "What helped?" in user.last_text()
    [rating] = [m for m in user.messages() if (m.text or "").startswith("How was it?")]
    assert rating.text == "How was it?\n\nYour answer: 4"
    assert rows(database, "SELECT step_id, value FROM answers ORDER BY seq") == [
        ("used", "true"),
        ("rating", "4"),
    ]
