"""`heard restore`: a checked backup in the database's place, the old one kept, bot stopped."""

import asyncio
import os
import sqlite3
import stat

import pytest

from bot.backup import take_backup
from bot.cli import main
from bot.instance_lock import InstanceLock
from tests.support.bot_harness import FixedClock
from tests.support.database import lived_in, overwrite_pages, rows


@pytest.fixture
def restoring(tmp_path, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("HEARD_", "TELEGRAM_")):
            monkeypatch.delenv(name)
    database = tmp_path / "heard.db"
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    asyncio.run(lived_in(database, 5, FixedClock().now()))
    return database


def restore(*args):
    return main(["--env-file", os.devnull, "restore", *map(str, args)])


def test_restore_round_trip_keeps_the_answers_and_the_old_database(restoring, capsys):
    database = restoring
    backup = take_backup(database, database.with_name("backup.db")).path
    lost = sqlite3.connect(database)  # after the backup: answers lost, and a WAL left behind
    lost.execute("PRAGMA journal_mode=WAL")
    lost.execute("DELETE FROM answers")
    lost.commit()
    assert rows(database, "SELECT COUNT(*) FROM answers") == [(0,)]

    assert restore(backup) == 0
    lost.close()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"restored {database} from {backup}: ")
    assert rows(database, "SELECT COUNT(*) FROM answers") == [(15,)]
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    [kept] = database.parent.glob("heard.db.before-restore-*")
    assert out[1] == f"kept the old database as {kept}: delete it when you are sure"
    assert rows(kept, "SELECT COUNT(*) FROM answers") == [(0,)]  # the old one, whole
    assert not database.with_name("heard.db-shm").exists()
    assert not database.with_name("heard.db-wal").exists()
    assert not list(database.parent.glob(".*restoring"))
    assert main(["--env-file", os.devnull, "audit"]) == 0
    assert f"heard restore: restore from {backup}: " in capsys.readouterr().out


def test_restore_is_refused_while_the_bot_holds_the_lock(restoring, capsys):
    database = restoring
    backup = take_backup(database, database.with_name("backup.db")).path
    before = database.read_bytes()
    lock = InstanceLock.take(database)
    try:
        assert restore(backup) == 2
    finally:
        lock.release()
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("heard: refusing to restore while the bot runs: ")
    assert f"(process {os.getpid()})" in line
    assert database.read_bytes() == before
    assert not list(database.parent.glob("heard.db.before-restore-*"))


def test_restore_refuses_what_is_not_a_good_heard_backup(restoring, capsys):
    database = restoring
    folder = database.parent
    garbage = folder / "garbage.db"
    garbage.write_bytes(b"not a database at all " * 500)
    other = folder / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    newer = take_backup(database, folder / "newer.db").path
    with sqlite3.connect(newer) as db:
        db.execute("INSERT INTO schema_migrations VALUES ('0099_from_the_future', 'x')")
    damaged = take_backup(database, folder / "damaged.db").path
    overwrite_pages(damaged, 12, 4)
    before = database.read_bytes()
    expected = {
        folder / "missing.db": "there is no backup at",
        database: "is the database itself",
        garbage: "file is not a database",
        other: "is not a Heard database",
        newer: "was written by a newer Heard (migrations this version does not know: "
        "0099_from_the_future)",
        damaged: "malformed",
    }
    for backup, why in expected.items():
        assert restore(backup) == 2, backup
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith("heard: "), line
        assert why in line, line
    assert database.read_bytes() == before
    assert not list(folder.glob("heard.db.before-restore-*"))
    assert not list(folder.glob(".*restoring"))


def test_restore_onto_a_missing_database_needs_nothing_moved(restoring, capsys):
    database = restoring
    backup = take_backup(database, database.with_name("backup.db")).path
    database.unlink()
    assert restore(backup) == 0
    assert rows(database, "SELECT COUNT(*) FROM answers") == [(15,)]
    assert len(capsys.readouterr().out.splitlines()) == 1
