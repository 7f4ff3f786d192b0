"""Every file Heard writes is readable by its owner only (0600), whatever the umask."""

import asyncio
import os
import sqlite3
import stat
from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.instance_lock import InstanceLock
from conversations.loader import flow_to_json, load_flow_file
from storage.private_files import (
    OverDatabase,
    create_private,
    database_files,
    private_database,
    refuse_database_files,
)
from storage.repository import ConsentGiven
from storage.sqlite import SQLiteRepository
from tests.support.bot_harness import SAMPLE_FLOWS

NOW = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def open_umask():
    """Give files the permissions most machines would (0644), unless Heard says otherwise."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


async def answered(path):
    """Open a repository at `path` with one participant's answers saved; return it open."""
    loaded = load_flow_file(SAMPLE_FLOWS / "sample.yaml")
    flow = loaded.flow
    repository = await SQLiteRepository.open(path)
    await repository.register_flow(
        flow.id, flow.version, loaded.content_hash, flow_to_json(flow), NOW
    )
    who = await repository.enrol(
        user_id=111, chat_id=111, language="en", consent=ConsentGiven(flow.id, 1, 1), now=NOW
    )
    run = await repository.start_run(who.code, flow.id, flow.version, "{}", NOW)
    await repository.save(run.id, "{}", "completed", [("visited", "true")], NOW)
    return repository


async def test_the_database_and_its_wal_are_created_0600(tmp_path):
    database = tmp_path / "heard.db"
    repository = await answered(database)
    try:
        files = [database, tmp_path / "heard.db-wal", tmp_path / "heard.db-shm"]
        assert all(path.exists() for path in files)
        assert [mode(path) for path in files] == [0o600] * 3
    finally:
        await repository.close()


async def test_a_database_made_0644_by_an_older_version_is_tightened_when_opened(tmp_path):
    database = tmp_path / "heard.db"
    repository = await answered(database)
    await repository.close()
    # As an older Heard left them: the WAL and shared memory kept, everything 0644.
    with sqlite3.connect(database) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE keep_wal (x)")
        db.execute("INSERT INTO keep_wal VALUES (1)")
        files = [database, tmp_path / "heard.db-wal", tmp_path / "heard.db-shm"]
        for path in files:
            path.chmod(0o644)
        reopened = await SQLiteRepository.open(database)
        try:
            assert [mode(path) for path in files] == [0o600] * 3
        finally:
            await reopened.close()


async def answered_and_closed(path):
    await (await answered(path)).close()


def test_exports_and_reports_are_written_0600(tmp_path, monkeypatch, capsys):
    database = tmp_path / "heard.db"
    asyncio.run(answered_and_closed(database))
    monkeypatch.setenv("HEARD_DATABASE", str(database))
    for fmt in ("csv", "xlsx", "json"):
        out = tmp_path / f"export.{fmt}"
        assert (
            main(["--env-file", os.devnull, "export", "--format", fmt, "--output", str(out)]) == 0
        )
        assert mode(out) == 0o600
    # Written over an export an older version left readable to all: tightened too.
    old = tmp_path / "old.csv"
    old.write_text("old")
    old.chmod(0o644)
    assert main(["--env-file", os.devnull, "export", "--format", "csv", "--output", str(old)]) == 0
    assert mode(old) == 0o600
    report = tmp_path / "report"
    assert main(["--env-file", os.devnull, "report", "--output", str(report)]) == 0
    written = sorted(report.iterdir())
    assert "summary.md" in [path.name for path in written]
    assert any(path.suffix == ".png" for path in written)
    assert {path.name: mode(path) for path in written} == {p.name: 0o600 for p in written}
    assert mode(report) == 0o700


def test_the_lock_file_is_tightened_if_an_older_version_made_it_0644(tmp_path):
    database = tmp_path / "heard.db"
    lock_file = tmp_path / "heard.db.lock"
    lock_file.write_text("")
    lock_file.chmod(0o644)
    lock = InstanceLock.take(database)
    try:
        assert mode(lock_file) == 0o600
    finally:
        lock.release()


def test_create_private_makes_a_new_file_0600_and_leaves_devices_alone(tmp_path):
    made = create_private(tmp_path / "new.txt")
    assert mode(made) == 0o600
    null = os.stat(os.devnull).st_mode
    create_private(type(tmp_path)(os.devnull))
    assert os.stat(os.devnull).st_mode == null


def test_private_database_creates_a_missing_database_0600(tmp_path):
    database = tmp_path / "heard.db"
    private_database(database)
    assert mode(database) == 0o600
    assert database.stat().st_size == 0  # SQLite takes an empty file as a new database


def test_refuse_database_files_names_the_database_and_each_file_beside_it(tmp_path):
    database = tmp_path / "heard.db"
    assert database_files(database) == {
        database.resolve(),
        *(tmp_path.resolve() / f"heard.db{s}" for s in ("-wal", "-shm", "-journal")),
    }
    for target in database_files(database):
        with pytest.raises(OverDatabase, match="refusing to write the report over the database"):
            refuse_database_files(database, [tmp_path / "fine.md", target], "report")
    refuse_database_files(database, [tmp_path / "fine.md"], "report")
