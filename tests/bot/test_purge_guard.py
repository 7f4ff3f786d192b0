"""The daily purge holds back when the clock looks wrong or it would delete too much."""

import asyncio
import os
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from bot.purge_guard import PurgeGuard, hold_reason
from bot.settings import load_settings
from storage.repository import Purged
from storage.sqlite import SQLiteRepository
from storage.vitals import Activity
from tests.bot.conftest import ADMIN_ID
from tests.support.bot_harness import FixedClock, InProcessBot, bot_settings
from tests.support.concerns import PhraseScreener
from tests.support.database import lived_in, rows
from tests.support.told import ToldAdmins

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def audit_actions(database):
    return [action for (action,) in rows(database, "SELECT action FROM audit_log ORDER BY id")]


async def test_purge_guard_a_clock_1100_days_ahead_deletes_nothing_and_tells_the_admins(
    fake, database, flows_dir, clock
):
    await lived_in(database, 8, clock.now())
    clock.advance(days=1100)
    fake.add_private_chat(ADMIN_ID)
    settings = bot_settings(fake, database, flows_dir, "sample", heard_admins=(ADMIN_ID,))
    bot = InProcessBot(settings, clock, screener=PhraseScreener(), purge_first_seconds=0.05)
    await bot.start(fake)
    try:
        await fake.wait_for(lambda: bool(fake.chat_messages(ADMIN_ID)), timeout=10)
    finally:
        await bot.stop()
    [told] = [m.display_text for m in fake.chat_messages(ADMIN_ID)]
    assert told.startswith("Heard held back today's retention purge and deleted nothing: ")
    assert "nothing has been written for 1100 days" in told
    assert "It would delete 8 conversation(s), 24 answer(s) and 8 participant(s)." in told
    assert "`heard purge --yes`" in told
    assert rows(database, "SELECT COUNT(*) FROM answers") == [(24,)]
    assert rows(database, "SELECT COUNT(*) FROM participants") == [(8,)]
    assert "purge" not in audit_actions(database)
    [detail] = rows(database, "SELECT detail FROM audit_log WHERE action = 'purge held'")
    assert detail[0].endswith("would delete runs 8, answers 24, participants 8")


async def test_purge_guard_an_ordinary_purge_goes_ahead(database):
    await lived_in(database, 10, NOW)
    await lived_in(database, 1, NOW - timedelta(days=800), first_user=900)
    told = ToldAdmins()
    repository = await SQLiteRepository.open(database)
    try:
        settings = load_settings(None, heard_database=database)
        guard = PurgeGuard(repository, settings, FixedClock(NOW), told)
        purged = await guard.daily()
    finally:
        await repository.close()
    assert purged == Purged(runs=1, answers=3, participants=1)
    assert told.texts == []
    assert rows(database, "SELECT COUNT(*) FROM runs") == [(10,)]
    assert audit_actions(database) == ["purge"]


def test_purge_guard_more_than_a_quarter_waits_for_heard_purge_yes(database, capsys, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("HEARD_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    now = datetime.now(UTC)  # `heard purge` goes by the system clock
    asyncio.run(lived_in(database, 10, now - timedelta(hours=1)))
    asyncio.run(lived_in(database, 6, now - timedelta(days=800), first_user=900))
    told = ToldAdmins()
    settings = load_settings(None, heard_database=database)

    async def in_a_loop():
        repository = await SQLiteRepository.open(database)
        try:
            return await PurgeGuard(repository, settings, FixedClock(now), told).daily()
        finally:
            await repository.close()

    def daily():
        return asyncio.run(in_a_loop())

    assert daily() is None
    [text] = told.texts
    assert "it would delete 6 of the 16 conversations at once, more than a quarter" in text
    assert daily() is None  # still held: told once, nothing deleted
    assert len(told.texts) == 1
    assert rows(database, "SELECT COUNT(*) FROM runs") == [(16,)]

    assert main(["--env-file", os.devnull, "purge"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "would delete 6 conversation(s), 18 answer(s) and 6 participant(s) older than 730 days"
    )
    assert out[1].startswith("the daily purge is held since ")
    assert out[2].startswith("nothing was deleted: ")
    assert rows(database, "SELECT COUNT(*) FROM runs") == [(16,)]

    assert main(["--env-file", os.devnull, "purge", "--yes"]) == 0
    assert capsys.readouterr().out.startswith("deleted 6 conversation(s), 18 answer(s)")
    assert rows(database, "SELECT COUNT(*) FROM runs") == [(10,)]
    assert daily() == Purged(0, 0, 0)  # the hold is over
    assert audit_actions(database) == ["purge held", "purge", "purge"]


@pytest.mark.parametrize(
    ("preview", "activity", "now", "held"),
    [
        (Purged(1, 3, 1), Activity(10, NOW), NOW, None),
        (Purged(3, 9, 3), Activity(4, NOW), NOW, None),  # few: never held for size
        (Purged(4, 12, 4), Activity(16, NOW), NOW, None),  # a quarter exactly
        (Purged(5, 15, 5), Activity(16, NOW), NOW, "it would delete 5 of the 16"),
        (Purged(1, 3, 1), Activity(16, NOW), NOW - timedelta(hours=1), "is behind"),
        (Purged(1, 3, 1), Activity(16, NOW), NOW - timedelta(minutes=5), None),
        (Purged(0, 0, 0), Activity(16, NOW), NOW - timedelta(hours=1), None),  # none to go
        (Purged(1, 1, 1), Activity(16, NOW), NOW + timedelta(days=731), "for 731 days"),
        (Purged(0, 0, 0), Activity(0, None), NOW, None),
    ],
)
def test_purge_guard_hold_reason(preview, activity, now, held):
    reason = hold_reason(preview, activity, now, 730)
    if held is None:
        assert reason is None
    else:
        assert reason is not None
        assert held in reason
