"""A concern while the database is locked: a kind answer and its note, nothing half-kept."""

import sqlite3

import pytest

from tests.bot.conftest import SAFEGUARDING_CHAT, start_heard
from tests.support.concerns import CONCERN, ConcernScreener
from tests.support.coordinating import at_free_text
from tests.support.database import rows

pytestmark = pytest.mark.faults

NOTE = "Thank you for sharing that."


@pytest.fixture
async def heard(fake, flows_dir, database, clock):
    bot = await start_heard(fake, database, flows_dir, clock, ConcernScreener())
    yield bot
    await bot.stop()


async def test_concern_with_the_database_locked_gets_its_note_and_is_asked_again(
    fake, heard, make_user, database
):
    user = await at_free_text(make_user(2001))
    # Another program holds the write lock for longer than the bot waits (5 s).
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        shown = len(user.messages())
        await user.send(CONCERN)
        note, sorry = user.texts_since(shown)
        assert note.startswith(NOTE)
        assert "116 123" in note
        assert sorry.startswith("Sorry, I can't save anything just now")
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Nothing half-kept: no answer, no concern, no spool, no alert from memory (not urgent).
    assert rows(database, "SELECT step_id FROM answers") == [("used",)]
    assert rows(database, "SELECT * FROM flags") == []
    assert not database.with_name(database.name + ".spool").exists()
    assert fake.chat_messages(SAFEGUARDING_CHAT) == []
    # Sent again once the database is free, it is kept like any answer.
    shown = len(user.messages())
    await user.send(CONCERN)
    note, question = user.texts_since(shown)
    assert note.startswith(NOTE)
    assert "What one thing would you change?" in question
    assert rows(database, "SELECT priority, step_id FROM flags") == [("concern", "why_not")]
