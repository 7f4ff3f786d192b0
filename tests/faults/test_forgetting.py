"""Deleting a person leaves nothing of them: not in the database, not in its -wal file.

The words and the Telegram id are looked for in the raw bytes of both files, after /delete
and after the retention purge: SQLite keeps old copies of pages in the WAL until a checkpoint,
and deleted rows on free pages unless secure_delete is on.
"""

import struct
from pathlib import Path

import pytest

from bot.retention import purge_expired
from bot.settings import load_settings
from storage.sqlite import SQLiteRepository
from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT
from tests.support.coordinating import code_of, joined
from tests.support.database import rows
from tests.support.safeguarding import alerts_in, flags_alerted, until

pytestmark = pytest.mark.faults

PERSON = 7_316_254_981  # a Telegram id that needs six bytes, as many real ones do
REVIEWER = 7777
WORDS = ("Zebracorn clinic", "zebracorn tonight", "ring me zebracorn", "zebracorn note")


def raw(database: Path) -> bytes:
    """Return the bytes of the database and its WAL, as a disk image would hold them."""
    found = b""
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            found += path.read_bytes()
    return found


def traces(database: Path) -> list[str]:
    """Name every trace of the person (words, Telegram id) left in the files."""
    data = raw(database).lower()
    left = [w for w in WORDS if w.lower().encode() in data]
    forms = {
        "id as text": str(PERSON).encode(),
        "id as a 6-byte integer": PERSON.to_bytes(6, "big"),
        "id as an 8-byte integer": struct.pack(">q", PERSON),
    }
    return left + [name for name, form in forms.items() if form in data]


async def lived(fake, heard, make_user, database):
    """A participant answers, writes words of risk, is noted on and messaged: all of it kept."""
    person = make_user(PERSON)
    await joined(person)
    await person.press("No")
    await person.send("Zebracorn clinic is too far")
    await person.send("I want to die, zebracorn tonight")
    await person.press("I'm safe — carry on")
    await flags_alerted(fake, database)
    reviewer = make_user(REVIEWER)
    await reviewer.send("/help")
    await make_user(ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    await reviewer.send("/note 1 Rang the duty worker about zebracorn note")
    code = code_of(database, PERSON)
    await reviewer.send(f"/reply {code} Would you like a call?")
    await person.press("Reply")
    await person.send("yes, ring me zebracorn")
    await alerts_in(fake, SAFEGUARDING_CHAT, 2)
    assert traces(database)  # the test can see them while they are kept
    return person


async def test_forgetting_delete_leaves_no_trace_in_the_database_or_its_wal(
    fake, heard, make_user, database
):
    person = await lived(fake, heard, make_user, database)
    await person.send("/delete")
    assert "a person at the charity was told" in person.last_text()
    assert "where Telegram lets it" in person.last_text()
    await person.press("Yes, delete my data")
    assert person.last_text().startswith("Your data has been deleted.")

    assert traces(database) == []
    # The review record stays, with no words and nothing pointing back to them.
    assert rows(database, "SELECT participant_code, text, note FROM flags") == [(None, None, None)]
    assert rows(database, "SELECT COUNT(*) FROM contact_messages") == [(0,)]

    def group_has_no_words():
        shown = [m for m in fake.chat_messages(SAFEGUARDING_CHAT) if not m.deleted]
        return not any("zebracorn" in m.display_text.lower() for m in shown)

    await until(group_has_no_words)


async def test_forgetting_the_retention_purge_leaves_no_trace(
    fake, heard, make_user, database, flows_dir, clock
):
    await lived(fake, heard, make_user, database)
    clock.advance(days=800)
    settings = load_settings(None, heard_database=database, heard_conversations=flows_dir)
    repository = await SQLiteRepository.open(database)
    try:
        purged = await purge_expired(repository, settings, clock, "test")
    finally:
        await repository.close()
    assert purged.participants == 1

    assert traces(database) == []
    assert rows(database, "SELECT text, note FROM flags") == [(None, None)]
