"""The running bot with Heard's own screener: the phrase list, the model and cues together.

The other bot tests pin screening to the phrase list (tests/support/concerns.py) so that a
retrained model cannot change what they see. These start Heard with the shipped screener and
words no phrase matches, so only the model can tell them apart: if the shipped model or its
wiring into the bot breaks, these fail.
"""

import pytest

from bot.safeguarding.screening import Screener
from bot.safeguarding.verdicts import Verdict
from tests.bot.conftest import SAFEGUARDING_CHAT, start_heard
from tests.support.coordinating import at_free_text
from tests.support.database import rows
from tests.support.safeguarding import alerts_in, query_gives

# No phrase of the list matches any of these; the shipped model scores them far apart.
PLANS = "I have sorted out who gets my things and I know which night"
TIRED = "Everything feels too much lately"
ORDINARY = "The crisis team rang back within an hour"


def test_the_words_are_what_these_tests_say_they_are():
    screener = Screener.shipped()
    found = {text: screener.screen(text) for text in (PLANS, TIRED, ORDINARY)}
    assert all(screening.phrase is None for screening in found.values())
    assert [found[text].verdict for text in (PLANS, TIRED, ORDINARY)] == [
        Verdict.FLAG,
        Verdict.CONCERN,
        Verdict.OK,
    ]


@pytest.fixture
async def heard(fake, flows_dir, database, clock):
    bot = await start_heard(fake, database, flows_dir, clock, Screener.shipped())
    yield bot
    await bot.stop()


@pytest.fixture
async def answering(make_user):
    """A participant at the free-text question "Why not?"."""
    return await at_free_text(make_user(2001))


async def test_words_only_the_model_reads_as_risk_get_the_check_in_and_an_alert(
    answering, fake, database
):
    short = "I know which night and who gets my things"
    assert Screener.shipped().screen(short).verdict is Verdict.FLAG
    await answering.send(short)
    assert "Are you safe right now?" in answering.last_text()
    [alert] = await alerts_in(fake, SAFEGUARDING_CHAT)
    assert "risk model" in alert.display_text
    await query_gives(database, "SELECT priority, source FROM flags", [("flag", "answer")])
    assert rows(database, "SELECT flagged FROM answers WHERE step_id = 'why_not'") == [(1,)]


async def test_words_of_risk_too_long_for_the_question_get_the_check_in_not_a_reprompt(
    answering, fake, database
):
    assert len(PLANS) > 50  # the question takes 50 characters
    await answering.send(PLANS)
    assert "Are you safe right now?" in answering.last_text()
    assert not any("characters long" in text for text in answering.texts_since(0))
    await alerts_in(fake, SAFEGUARDING_CHAT)
    await query_gives(database, "SELECT priority, source FROM flags", [("flag", "message")])
    assert rows(database, "SELECT COUNT(*) FROM answers WHERE step_id = 'why_not'") == [(0,)]
    await answering.press("I'm safe — carry on")
    assert "Why not?" in answering.last_text()  # asked again: the words were no answer


async def test_words_the_model_reads_as_hard_get_the_note_and_the_next_question(
    answering, database
):
    shown = len(answering.messages())
    await answering.send(TIRED)
    note, question = answering.texts_since(shown)
    assert note.startswith("Thank you for sharing that.")
    assert "What one thing would you change?" in question
    assert rows(database, "SELECT priority FROM flags") == [("concern",)]
    assert rows(database, "SELECT flagged FROM answers WHERE step_id = 'why_not'") == [(0,)]


async def test_an_ordinary_answer_gets_neither(answering, fake, database):
    shown = len(answering.messages())
    await answering.send(ORDINARY)
    [question] = answering.texts_since(shown)
    assert "What one thing would you change?" in question
    assert rows(database, "SELECT COUNT(*) FROM flags") == [(0,)]
    assert fake.chat_messages(SAFEGUARDING_CHAT) == []
