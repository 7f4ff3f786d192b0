"""Concerns in storage: flags of lower priority, never alerted, never holding an answer."""

import sqlite3
from datetime import timedelta

import pytest

import storage.migrations
from storage.export import stream_runs
from storage.sqlite import SQLiteRepository
from tests.storage.test_repository import NOW, enrol
from tests.support.audit import entry


@pytest.fixture
async def repo(tmp_path):
    repository = await SQLiteRepository.open(tmp_path / "heard.db")
    await repository.register_flow("sample", 1, "hash-1", '{"id": "sample"}', NOW)
    yield repository
    await repository.close()


async def answered(repo, step="why", value='"some days are hard"'):
    """Return a participant and their run, with one answer stored."""
    participant = await enrol(repo)
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    await repo.save(run.id, "{}", "active", [(step, value)], NOW)
    return participant, run


async def test_concern_migration_makes_every_earlier_flag_a_flag(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    earlier = [m for m in storage.migrations.MIGRATIONS if m[0] < "0008"]
    monkeypatch.setattr(storage.migrations, "MIGRATIONS", earlier)
    old = await SQLiteRepository.open(path)
    await old.close()
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "INSERT INTO flags (phrase, text, created_at) VALUES ('want to die', 'x', ?)",
            (NOW.isoformat(),),
        )
    db.close()
    monkeypatch.undo()

    reopened = await SQLiteRepository.open(path)
    try:
        [flag] = await reopened.flags()
        assert flag.priority == "flag"
    finally:
        await reopened.close()
    db = sqlite3.connect(path)
    try:
        names = [name for (name,) in db.execute("SELECT name FROM schema_migrations")]
        assert names[-1] == "0008_concern_priority"
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            db.execute("UPDATE flags SET priority = 'urgent'")
    finally:
        db.close()


async def test_concern_holds_no_answer_from_exports(repo, tmp_path):
    participant, run = await answered(repo)
    concern = await repo.add_flag(
        participant.code, run.id, "why", "risk model 0.62", "x", NOW, priority="concern"
    )
    assert concern.priority == "concern"
    [exported] = [r for r in stream_runs(tmp_path / "heard.db")]
    assert [a.value for a in exported.answers] == ['"some days are hard"']
    db = sqlite3.connect(tmp_path / "heard.db")
    assert db.execute("SELECT flagged FROM answers").fetchall() == [(0,)]
    db.close()
    # A flag on the same answer holds it, as ever.
    await repo.add_flag(participant.code, run.id, "why", "want to die", "x", NOW)
    [exported] = [r for r in stream_runs(tmp_path / "heard.db")]
    assert [a.value for a in exported.answers] == [None]


async def test_concern_is_never_told_and_comes_after_flags(repo):
    participant, run = await answered(repo)
    concern = await repo.add_flag(
        participant.code, run.id, "why", "risk model 0.62", "x", NOW, priority="concern"
    )
    flag = await repo.add_flag(participant.code, run.id, None, "want to die", "y", NOW)
    assert [f.id for f in await repo.flags_to_tell()] == [flag.id]
    assert [f.id for f in await repo.flags()] == [flag.id, concern.id]
    # Reviewed, a concern is no alert to edit either.
    assert await repo.review_flag(concern.id, 7777, "no action needed", entry(NOW))
    assert [f.id for f in await repo.flags_to_tell()] == [flag.id]
    assert [f.id for f in await repo.flags(open_only=False)] == [flag.id, concern.id]


async def test_concern_is_not_the_open_flag_a_check_in_answers(repo):
    participant, run = await answered(repo)
    concern = await repo.add_flag(
        participant.code, run.id, "why", "risk model 0.62", "x", NOW, priority="concern"
    )
    assert await repo.open_flag_of(participant.code) is None
    assert await repo.check_in_answer(participant.code, run.id, "safe", NOW) is None
    # "I need help now" with only a concern open is a new flag, alerted; the concern stays.
    helped = await repo.check_in_answer(participant.code, run.id, "help", NOW)
    assert helped is not None
    assert (helped.priority, helped.urgent_at, helped.source) == ("flag", NOW, "help_button")
    assert helped.id != concern.id
    assert [f.id for f in await repo.flags_to_tell()] == [helped.id]
    assert await repo.open_flag_of(participant.code) == helped
    kept = await repo.flag(concern.id)
    assert kept is not None
    assert (kept.urgent_at, kept.safe_at) == (None, None)


async def test_concern_words_go_in_the_retention_purge(repo):
    participant, run = await answered(repo)
    await repo.add_flag(
        participant.code, run.id, "why", "risk model 0.62", "x", NOW, priority="concern"
    )
    await repo.purge(NOW + timedelta(days=400), 365)
    [kept] = await repo.flags(open_only=False)
    assert (kept.priority, kept.participant_code, kept.run_id, kept.text) == (
        "concern",
        None,
        None,
        None,
    )
