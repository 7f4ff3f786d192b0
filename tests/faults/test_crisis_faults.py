"""Words of risk reach a person through every fault: Telegram timing out, the database locked.

(The database refusing writes because the disk is full is in test_disk_full.py: it needs the
bot as a process of its own.)
"""

import sqlite3
import time

import pytest

from storage.repository import StorageUnavailable
from storage.sqlite import SQLiteRepository
from tests.bot.conftest import SAFEGUARDING_CHAT
from tests.support.coordinating import joined
from tests.support.database import rows
from tests.support.safeguarding import flags_alerted, query_gives, until

pytestmark = pytest.mark.faults

RISK = "I want to kill myself tonight"
SEED = 20261207


@pytest.fixture
async def at_free_text(fake, heard, make_user):
    """A participant at the free-text question; the safeguarding group exists."""
    user = make_user(2001)
    await joined(user)
    await user.press("No")
    return user


async def test_crisis_timeout_at_the_check_in_keeps_the_flag_and_the_alert(
    at_free_text, fake, database
):
    # The edit of the question and the check-in both time out (Telegram takes the call and
    # never answers, past python-telegram-bot's 5 s read timeout).
    chaos = fake.chaos(
        seed=SEED,
        error_rate=0.0,
        timeout_rate=1.0,
        hang_seconds=6.0,
        methods=["editMessageText", "sendMessage"],
    )
    fake.send_text(at_free_text.user_id, RISK)
    # Stored with the answer, before anything was sent: the answer is held from exports.
    await query_gives(database, "SELECT step_id, text FROM flags", [("why_not", RISK)])
    assert rows(database, "SELECT flagged FROM answers WHERE step_id = 'why_not'") == [(1,)]
    # The edit, the check-in and the first alert all went unanswered before Telegram recovers.
    await until(lambda: sum(chaos.injected.values()) >= 3, timeout=10)
    fake.calm()
    await flags_alerted(fake, database, timeout=30)
    # An alert whose answer was lost may have reached the group too: twice, never none.
    alerts = [m for m in fake.chat_messages(SAFEGUARDING_CHAT) if "F-1" in m.display_text]
    assert alerts
    assert all(f"They wrote: {RISK}" in m.display_text for m in alerts)

    def checked_in():
        return any(
            m.display_text.endswith("Are you safe right now?")
            for m in fake.chat_messages(at_free_text.chat_id)
        )

    await until(checked_in, timeout=30)  # the redelivery job shows the check-in


async def test_crisis_database_locked_still_gives_support_and_an_alert(
    at_free_text, fake, database
):
    # Another program holds the write lock for longer than the bot waits (5 s).
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        sent = time.monotonic()
        fake.send_text(at_free_text.user_id, RISK)

        def supported():
            return any("999" in m.display_text for m in fake.chat_messages(at_free_text.chat_id))

        await until(supported, timeout=5)
        support_seconds = time.monotonic() - sent
        assert support_seconds < 2.5, f"support took {support_seconds:.1f} s"

        def unstored_alert():
            return any(
                "NOT STORED YET" in m.display_text for m in fake.chat_messages(SAFEGUARDING_CHAT)
            )

        await until(unstored_alert, timeout=15)
        [alert] = fake.chat_messages(SAFEGUARDING_CHAT)
        assert f"They wrote: {RISK}" in alert.display_text
        assert "database is locked" in alert.display_text
        texts = [m.display_text for m in fake.chat_messages(at_free_text.chat_id)]
        assert not any("answers so far are safe" in t for t in texts)
        assert any("could not save your message" in t for t in texts)
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Once the database takes writes again, the flag is stored and the group told its number.
    await query_gives(database, "SELECT text, stored_at IS NOT NULL FROM flags", [(RISK, 1)], 20)

    def stored_note():
        posted = fake.chat_messages(SAFEGUARDING_CHAT)
        return any("is now stored as F-1" in m.display_text for m in posted)

    await until(stored_note, timeout=10)
    assert rows(database, "SELECT alerted_at IS NOT NULL FROM flags") == [(1,)]


async def test_crisis_need_help_now_reaches_a_person_when_the_database_cannot_be_read(
    at_free_text, fake, database, monkeypatch
):
    fake.send_text(at_free_text.user_id, RISK)
    await until(lambda: "Are you safe right now?" in at_free_text.last_text(), timeout=10)
    await flags_alerted(fake, database)

    # The read of who pressed the button fails as a failing disk makes it fail (SQLite's own
    # locks cannot stop a reader in WAL mode, so the failure is put at the repository's edge).
    async def unreadable(self, user_id):
        raise StorageUnavailable("disk I/O error")

    monkeypatch.setattr(SQLiteRepository, "contact_and_run", unreadable)
    await at_free_text.press("I need help now")

    def urgent_lines():
        return any(
            "999" in m.display_text and "could not save" in m.display_text
            for m in fake.chat_messages(at_free_text.chat_id)
        )

    await until(urgent_lines, timeout=10)

    def urgent_post():
        return any(
            m.display_text.startswith("URGENT: safeguarding alert U-")
            and "They pressed “I need help now”." in m.display_text
            and "disk I/O error" in m.display_text
            for m in fake.chat_messages(SAFEGUARDING_CHAT)
        )

    await until(urgent_post, timeout=10)
    # The database answers again: the press is stored as its own flag, and the group is told.
    monkeypatch.undo()
    await query_gives(
        database,
        "SELECT source, stored_at IS NOT NULL FROM flags ORDER BY id",
        [("answer", 0), ("help_button", 1)],
        20,
    )
