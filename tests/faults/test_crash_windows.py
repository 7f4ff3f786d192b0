"""Two narrow crash windows the 200-person SIGKILL test found, pinned down one at a time.

Each test puts the database in the state a process killed at that moment leaves behind,
then checks what the participant meets next.
"""

import json
import sqlite3

import pytest

from storage.sqlite import SQLiteRepository
from tests.bot.conftest import ADMIN_ID
from tests.support.bot_harness import InProcessBot, bot_settings
from tests.support.chat_user import ChatUser
from tests.support.coordinating import joined
from tests.support.database import rows

pytestmark = pytest.mark.faults


def execute(database, sql, args=()):
    db = sqlite3.connect(database)
    try:
        db.execute(sql, args)
        db.commit()
    finally:
        db.close()


def shown(user, message_id):
    """Return a bot message's words and buttons as the participant sees them now."""
    [message] = [m for m in user.messages() if m.message_id == message_id]
    return message.display_text, message.inline_buttons()


@pytest.mark.parametrize("then", ["presses agree again", "sends /start"])
async def test_crash_between_consent_and_first_question_is_not_a_dead_end(
    user, database, monkeypatch, then
):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    real = SQLiteRepository.start_run

    async def dies_once(self, *args, **kwargs):
        monkeypatch.setattr(SQLiteRepository, "start_run", real)
        raise OSError("the process died here")

    monkeypatch.setattr(SQLiteRepository, "start_run", dies_once)
    await user.press("Yes, I agree")
    # Consent is stored, no run has begun: the state a SIGKILL between the two leaves.
    assert rows(database, "SELECT COUNT(*) FROM consents") == [(1,)]
    assert rows(database, "SELECT COUNT(*) FROM runs") == [(0,)]
    # The consent buttons are still there: they go only once the first question is out.
    assert "Yes, I agree" in user.buttons()
    if then == "sends /start":
        await user.send("/start")
        # Offered again from the top, not "that conversation is not available any more".
        assert "18 or older" in user.last_text()
        await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")
    assert "Have you used the service?" in user.last_text()
    assert rows(database, "SELECT COUNT(*) FROM participants") == [(1,)]
    assert rows(database, "SELECT COUNT(*) FROM runs") == [(1,)]


@pytest.fixture
async def no_redelivery_job(fake, flows_dir, database, clock):
    """Heard in-process with the redelivery job an hour apart: only the participant acts."""
    settings = bot_settings(fake, database, flows_dir, "sample", heard_admins=(ADMIN_ID,))
    bot = InProcessBot(settings, clock, redelivery_seconds=3600)
    await bot.start(fake)
    yield bot
    await bot.stop()


async def test_crash_between_send_and_its_record_edits_the_question_they_see(
    fake, no_redelivery_job, database
):
    user = ChatUser(fake, 1001, settle=no_redelivery_job.settle)
    await joined(user)
    await user.press("Yes")
    rating = user.messages()[-1]
    await user.press("4")
    assert "What helped?" in user.last_text()
    # Killed after Telegram took question 3, before Heard recorded it as shown (and where).
    execute(
        database,
        "UPDATE runs SET needs_delivery = 1, prompt_message_id = ?",
        (rating.message_id,),
    )
    await user.press("The staff")
    # The tick is on the question they are looking at; the rating above is left alone.
    assert "✅ The staff" in user.buttons()
    assert "What helped?" in user.last_text()
    assert shown(user, rating.message_id) == ("How was it?\n\nYour answer: 4", [])
    await user.press("Done")
    assert "How did you contact them?" in user.last_text()
    assert shown(user, rating.message_id) == ("How was it?\n\nYour answer: 4", [])
    assert rows(database, "SELECT step_id, value FROM answers ORDER BY seq") == [
        ("used", json.dumps(True)),
        ("rating", "4"),
        ("liked", json.dumps(["staff"])),
    ]


async def test_crash_window_not_shown_again_keeps_the_action_off_the_old_message(
    fake, no_redelivery_job, database
):
    # As above, and Telegram fails the question shown again: the press is stored, nothing
    # lands on the rating above, and the question is shown with its tick before the next press.
    user = ChatUser(fake, 1001, settle=no_redelivery_job.settle)
    await joined(user)
    await user.press("Yes")
    rating = user.messages()[-1]
    await user.press("4")
    execute(
        database,
        "UPDATE runs SET needs_delivery = 1, prompt_message_id = ?",
        (rating.message_id,),
    )
    fake.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=1)
    await user.press("The staff")
    assert shown(user, rating.message_id) == ("How was it?\n\nYour answer: 4", [])
    assert rows(database, "SELECT needs_delivery FROM runs") == [(1,)]
    await user.press("The place")
    assert {"✅ The staff", "✅ The place"} <= set(user.buttons())
    assert shown(user, rating.message_id) == ("How was it?\n\nYour answer: 4", [])
    await user.press("Done")
    assert "How did you contact them?" in user.last_text()
    assert rows(database, "SELECT value FROM answers WHERE step_id = 'liked'") == [
        (json.dumps(["staff", "place"]),)
    ]


async def test_the_end_shown_again_still_asks_about_being_contacted(
    fake, no_redelivery_job, database
):
    # Telegram fails the end of the conversation: the last answer is stored, and when the
    # participant next writes, the end is shown again with the question that goes with it.
    user = ChatUser(fake, 1001, settle=no_redelivery_job.settle)
    await joined(user)
    await user.press("No")
    await user.send("Too far away")
    await user.send("Closer clinics")
    fake.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=1)
    await user.send("/skip")
    assert rows(database, "SELECT status, needs_delivery FROM runs") == [("completed", 1)]
    assert "something went wrong on our side" in user.last_text()
    await user.send("hello?")
    assert user.buttons() == ["Yes, message me", "No, thank you"]
    assert rows(database, "SELECT needs_delivery FROM runs") == [(0,)]
    await user.press("Yes, message me")
    assert rows(database, "SELECT contact_ok FROM participants") == [(1,)]
