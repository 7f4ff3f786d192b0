"""Everything a person writes is screened: captions, edits, and words typed before a question."""

import calendar

import pytest

from tests.bot.conftest import SAFEGUARDING_CHAT
from tests.support.bot_harness import InProcessBot, bot_settings
from tests.support.chat_user import ChatUser
from tests.support.coordinating import at_free_text, joined
from tests.support.database import rows, unshown
from tests.support.safeguarding import flags_alerted

RISK = "I want to end my life"


@pytest.fixture
async def answering(fake, heard, make_user):
    """A participant at the free-text question "Why not?"; the group exists."""
    user = make_user(2001)
    await joined(user)
    await user.press("No")
    assert "Why not?" in user.last_text()
    return user


async def test_screen_a_caption_with_words_of_risk_gets_the_check_in(
    answering, fake, heard, database
):
    await heard.settle(fake.send_kind(answering.user_id, "photo", caption=RISK))
    assert answering.last_text().endswith("Are you safe right now?")
    assert "116 123" in answering.last_text()
    await flags_alerted(fake, database)
    assert rows(database, "SELECT source, step_id, text FROM flags") == [("caption", None, RISK)]
    assert rows(database, "SELECT step_id FROM answers") == [("used",)]  # no answer from it
    [alert] = fake.chat_messages(SAFEGUARDING_CHAT)
    assert "Where: the caption of a photo, video or file" in alert.display_text


async def test_screen_a_caption_without_risk_asks_for_typed_words(
    answering, fake, heard, database
):
    await heard.settle(fake.send_kind(answering.user_id, "photo", caption="the clinic"))
    assert answering.messages()[-2].display_text.startswith("I can only read typed words here")
    assert rows(database, "SELECT * FROM flags") == []


async def test_screen_an_edit_with_words_of_risk_gets_the_check_in(
    answering, fake, heard, database
):
    await answering.send("It is too far")
    assert "What one thing would you change?" in answering.last_text()
    [message_id] = fake.user_message_ids(answering.chat_id)[-1:]
    shown = len(answering.messages())
    await heard.settle(fake.edit_text(answering.user_id, message_id, RISK))

    check_in, edits = answering.texts_since(shown)
    assert check_in.endswith("Are you safe right now?")
    assert edits.startswith("I can't see changes to messages")
    await flags_alerted(fake, database)
    assert rows(database, "SELECT source, text FROM flags") == [("edit", RISK)]
    # The answer stays what they first wrote: edits are not answers.
    assert rows(database, "SELECT value FROM answers WHERE step_id = 'why_not'") == [
        ('"It is too far"',)
    ]


async def test_screen_an_edit_without_risk_says_edits_are_not_read(answering, fake, heard):
    await answering.send("It is too far")
    [message_id] = fake.user_message_ids(answering.chat_id)[-1:]
    await heard.settle(fake.edit_text(answering.user_id, message_id, "It is much too far"))
    assert answering.last_text().startswith("I can't see changes to messages")


async def test_screen_text_typed_before_its_question_was_shown_is_no_answer(
    answering, fake, heard, database, clock
):
    # The question "Why not?" was shown at the bot's time; this was typed a minute before.
    before = calendar.timegm(clock.now().timetuple()) - 60
    shown = len(answering.messages())
    await heard.settle(fake.send_text(answering.user_id, "Yes I used it", date=before))

    lead, question = answering.texts_since(shown)
    assert lead.startswith("Your message may have come before this question reached you")
    assert "Why not?" in question
    assert rows(database, "SELECT step_id FROM answers") == [("used",)]
    assert rows(database, "SELECT text, why FROM kept_messages") == [
        ("Yes I used it", "before_question")
    ]
    await answering.send("Too far away")
    assert rows(database, "SELECT value FROM answers WHERE step_id = 'why_not'") == [
        ('"Too far away"',)
    ]


async def test_screen_words_of_risk_typed_before_the_question_are_flagged_not_filed(
    answering, fake, heard, database, clock
):
    before = calendar.timegm(clock.now().timetuple()) - 60
    await heard.settle(fake.send_text(answering.user_id, RISK, date=before))
    assert answering.last_text().endswith("Are you safe right now?")
    await flags_alerted(fake, database)
    assert rows(database, "SELECT source, step_id FROM flags") == [("before_question", None)]
    assert rows(database, "SELECT step_id FROM answers") == [("used",)]
    assert rows(database, "SELECT why FROM kept_messages") == [("before_question",)]


async def test_screen_text_while_the_question_was_not_shown_is_kept_aside(
    fake, flows_dir, database, clock
):
    # No redelivery job in the way: the run stays unshown until the participant writes.
    settings = bot_settings(fake, database, flows_dir, "sample")
    bot = InProcessBot(settings, clock, redelivery_seconds=600)
    await bot.start(fake)
    try:
        user = await at_free_text(ChatUser(fake, 2002, settle=bot.settle))
        unshown(database)
        shown = len(user.messages())
        await user.send("Too far away")

        lead, question = user.texts_since(shown)
        assert lead.startswith("Your message may have come before this question reached you")
        assert "Why not?" in question
        assert rows(database, "SELECT step_id FROM answers") == [("used",)]
        assert rows(database, "SELECT text FROM kept_messages") == [("Too far away",)]
        assert rows(database, "SELECT needs_delivery FROM runs") == [(0,)]
    finally:
        await bot.stop()
