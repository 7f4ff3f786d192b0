"""Crash safety: `heard run` killed with SIGKILL mid-conversation loses nothing."""

import json
import sqlite3

import pytest

from tests.support.bot_harness import BotProcess, bot_environment
from tests.support.chat_user import ChatUser
from tests.support.chat_user import until_read as until

pytestmark = pytest.mark.slow


def answers(database):
    db = sqlite3.connect(database)
    try:
        return dict(db.execute("SELECT step_id, value FROM answers ORDER BY seq").fetchall())
    finally:
        db.close()


@pytest.fixture
def process(fake, flows_dir, database, tmp_path):
    bot = BotProcess(bot_environment(fake, database, flows_dir, "sample"), tmp_path / "bot.log")
    yield bot
    if bot.process is not None and bot.process.poll() is None:
        bot.kill()


def shown_pending(database):
    db = sqlite3.connect(database)
    try:
        return db.execute("SELECT needs_delivery FROM runs").fetchall()
    finally:
        db.close()


async def join(fake, user):
    """Start, say old enough, agree, and wait for the first question (no settle hook here)."""
    fake.send_text(user.user_id, "/start")
    for button in ("Yes, I'm 18 or older", "Yes, I agree"):
        await until(fake, lambda button=button: button in user.buttons())
        await user.press(button)
    await until(fake, lambda: "Question 1" in user.last_text())


async def test_crash_sigkill_mid_conversation_loses_nothing(fake, process, database):
    user = ChatUser(fake, 6001, settle=lambda update_id: until(fake, lambda: True))
    await process.start(fake)
    await join(fake, user)
    await user.press("Yes")
    await until(fake, lambda: "Question 2" in user.last_text())
    await user.press("4")
    await until(fake, lambda: "Question 3" in user.last_text())
    # Noted as shown (else what is typed next is kept aside, not taken as its answer).
    await until(fake, lambda: not any(pending for (pending,) in shown_pending(database)))

    process.kill()
    # The participant answers while the bot is down; Telegram keeps the update.
    fake.send_text(user.user_id, "1 3")
    await process.start(fake)
    await until(fake, lambda: "Question 4" in user.last_text())
    assert answers(database) == {
        "used": "true",
        "rating": "4",
        "liked": json.dumps(["staff", "place"]),
    }
    await user.press("Phone")
    await until(fake, lambda: "What one thing would you change?" in user.last_text())
    assert process.terminate() == 0
    assert "Heard" in process.log.read_text()
    assert "started: database" in process.log.read_text()


async def test_crash_between_commit_and_send_is_redelivered(fake, process, database):
    user = ChatUser(fake, 6002, settle=lambda update_id: until(fake, lambda: True))
    await process.start(fake)
    await join(fake, user)
    await user.press("No")
    await until(fake, lambda: "Why not?" in user.last_text())
    process.kill()

    # As if the process died after committing the answer but before sending the question.
    db = sqlite3.connect(database)
    db.execute("UPDATE runs SET needs_delivery = 1")
    db.commit()
    db.close()
    sent_before = len(user.messages())
    await process.start(fake)
    await until(fake, lambda: len(user.messages()) > sent_before)
    assert "Why not?" in user.last_text()
    assert answers(database) == {"used": "false"}
    assert process.terminate() == 0
    db = sqlite3.connect(database)
    [(pending,)] = db.execute("SELECT needs_delivery FROM runs").fetchall()
    db.close()
    assert pending == 0
