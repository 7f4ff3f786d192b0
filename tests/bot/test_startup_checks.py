"""Start-up checks: a damaged database, or a clock behind the stored data, stops the bot."""

import os
from datetime import timedelta

import pytest

from bot.app import StartupError
from bot.cli import main
from tests.support.bot_harness import InProcessBot, bot_settings
from tests.support.database import lived_in, overwrite_pages, rows


@pytest.fixture
def settings(fake, database, flows_dir):
    return bot_settings(fake, database, flows_dir, "sample")


async def test_startup_a_damaged_database_stops_the_bot_pointing_to_restore(
    fake, settings, database, clock
):
    await lived_in(database, 30, clock.now())
    overwrite_pages(database, 12, 4)
    bot = InProcessBot(settings, clock)
    with pytest.raises(StartupError) as error:
        await bot.start(fake)
    message = str(error.value)
    assert message.startswith(f"HEARD_DATABASE: {database} is damaged (")
    assert "`heard restore PATH`" in message
    assert "\n" not in message
    assert not [call for call in fake.calls if call.method == "getUpdates"]


async def test_startup_a_whole_database_starts(fake, settings, database, clock):
    await lived_in(database, 30, clock.now())
    bot = InProcessBot(settings, clock)
    await bot.start(fake)
    await bot.stop()


async def test_startup_a_clock_behind_the_stored_data_stops_the_bot(
    fake, settings, database, clock
):
    await lived_in(database, 2, clock.now() + timedelta(days=3))
    bot = InProcessBot(settings, clock)
    with pytest.raises(StartupError) as error:
        await bot.start(fake)
    assert str(error.value).startswith(
        "the clock says 2026-03-02 10:00 UTC, but the database holds data written at "
        "2026-03-05 10:00 UTC"
    )
    assert rows(database, "SELECT COUNT(*) FROM answers") == [(6,)]


async def test_startup_a_clock_a_little_behind_still_starts(fake, settings, database, clock):
    await lived_in(database, 2, clock.now() + timedelta(minutes=2))
    bot = InProcessBot(settings, clock)
    await bot.start(fake)
    await bot.stop()


async def test_cli_check_reports_a_damaged_database_and_exits_2(
    database, clock, capsys, monkeypatch
):
    for name in list(os.environ):
        if name.startswith(("HEARD_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    await lived_in(database, 30, clock.now())
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    assert main(["--env-file", os.devnull, "check"]) == 0
    overwrite_pages(database, 12, 4)
    capsys.readouterr()
    assert main(["--env-file", os.devnull, "check"]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"heard: HEARD_DATABASE: {database} is damaged (")
    assert line.endswith(
        "restore the newest good backup with `heard restore PATH` (README: Backups)"
    )
