"""A risk answer mid-conversation: stored, flagged, support at once, and a person alerted."""

import sqlite3

import pytest

from tests.bot.conftest import SAFEGUARDING_CHAT
from tests.support.safeguarding import flags_alerted


def rows(database, sql):
    db = sqlite3.connect(database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.fixture(autouse=True)
async def safeguarding_chat(fake, heard):
    """Staff add the bot to their safeguarding group; it says nothing there."""
    update_id = fake.send_text(8001, "hello all", chat_id=SAFEGUARDING_CHAT, chat_type="group")
    await heard.settle(update_id)
    assert fake.chat_messages(SAFEGUARDING_CHAT) == []


async def join(user):
    await user.send("/start")
    await user.press("Yes, I'm 18 or older")
    await user.press("Yes, I agree")


async def test_safeguarding_risk_answer_is_kept_flagged_and_checked_in(user, fake, database):
    await join(user)
    await user.press("No")
    await user.send("honestly everyone would be better off without me")

    text = user.last_text()
    assert text.startswith("Thank you for telling me.")
    assert "116 123" in text
    assert "85258" in text
    assert text.endswith("Are you safe right now?")
    assert user.buttons() == ["I'm safe — carry on", "I need help now", "Pause for now"]
    assert "What one thing would you change?" not in text
    assert rows(database, "SELECT step_id, flagged FROM answers") == [
        ("used", 0),
        ("why_not", 1),
    ]
    [(code, step, phrase)] = rows(database, "SELECT participant_code, step_id, phrase FROM flags")
    assert code.startswith("P-")
    assert step == "why_not"
    assert phrase

    await flags_alerted(fake, database)
    [alert] = fake.chat_messages(SAFEGUARDING_CHAT)
    assert f"Participant: {code}" in alert.text
    assert "Question: Why not?" in alert.text
    assert "They wrote: honestly everyone would be better off without me" in alert.text
    assert str(user.user_id) not in alert.text
    assert "Sam" not in alert.text
    assert rows(database, "SELECT alerted_at IS NOT NULL FROM flags") == [(1,)]


async def test_safeguarding_conversation_continues_only_when_they_choose(user, database):
    await join(user)
    await user.press("No")
    await user.send("I want to die")
    shown = len(user.messages())
    await user.send("what now")
    # Not the whole check-in again: what they wrote is passed on, and the buttons shown.
    passed_on, nudge = user.texts_since(shown)
    assert passed_on.startswith("Thank you. I have passed what you wrote to a person")
    assert nudge.startswith("Are you safe right now? Please tap one of the buttons below.")
    assert "116 123" not in nudge
    assert user.buttons() == ["I'm safe — carry on", "I need help now", "Pause for now"]

    await user.press("I need help now")
    text = user.last_text()
    assert text.startswith("If you might act on these thoughts")
    assert text.index("999") < text.index("116 123")
    assert "What Heard can't do" in text
    assert user.buttons() == ["I'm safe — carry on", "I need help now", "Pause for now"]

    await user.press("I'm safe — carry on")
    assert "What one thing would you change?" in user.last_text()


async def test_safeguarding_pause_from_the_check_in(user, database):
    await join(user)
    await user.press("No")
    await user.send("i cant keep myself safe")
    await user.press("Pause for now")
    assert "Your answers so far are saved" in user.last_text()
    await user.send("/start")
    assert "What one thing would you change?" in user.last_text()


async def test_safeguarding_risk_words_to_a_choice_question_are_a_free_message(user, database):
    await join(user)
    await user.send("i'm going to kill myself")
    assert user.last_text().endswith("Are you safe right now?")
    assert rows(database, "SELECT * FROM answers") == []
    [(step, text)] = rows(database, "SELECT step_id, text FROM flags")
    assert step is None
    assert text == "i'm going to kill myself"
    await user.press("I'm safe — carry on")
    assert "Have you used the service?" in user.last_text()


async def test_safeguarding_ordinary_hard_answers_are_not_flagged(user, database):
    await join(user)
    await user.press("No")
    await user.send("the crisis team took ages to call back")
    assert "What one thing would you change?" in user.last_text()
    assert rows(database, "SELECT * FROM flags") == []


async def test_safeguarding_a_stranger_gets_support_and_nothing_is_kept(user, fake, database):
    await user.send("I want to end it all")
    texts = [m.text for m in user.messages()]
    assert texts[0].startswith("If you might act on these thoughts")
    assert "116 123" in texts[0]
    assert rows(database, "SELECT * FROM flags") == []
    assert rows(database, "SELECT * FROM participants") == []
    assert fake.chat_messages(SAFEGUARDING_CHAT) == []


async def test_safeguarding_alert_is_retried_until_it_gets_through(user, fake, database):
    await join(user)
    # Nobody else can be reached (the admin never wrote to the bot): the chat is tried again.
    fake.block(SAFEGUARDING_CHAT)
    await user.press("No")
    await user.send("I want to die")
    assert rows(database, "SELECT alerted_at FROM flags") == [(None,)]
    # Unblock soon: each failed try also counts against Telegram's per-group rate limit.
    fake.unblock(SAFEGUARDING_CHAT)
    await fake.wait_for(lambda: len(fake.chat_messages(SAFEGUARDING_CHAT)) == 1, timeout=10)
    await flags_alerted(fake, database)
