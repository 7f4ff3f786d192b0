"""A full disk: the database (and the spool beside it) refuse writes, and words of risk still
get the support lines at once and reach a person; the flag is stored once the disk has room.

The disk is "full" for `heard run` alone: its file-size limit (RLIMIT_FSIZE) is set to one
byte while it runs, so every write that would grow a file fails, as on a full disk. Python
ignores SIGXFSZ, so the bot sees the error and carries on.
"""

import resource
from functools import partial

import pytest

from tests.bot.conftest import SAFEGUARDING_CHAT
from tests.support.bot_harness import BotProcess, bot_environment
from tests.support.chat_user import ChatUser
from tests.support.database import rows
from tests.support.safeguarding import until

pytestmark = [pytest.mark.faults, pytest.mark.slow]

RISK = "I want to kill myself tonight"


@pytest.fixture
def process(fake, flows_dir, database, tmp_path):
    env = bot_environment(fake, database, flows_dir, "sample")
    env["HEARD_SAFEGUARDING_CHAT"] = str(SAFEGUARDING_CHAT)
    bot = BotProcess(env, tmp_path / "bot.log")
    yield bot
    if bot.process is not None and bot.process.poll() is None:
        bot.kill()


def disk_full(pid: int, full: bool) -> None:
    """Let the process grow no file (full), or any (room again)."""
    _, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (1 if full else hard, hard))


def texts(fake, chat):
    return [m.display_text for m in fake.chat_messages(chat) if not m.deleted]


async def test_disk_full_words_of_risk_get_support_and_an_alert_then_a_flag(
    fake, process, database
):
    fake.add_bot_to_group(SAFEGUARDING_CHAT)
    await process.start(fake)
    assert process.process is not None
    user = ChatUser(fake, 6101, settle=lambda update_id: until(lambda: True))
    fake.send_text(user.user_id, "/start")
    for button, then in (
        ("Yes, I'm 18 or older", "happy to take part"),
        ("Yes, I agree", "Question 1"),
        ("No", "Why not?"),
    ):
        await until(partial(_shows_button, user, button), 20)
        await user.press(button)
        await until(partial(_last_says, fake, user.chat_id, then), 20)

    disk_full(process.process.pid, True)
    try:
        fake.send_text(user.user_id, RISK)
        await until(lambda: any("999" in t for t in texts(fake, user.chat_id)), 10)
        await until(lambda: any("NOT STORED YET" in t for t in texts(fake, SAFEGUARDING_CHAT)), 20)
        [alert] = texts(fake, SAFEGUARDING_CHAT)
        assert f"They wrote: {RISK}" in alert
        assert "kept only in the bot's memory" in alert  # the spool file could not be written
        assert rows(database, "SELECT * FROM flags") == []
    finally:
        disk_full(process.process.pid, False)

    await until(lambda: rows(database, "SELECT text FROM flags") == [(RISK,)], 30)
    await until(
        lambda: any("is now stored as F-1" in t for t in texts(fake, SAFEGUARDING_CHAT)), 10
    )
    assert not any("answers so far are safe" in t for t in texts(fake, user.chat_id))
    assert process.terminate() == 0


def _shows_button(user, label):
    try:
        return label in user.buttons()
    except AssertionError:  # no buttons yet
        return False


def _last_says(fake, chat, words):
    shown = texts(fake, chat)
    return bool(shown) and words in shown[-1]
