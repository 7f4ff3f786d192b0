"""Blocked and vanished users: one 403 marks them unreachable; nothing is tried again until they
write, and then they are welcomed back where they were.

Telegram answers 403 "bot was blocked by the user" to a user who blocked the bot and 403 "user is
deactivated" to one who deleted their account; each test runs with both.
"""

import asyncio
import json
import sqlite3

import pytest

from tests.bot.conftest import ADMIN_ID
from tests.bot.rounds.test_dispatch import invitations, member, new_round, until
from tests.support.database import rows
from tests.support.fake_telegram import BLOCKED, DEACTIVATED

pytestmark = pytest.mark.faults

GONE = pytest.mark.parametrize("gone", [BLOCKED, DEACTIVATED], ids=["blocked", "deactivated"])
REVIEWER = 4242


def status(database, user_id):
    [(found,)] = rows(
        database,
        "SELECT p.status FROM participants p JOIN identities i ON i.participant_code = p.code "
        "WHERE i.telegram_user_id = ?",
        (user_id,),
    )
    return found


def calls_to(fake, chat_id):
    """Return every call the bot made about a chat (chat_id given), refused or not."""
    return [c for c in fake.calls if c.params.get("chat_id") == chat_id]


def refusals(fake, chat_id):
    return [
        c for c in calls_to(fake, chat_id) if not c.ok and c.result_or_error["error_code"] == 403
    ]


async def redelivery_rounds(n=3):
    """Let the redelivery job (every 0.5 s in tests) and dispatcher ticks run a few times."""
    await asyncio.sleep(0.5 * n + 0.1)


async def up_to_contact(user):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")
    await user.press("Yes")
    await user.press("4")
    await user.press("The staff")
    await user.press("Done")
    assert "How did you contact them?" in user.last_text()


@GONE
@pytest.mark.parametrize("writes", ["hello", "/start"])
async def test_blocked_participant_is_marked_unreachable_then_welcomed_back(
    user, fake, database, gone, writes
):
    await up_to_contact(user)
    fake.block(user.chat_id, gone)
    await user.press("Phone")
    # The answer is kept; the first refused call marks them unreachable, and stops the rest.
    assert status(database, user.user_id) == "unreachable"
    [refused] = refusals(fake, user.chat_id)
    assert refused.result_or_error["description"] == gone
    assert calls_to(fake, user.chat_id)[-1] is refused
    # Even a run left waiting to be shown (as after a crash) is not tried again.
    db = sqlite3.connect(database)
    db.execute("UPDATE runs SET needs_delivery = 1")
    db.commit()
    db.close()
    await redelivery_rounds()
    assert calls_to(fake, user.chat_id)[-1] is refused

    # They unblock and write: welcomed back to the question they never saw, with nothing
    # they typed taken as its answer.
    fake.unblock(user.chat_id)
    await user.send(writes)
    assert status(database, user.user_id) == "active"
    texts = user.texts_since(len(user.messages()) - 2)
    assert any(text.startswith("Welcome back") for text in texts), texts
    assert "What one thing would you change?" in user.last_text()
    stored = rows(database, "SELECT step_id FROM answers ORDER BY seq")
    assert stored == [("used",), ("rating",), ("liked",), ("contact",)]
    await user.send("Shorter waits")
    assert "How old are you?" in user.last_text()
    assert rows(database, "SELECT value FROM answers WHERE step_id = 'change'") == [
        (json.dumps("Shorter waits"),)
    ]


@GONE
async def test_blocked_round_invitation_is_tried_once_and_nothing_follows(
    make_user, fake, database, clock, gone
):
    gone_user = await member(make_user, 3001)
    here = await member(make_user, 3002)
    fake.block(gone_user.chat_id, gone)
    before = len(calls_to(fake, gone_user.chat_id))
    await new_round(database, clock, reminders=2, days=10)
    await until(lambda: invitations(here))
    # Noted as sent before the clock moves: its reminders are due from that moment.
    await until(lambda: ("sent",) in rows(database, "SELECT status FROM outbox"))
    await until(lambda: status(database, gone_user.user_id) == "unreachable")
    [refused] = refusals(fake, gone_user.chat_id)
    assert "We'd like to hear from you about" in refused.params["text"]
    assert rows(
        database,
        "SELECT o.status, o.last_error FROM outbox o JOIN identities i USING (participant_code) "
        "WHERE i.telegram_user_id = ?",
        (gone_user.user_id,),
    ) == [("failed", "unreachable")]
    # Two reminders go to the one still here; none to the one who is gone.
    for reminder in (1, 2):
        count = len(here.messages())
        clock.advance(days=3, minutes=1)
        await until(lambda c=count: len(here.messages()) > c)
        assert here.last_text().startswith("A gentle reminder"), reminder
    # A new round, and closing both: still nothing for them.
    await new_round(database, clock, days=1)
    await until(lambda: len(invitations(here)) == 2)
    clock.advance(days=8)
    await redelivery_rounds()
    assert len(calls_to(fake, gone_user.chat_id)) == before + 1


@GONE
async def test_blocked_safeguarding_reply_is_tried_once_then_not_again(
    make_user, fake, database, gone
):
    admin, reviewer = make_user(ADMIN_ID), make_user(REVIEWER)
    await reviewer.send("/help")
    await admin.send(f"/grant {REVIEWER} safeguarding")
    participant = make_user(3101)
    await up_to_contact(participant)
    [(code,)] = rows(database, "SELECT code FROM participants")
    fake.block(participant.chat_id, gone)
    # The reviewer writes before anyone knows they are gone: one try, refused, and said so.
    await reviewer.send(f"/reply {code} We read your message and we are here.")
    assert f"{code} can't be reached" in reviewer.last_text()
    assert status(database, participant.user_id) == "unreachable"
    assert len(refusals(fake, participant.chat_id)) == 1
    # Known to be gone: a second reply is not even tried.
    calls = len(calls_to(fake, participant.chat_id))
    await reviewer.send(f"/reply {code} Are you still there?")
    assert f"{code} can't be reached" in reviewer.last_text()
    assert len(calls_to(fake, participant.chat_id)) == calls
    # Back again: the next reply reaches them.
    fake.unblock(participant.chat_id)
    await participant.send("/start")
    await reviewer.send(f"/reply {code} Glad you're back.")
    assert "Glad you're back." in participant.last_text()
    assert reviewer.last_text() == f"Sent to {code}."
