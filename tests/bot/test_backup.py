"""`heard backup`: a consistent, verified, private copy of the database while the bot writes."""

import asyncio
import os
import sqlite3
import stat

import pytest

from bot.backup import BackupError, take_backup
from bot.cli import main
from storage.sqlite import SQLiteRepository


def make_database(path):
    async def fill():
        repository = await SQLiteRepository.open(path)
        await repository.close()

    asyncio.run(fill())
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE notes (text TEXT)")
    writer.executemany("INSERT INTO notes VALUES (?)", [(f"note {n}",) for n in range(500)])
    return writer


def test_a_backup_holds_what_is_still_in_the_wal_and_nothing_uncommitted(tmp_path):
    database = tmp_path / "heard.db"
    writer = make_database(database)
    try:
        # Committed rows still in the WAL: a plain copy of heard.db would not have them.
        assert (tmp_path / "heard.db-wal").stat().st_size > 0
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO notes VALUES ('not committed')")  # the bot mid-write
        made = take_backup(database, tmp_path / "backup.db")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    copy = sqlite3.connect(made.path)
    assert copy.execute("SELECT COUNT(*) FROM notes").fetchone() == (500,)
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # one file
    copy.close()
    assert made.tables["notes"] == 500
    assert "participants" in made.tables
    assert stat.S_IMODE(os.stat(made.path).st_mode) == 0o600
    assert not list(tmp_path.glob(".*partial"))


def test_a_backup_refuses_to_write_over_the_database_or_an_existing_file(tmp_path):
    database = tmp_path / "heard.db"
    make_database(database).close()
    for target in (database, tmp_path / "heard.db-wal", tmp_path / "./heard.db-shm"):
        with pytest.raises(BackupError, match="over the database itself"):
            take_backup(database, target)
    existing = tmp_path / "old.db"
    existing.write_text("keep me")
    with pytest.raises(BackupError, match="already exists"):
        take_backup(database, existing)
    assert existing.read_text() == "keep me"
    assert take_backup(database, existing, replace=True).tables["notes"] == 500


def test_a_backup_names_what_is_missing(tmp_path):
    with pytest.raises(BackupError, match="there is no database"):
        take_backup(tmp_path / "none.db", tmp_path / "b.db")
    database = tmp_path / "heard.db"
    make_database(database).close()
    with pytest.raises(BackupError, match="does not exist"):
        take_backup(database, tmp_path / "no-folder" / "b.db")


def test_cli_backup_prints_the_counts_and_audits(tmp_path, capsys, monkeypatch):
    database = tmp_path / "heard.db"
    make_database(database).close()
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    target = tmp_path / "b.db"
    assert main(["--env-file", os.devnull, "backup", str(target)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"backed up {database} to {target}: ")
    assert "integrity check ok" in out
    assert "\nnotes\t500\n" in out
    assert main(["--env-file", os.devnull, "backup", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["--env-file", os.devnull, "audit"]) == 0
    assert "heard backup: backup to " in capsys.readouterr().out


def test_cli_export_refuses_to_write_over_the_database(tmp_path, capsys, monkeypatch):
    database = tmp_path / "heard.db"
    make_database(database).close()
    before = database.read_bytes()
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    code = main(["--env-file", os.devnull, "export", "--format", "csv", "--output", str(database)])
    assert code == 2
    assert "refusing to write the export over the database" in capsys.readouterr().err
    assert database.read_bytes() == before
