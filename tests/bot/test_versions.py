"""Editing a live conversation never corrupts results: versions are kept and honoured."""

import pytest

from storage.repository import FlowVersionConflict
from tests.support.bot_harness import InProcessBot, bot_settings
from tests.support.chat_user import ChatUser


async def started(fake, flows_dir, database, clock):
    bot = InProcessBot(bot_settings(fake, database, flows_dir, "sample"), clock)
    await bot.start(fake)
    return bot


async def test_versions_participant_mid_way_keeps_their_version(fake, flows_dir, database, clock):
    bot = await started(fake, flows_dir, database, clock)
    alice = ChatUser(fake, 5001, settle=bot.settle)
    await alice.send("/start")
    await alice.press("Yes, I'm 18 or older")
    await alice.press("Yes, I agree")
    await alice.press("Yes")
    assert "How was it?" in alice.last_text()
    await bot.stop()

    sample = flows_dir / "sample.yaml"
    text = sample.read_text()
    sample.write_text(
        text.replace("version: 1\ntitle", "version: 2\ntitle").replace(
            '"How was it?"', '"How good was it?"'
        )
    )
    bot = await started(fake, flows_dir, database, clock)
    alice = ChatUser(fake, 5001, settle=bot.settle)
    bob = ChatUser(fake, 5002, settle=bot.settle)
    try:
        await alice.press("4")
        await alice.send("/back")
        assert "How was it?" in alice.last_text()
        await bob.send("/start")
        await bob.press("Yes, I'm 18 or older")
        await bob.press("Yes, I agree")
        await bob.press("Yes")
        assert "How good was it?" in bob.last_text()
    finally:
        await bot.stop()


async def test_versions_changed_file_with_same_version_is_refused(
    fake, flows_dir, database, clock
):
    bot = await started(fake, flows_dir, database, clock)
    await bot.stop()
    sample = flows_dir / "sample.yaml"
    sample.write_text(sample.read_text().replace('"How was it?"', '"How good was it?"'))
    bot = InProcessBot(bot_settings(fake, database, flows_dir, "sample"), clock)
    with pytest.raises(FlowVersionConflict, match="'sample' version 1 has changed"):
        await bot.start(fake)


async def test_versions_comments_and_layout_are_not_changes(fake, flows_dir, database, clock):
    bot = await started(fake, flows_dir, database, clock)
    await bot.stop()
    sample = flows_dir / "sample.yaml"
    sample.write_text(
        "# A new comment at the top\n"
        + sample.read_text().replace("\nsteps:\n", "\n\n# The steps, in order\nsteps:  \n")
    )
    bot = await started(fake, flows_dir, database, clock)
    await bot.stop()
