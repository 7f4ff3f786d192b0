"""The flood guard: words of risk and commands go through, other words are kept, one "wait"."""

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, cast

from telegram import CallbackQuery, Chat, Message, MessageEntity, Sticker, Update, User
from telegram.error import NetworkError

from bot.backlog import FloodGuard
from bot.safeguarding.verdicts import OK, Screening, Verdict
from bot.sender import Unreachable
from conversations.catalog import catalog
from storage.repository import Contact, Participant
from tests.support.bot_harness import FixedClock

WRITTEN = datetime(2026, 3, 2, 9, 59, tzinfo=UTC)
CODE = "P-7KQ2MX"
PARTICIPANT, STRANGER = 5001, 5002


class Repository:
    """The three calls the guard makes, with a switch to make storage fail."""

    def __init__(self):
        self.kept = []
        self.batches = 0
        self.failing = False
        self.participant = Participant(CODE, "en", "active", True, WRITTEN)

    async def contact_and_run(self, user_id):
        await asyncio.sleep(0)  # a trip to the database thread
        return (Contact(self.participant, user_id) if user_id == PARTICIPANT else None), None

    async def contact_for_user(self, user_id):
        contact, _ = await self.contact_and_run(user_id)
        return contact

    async def keep_messages(self, code, run_id, kept, now):
        if self.failing:
            raise OSError("disk full")
        self.batches += 1
        self.kept += [(code, run_id, k.text, k.why, k.written_at, now) for k in kept]


class Sender:
    """Note what would be sent; optionally fail like Telegram."""

    def __init__(self):
        self.sent = []
        self.answered = []
        self.failing = False
        self.blocked = False
        self.tries = 0

    async def deliver(self, chat_id, messages, prompt_id):
        self.tries += 1
        if self.blocked:
            raise Unreachable("Forbidden: bot was blocked by the user")
        if self.failing:
            raise NetworkError("connection reset")
        self.sent += [(chat_id, m.text) for m in messages]

    async def answer_button(self, callback_id):
        self.answered.append(callback_id)


def screen(text):
    if "kill myself" in text:
        return Screening(Verdict.FLAG, "kill myself", "suicide", sentence=text)
    if "hard to cope" in text:
        return Screening(Verdict.CONCERN, score=0.6, sentence=text)
    return OK


def guard() -> Any:
    # The fakes have only what the guard calls; Any lets the tests reach them as guard's own.
    return FloodGuard(cast(Any, Repository()), cast(Any, Sender()), FixedClock(), screen)


def user(user_id):
    return User(user_id, "Sam", False, language_code="en")


def text(update_id, words, user_id=PARTICIPANT, chat_type=Chat.PRIVATE):
    chat = Chat(user_id if chat_type == Chat.PRIVATE else -100, chat_type)
    entities = [MessageEntity(MessageEntity.BOT_COMMAND, 0, len(words))] if words[0] == "/" else []
    message = Message(
        update_id, WRITTEN, chat, from_user=user(user_id), text=words, entities=entities
    )
    return Update(update_id, message=message)


def sticker(update_id, user_id=PARTICIPANT):
    sticker = Sticker("s", "s", 512, 512, False, False, Sticker.REGULAR)
    message = Message(
        update_id, WRITTEN, Chat(user_id, Chat.PRIVATE), from_user=user(user_id), sticker=sticker
    )
    return Update(update_id, message=message)


def press(update_id, user_id=PARTICIPANT):
    message = Message(99, WRITTEN, Chat(user_id, Chat.PRIVATE))
    query = CallbackQuery(f"q{update_id}", user(user_id), "chat", message=message, data="v1|x")
    return Update(update_id, callback_query=query)


async def test_backlog_words_of_risk_go_through_and_are_not_kept():
    flood = guard()
    assert await flood.absorb(text(1, "I want to kill myself")) is False
    assert flood.repository.kept == []
    assert flood.sender.sent == []


