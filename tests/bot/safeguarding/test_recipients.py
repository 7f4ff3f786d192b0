"""Alerts always have somewhere to go: the chat, else safeguarding staff, else the admins."""

import logging

import pytest

from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT
from tests.support.bot_harness import started
from tests.support.chat_user import ChatUser
from tests.support.coordinating import joined
from tests.support.safeguarding import flags_alerted

REVIEWER = 7777


@pytest.fixture
async def start_bot(fake, flows_dir, database, clock):
    """Start Heard with a given safeguarding chat (or none); stopped after the test."""
    bots = []

    async def start(chat):
        bot = await started(
            fake, database, flows_dir, clock, admins=(ADMIN_ID,), safeguarding_chat=chat
        )
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        await bot.stop()


def person(fake, bot, user_id):
    return ChatUser(fake, user_id, settle=bot.settle)


async def flagged(fake, bot, database):
    user = person(fake, bot, 2001)
    await joined(user)
    await user.press("No")
    await user.send("I want to die")
    await flags_alerted(fake, database)
    return user


async def reviewer_named(fake, bot):
    reviewer = person(fake, bot, REVIEWER)
    await reviewer.send("/help")
    await person(fake, bot, ADMIN_ID).send(f"/grant {REVIEWER} safeguarding")
    return reviewer


async def test_recipients_unset_chat_warns_at_start_and_alerts_safeguarding_staff(
    fake, start_bot, database, caplog
):
    with caplog.at_level(logging.WARNING):
        bot = await start_bot(None)
    assert any("HEARD_SAFEGUARDING_CHAT is not set" in r.getMessage() for r in caplog.records)
    reviewer = await reviewer_named(fake, bot)
    await flagged(fake, bot, database)
    alert = reviewer.messages()[-1]
    assert alert.display_text.startswith("Safeguarding flag F-1")
    assert "They wrote: I want to die" in alert.display_text


async def test_recipients_a_group_the_bot_was_never_added_to_goes_to_staff(
    fake, start_bot, database, caplog
):
    with caplog.at_level(logging.WARNING):
        bot = await start_bot(SAFEGUARDING_CHAT)
    [line] = [
        r.getMessage() for r in caplog.records if "HEARD_SAFEGUARDING_CHAT" in r.getMessage()
    ]
    assert f"({SAFEGUARDING_CHAT})" in line
    assert "add the bot to the staff group" in line
    reviewer = await reviewer_named(fake, bot)
    await flagged(fake, bot, database)
    assert reviewer.messages()[-1].display_text.startswith("Safeguarding flag F-1")
    assert fake.chat_messages(SAFEGUARDING_CHAT) == []


async def test_recipients_with_nobody_in_the_role_the_admins_are_alerted(
    fake, start_bot, database
):
    bot = await start_bot(None)
    admin = person(fake, bot, ADMIN_ID)
    await admin.send("/help")
    await flagged(fake, bot, database)
    assert admin.messages()[-1].display_text.startswith("Safeguarding flag F-1")


async def test_recipients_a_bot_removed_from_the_group_falls_back_to_staff(
    fake, start_bot, database
):
    fake.add_bot_to_group(SAFEGUARDING_CHAT)
    bot = await start_bot(SAFEGUARDING_CHAT)
    reviewer = await reviewer_named(fake, bot)
    fake.remove_bot_from_group(SAFEGUARDING_CHAT)
    await flagged(fake, bot, database)
    assert reviewer.messages()[-1].display_text.startswith("Safeguarding flag F-1")
    assert fake.chat_messages(SAFEGUARDING_CHAT) == []


async def test_recipients_a_reachable_group_gets_the_alert_and_nobody_else(
    fake, start_bot, database, caplog
):
    fake.add_bot_to_group(SAFEGUARDING_CHAT)
    with caplog.at_level(logging.WARNING):
        bot = await start_bot(SAFEGUARDING_CHAT)
    assert not any("HEARD_SAFEGUARDING_CHAT" in r.getMessage() for r in caplog.records)
    reviewer = await reviewer_named(fake, bot)
    told = len(reviewer.messages())
    await flagged(fake, bot, database)
    [alert] = fake.chat_messages(SAFEGUARDING_CHAT)
    assert alert.display_text.startswith("Safeguarding flag F-1")
    assert len(reviewer.messages()) == told
