"""A privileged write and its audit entry stand or fall together."""

import sqlite3
from datetime import timedelta

import pytest

from storage.audit import Audit
from storage.repository import StorageUnavailable
from storage.rounds import NewRound
from storage.sqlite import SQLiteRepository
from tests.storage.test_repository import NOW, enrol
from tests.support.audit import entry, entry_from


@pytest.fixture
async def repo(tmp_path):
    repository = await SQLiteRepository.open(tmp_path / "heard.db")
    await repository.register_flow("sample", 1, "hash-1", '{"id": "sample"}', NOW)
    yield repository
    await repository.close()


def audit_fails(path):
    """Make every later insert into the audit log fail, as a full or failing disk would."""
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "CREATE TRIGGER audit_fails BEFORE INSERT ON audit_log "
            "BEGIN INSERT INTO no_such_table VALUES (1); END"
        )
    db.close()


def count(path, sql):
    db = sqlite3.connect(path)
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


def new_round():
    return NewRound("Spring", "sample", NOW, NOW + timedelta(days=14), "staff:1")


async def test_each_privileged_write_and_its_entry_commit_together(repo, tmp_path):
    made = await repo.create_round(new_round(), NOW, entry_from(NOW, "round created"))
    assert await repo.grant_role(42, "staff", 1, entry(NOW, "grant"))
    assert not await repo.grant_role(42, "staff", 1, entry(NOW, "grant"))
    assert await repo.end_round(made.id, "cancelled", NOW, entry(NOW, "round cancelled"))
    participant = await enrol(repo)
    await repo.delete_participant(participant.code, entry_from(NOW, "deleted their data"))
    actions = [e.action for e in reversed(await repo.audit_entries())]
    # A write that changed nothing (the role was already held) wrote no entry either.
    assert actions == ["round created", "grant", "round cancelled", "deleted their data"]
    [created] = [e for e in await repo.audit_entries() if e.action == "round created"]
    assert created.detail == str(made.id)


async def test_a_failed_audit_entry_undoes_a_role_change(repo, tmp_path):
    path = tmp_path / "heard.db"
    assert await repo.grant_role(7, "coordinator", 1, entry(NOW))
    audit_fails(path)
    with pytest.raises(StorageUnavailable):
        await repo.grant_role(42, "safeguarding", 1, entry(NOW))
    with pytest.raises(StorageUnavailable):
        await repo.revoke_role(7, "coordinator", entry(NOW))
    assert await repo.roles_of(42) == set()
    assert await repo.roles_of(7) == {"coordinator"}


async def test_a_failed_audit_entry_undoes_round_and_feedback_writes(repo, tmp_path):
    path = tmp_path / "heard.db"
    made = await repo.create_round(new_round(), NOW, entry_from(NOW))
    await repo.open_due_rounds(NOW)
    audit_fails(path)
    with pytest.raises(StorageUnavailable):
        await repo.create_round(new_round(), NOW, entry_from(NOW))
    with pytest.raises(StorageUnavailable):
        await repo.queue_feedback(made.id, "We open on Saturdays now.", NOW, entry_from(NOW))
    with pytest.raises(StorageUnavailable):
        await repo.end_round(made.id, "cancelled", NOW, entry(NOW))
    assert count(path, "SELECT COUNT(*) FROM rounds") == 1
    found = await repo.round(made.id)
    assert found is not None
    assert found.status == "open"
    assert found.feedback_at is None
    # A round closing at its time writes no entry, so it is not held up by the log.
    assert [r.id for r in await repo.close_due_rounds(NOW + timedelta(days=15))] == [made.id]


async def test_a_failed_audit_entry_keeps_a_participant_and_their_flag_open(repo, tmp_path):
    path = tmp_path / "heard.db"
    participant = await enrol(repo)
    flag = await repo.add_flag(participant.code, None, None, "want to die", "x", NOW)
    audit_fails(path)
    with pytest.raises(StorageUnavailable):
        await repo.delete_participant(participant.code, entry_from(NOW))
    with pytest.raises(StorageUnavailable):
        await repo.review_flag(flag.id, 1, "no action needed", entry(NOW))
    with pytest.raises(StorageUnavailable):
        await repo.note_flag(flag.id, "rang them", entry(NOW))
    with pytest.raises(StorageUnavailable):
        await repo.add_contact_message(
            participant.code,
            "to_participant",
            "hello",
            NOW,
            audit=Audit("staff:1", "reply", "", NOW),
        )
    assert await repo.contact_for_code(participant.code) is not None
    [kept] = await repo.flags()
    assert kept.reviewed_at is None
    assert kept.note is None
    assert count(path, "SELECT COUNT(*) FROM contact_messages") == 0


async def test_a_failed_audit_entry_undoes_a_purge(repo, tmp_path):
    path = tmp_path / "heard.db"
    participant = await enrol(repo)
    run = await repo.start_run(participant.code, "sample", 1, "{}", NOW)
    await repo.save(run.id, "{}", "completed", [("q1", '"old"')], NOW)
    later = NOW + timedelta(days=400)
    audit_fails(path)
    with pytest.raises(StorageUnavailable):
        await repo.purge(later, 365, audit=entry_from(later, "purge"))
    assert [a.value for a in await repo.answers(run.id)] == ['"old"']