async def test_backlog_a_concern_is_kept_like_other_words_not_handled_in_the_flood():
    flood = guard()
    assert await flood.absorb(text(1, "It is hard to cope some days")) is True
    assert [(k[2], k[3]) for k in flood.repository.kept] == [
        ("It is hard to cope some days", "flood")
    ]
    assert flood.sender.sent == [(PARTICIPANT, catalog("en")("flood_wait"))]


async def test_backlog_commands_go_through():
    flood = guard()
    assert await flood.absorb(text(1, "/stop")) is False
    assert await flood.absorb(text(2, "/help")) is False
    assert flood.repository.kept == []


async def test_backlog_keeps_a_participants_words_and_asks_once_to_wait():
    flood = guard()
    assert await flood.absorb(text(1, "one")) is True
    assert await flood.absorb(text(2, "two")) is True
    assert [(k[0], k[2], k[3], k[4]) for k in flood.repository.kept] == [
        (CODE, "one", "flood", WRITTEN),
        (CODE, "two", "flood", WRITTEN),
    ]
    assert flood.sender.sent == [(PARTICIPANT, catalog("en")("flood_wait"))]


async def test_backlog_a_new_flood_after_the_backlog_drained_is_told_again():
    flood = guard()
    await flood.absorb(text(1, "one"))
    flood.drained(PARTICIPANT)
    await flood.absorb(text(2, "two"))
    assert len(flood.sender.sent) == 2


async def test_backlog_keeps_messages_that_come_at_once_in_one_commit_in_order():
    flood = guard()
    taken = await asyncio.gather(*(flood.absorb(text(n, f"message {n}")) for n in range(50)))
    assert all(taken)
    assert [k[2] for k in flood.repository.kept] == [f"message {n}" for n in range(50)]
    assert flood.repository.batches == 1
    assert len(flood.sender.sent) == 1


async def test_backlog_keeps_nothing_of_a_strangers_words():
    flood = guard()
    assert await flood.absorb(text(1, "hello?", user_id=STRANGER)) is True
    assert flood.repository.kept == []
    assert flood.sender.sent == [(STRANGER, catalog("en")("flood_wait_stranger"))]


async def test_backlog_when_storage_fails_the_words_go_through_instead(caplog):
    flood = guard()
    flood.repository.failing = True
    with caplog.at_level(logging.ERROR, logger="bot.backlog"):
        taken = await asyncio.gather(flood.absorb(text(1, "one")), flood.absorb(text(2, "two")))
    assert list(taken) == [False, False]
    assert "could not keep 2 flood message(s)" in caplog.text


async def test_backlog_when_telegram_fails_the_next_message_asks_again():
    flood = guard()
    flood.sender.failing = True
    assert await flood.absorb(text(1, "one")) is True
    flood.sender.failing = False
    assert await flood.absorb(text(2, "two")) is True
    assert await flood.absorb(text(3, "three")) is True
    assert flood.sender.sent == [(PARTICIPANT, catalog("en")("flood_wait"))]
    assert len(flood.repository.kept) == 3


async def test_backlog_a_chat_that_blocked_the_bot_is_not_asked_again():
    flood = guard()
    flood.sender.blocked = True
    assert await flood.absorb(text(1, "one")) is True
    assert await flood.absorb(text(2, "two")) is True
    assert flood.sender.tries == 1
    assert len(flood.repository.kept) == 2


async def test_backlog_a_button_press_stops_its_spinner_and_is_dropped():
    flood = guard()
    assert await flood.absorb(press(1)) is True
    assert flood.sender.answered == ["q1"]
    assert flood.repository.kept == []
    assert len(flood.sender.sent) == 1


async def test_backlog_a_sticker_is_dropped():
    flood = guard()
    assert await flood.absorb(sticker(1)) is True
    assert flood.repository.kept == []
    assert len(flood.sender.sent) == 1


async def test_backlog_a_groups_messages_are_dropped_unanswered():
    flood = guard()
    assert await flood.absorb(text(1, "hello all", chat_type=Chat.SUPERGROUP)) is True
    assert flood.repository.kept == []
    assert flood.sender.sent == []
