"""Daily backups: the newest HEARD_BACKUP_KEEP kept, audited; a failure told, the bot going on."""

import logging

import pytest

from bot.backup_schedule import ScheduledBackups
from storage.sqlite import SQLiteRepository
from tests.support.bot_harness import InProcessBot, bot_settings
from tests.support.concerns import PhraseScreener
from tests.support.database import lived_in, rows
from tests.support.told import ToldAdmins


@pytest.fixture
async def repository(database, clock):
    await lived_in(database, 5, clock.now())
    opened = await SQLiteRepository.open(database)
    yield opened
    await opened.close()


async def test_backup_schedule_keeps_the_newest_and_audits_each(
    database, tmp_path, repository, clock
):
    folder = tmp_path / "backups"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a backup")
    (folder / "heard-by-hand.db").write_text("not one of the daily backups")
    told = ToldAdmins()
    backups = ScheduledBackups(database, folder, 3, repository, clock, told)
    taken = []
    for _ in range(5):
        made = await backups.take()
        assert made is not None
        taken.append(made.path.name)
        clock.advance(days=1)
    assert taken[0] == "heard-20260302-100000.db"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*taken[-3:], "notes.txt", "heard-by-hand.db"]
    )
    for name in taken[-3:]:
        assert rows(folder / name, "SELECT COUNT(*) FROM answers") == [(15,)]
    details = rows(database, "SELECT detail FROM audit_log WHERE action = 'backup'")
    assert len(details) == 5
    assert details[-1][0].endswith("kept the newest 3, removed 1")
    assert told.texts == []


async def test_backup_schedule_a_failure_is_told_and_costs_no_backup(
    database, tmp_path, repository, clock, caplog
):
    folder = tmp_path / "backups"
    folder.mkdir()
    told = ToldAdmins()
    backups = ScheduledBackups(database, folder, 1, repository, clock, told)
    first = await backups.take()
    assert first is not None
    with caplog.at_level(logging.ERROR, logger="heard"):
        assert await backups.take() is None  # the same second: that name is taken
    [text] = told.texts
    assert text.startswith("Heard's daily backup failed: ")
    assert "already exists" in text
    assert f"HEARD_BACKUP_DIR ({folder})" in text
    assert "scheduled backup failed" in caplog.text
    assert [p.name for p in folder.iterdir()] == [first.path.name]
    assert rows(first.path, "PRAGMA integrity_check") == [("ok",)]
    assert rows(database, "SELECT action FROM audit_log ORDER BY id") == [
        ("backup",),
        ("backup failed",),
    ]


async def test_backup_schedule_the_bot_schedules_it_at_the_set_time(
    fake, database, flows_dir, clock, tmp_path, caplog
):
    folder = tmp_path / "backups"
    folder.mkdir()
    settings = bot_settings(
        fake,
        database,
        flows_dir,
        "sample",
        heard_backup_dir=folder,
        heard_backup_keep=4,
        heard_backup_time="2:15",
    )
    bot = InProcessBot(settings, clock, screener=PhraseScreener())
    with caplog.at_level(logging.INFO, logger="heard"):
        await bot.start(fake)
        await bot.stop()
    assert (
        f"a backup every day at 02:15 (Europe/London) into {folder}, keeping the newest 4"
        in caplog.text
    )
