"""The repository's one-trip transactions: whole or nothing, in order, durable."""

import asyncio
import sqlite3
from datetime import UTC, datetime

import pytest

from storage.repository import ConsentGiven, StorageUnavailable
from storage.sqlite import SQLiteRepository

NOW = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)


@pytest.fixture
async def repo(tmp_path):
    repository = await SQLiteRepository.open(tmp_path / "heard.db")
    await repository.register_flow("sample", 1, "hash-1", '{"id": "sample"}', NOW)
    yield repository
    await repository.close()


async def start(repo, user_id=1001):
    participant = await repo.enrol(
        user_id=user_id,
        chat_id=user_id,
        language="en",
        consent=ConsentGiven("sample", 1, 1),
        now=NOW,
    )
    return await repo.start_run(participant.code, "sample", 1, "{}", NOW)


async def test_sqlite_base_atomic_failure_keeps_nothing_and_the_connection_works(repo):
    run = await start(repo)

    def half_then_fail(db):
        db.execute("UPDATE runs SET state = 'half' WHERE id = ?", (run.id,))
        raise sqlite3.IntegrityError("a failure after the first statement")

    with pytest.raises(sqlite3.IntegrityError):
        await repo._atomic(half_then_fail)
    assert (await repo.run(run.id)).state == "{}"
    # Not left inside a transaction: the next write commits on its own.
    await repo.save(run.id, '{"n": 1}', "in_progress", [("q", '"a"')], NOW)
    assert (await repo.run(run.id)).state == '{"n": 1}'


async def test_sqlite_base_a_commit_that_fails_is_rolled_back_and_the_connection_works(repo):
    run = await start(repo)
    other = await start(repo, user_id=1002)
    writing = []

    def write_not_read_to_its_end(db):
        # An UPDATE ... RETURNING not read to its end is still in progress: SQLite refuses to
        # COMMIT (as it does when a disk fills), and the transaction is left open.
        writing.append(db.execute("UPDATE runs SET state = 'half' RETURNING id"))
        writing[0].fetchone()

    with pytest.raises(StorageUnavailable, match="in progress"):
        await repo._atomic(write_not_read_to_its_end)
    writing.clear()  # the statement is finished with; the transaction must not linger
    assert (await repo.run(run.id)).state == "{}"
    assert (await repo.run(other.id)).state == "{}"
    await repo.save(run.id, '{"n": 1}', "in_progress", [("q", '"a"')], NOW)
    assert (await repo.run(run.id)).state == '{"n": 1}'


async def test_sqlite_base_save_is_whole_when_an_answer_fails(repo):
    run = await start(repo)
    # The second answer's run does not exist: the foreign key fails after the run's update.
    with pytest.raises(sqlite3.IntegrityError):
        await repo._atomic(
            lambda db: (
                db.execute("UPDATE runs SET state = 'x' WHERE id = ?", (run.id,)),
                db.execute(
                    "INSERT INTO answers (run_id, step_id, value, answered_at, seq) "
                    "VALUES (999, 'q', '1', ?, 1)",
                    (NOW.isoformat(),),
                ),
            )
        )
    assert (await repo.run(run.id)).state == "{}"
    assert await repo.answers(run.id) == []


async def test_sqlite_base_concurrent_saves_all_land_and_are_durable(repo, tmp_path):
    runs = [await start(repo, user_id=2000 + i) for i in range(20)]
    await asyncio.gather(
        *(
            repo.save(run.id, f'{{"i": {i}}}', "in_progress", [("q", str(i))], NOW)
            for i, run in enumerate(runs)
        ),
        *(repo.mark_delivered(run.id, 500 + i) for i, run in enumerate(runs)),
    )
    # Read back through a second connection: committed, not just visible to the writer.
    with sqlite3.connect(tmp_path / "heard.db") as other:
        rows = other.execute(
            "SELECT r.id, r.state, r.prompt_message_id, a.value FROM runs r "
            "JOIN answers a ON a.run_id = r.id ORDER BY r.id"
        ).fetchall()
    assert rows == [(run.id, f'{{"i": {i}}}', 500 + i, str(i)) for i, run in enumerate(runs)]


async def synchronous(repo):
    return (await repo._one("PRAGMA synchronous"))[0]


async def test_sqlite_base_a_note_not_waited_onto_the_disk_leaves_commits_durable(repo):
    run = await start(repo)
    assert await synchronous(repo) == 2  # FULL: every commit waits for the disk

    seen = []

    def note(db):
        seen.append(db.execute("PRAGMA synchronous").fetchone()[0])
        db.execute("UPDATE runs SET needs_delivery = 0 WHERE id = ?", (run.id,))

    await repo._atomic(note, durable=False)
    assert seen == [1]  # NORMAL for this commit only
    assert await synchronous(repo) == 2

    def fail(db):
        raise sqlite3.IntegrityError("a failure inside a note")

    with pytest.raises(sqlite3.IntegrityError):
        await repo._atomic(fail, durable=False)
    assert await synchronous(repo) == 2
    await repo.mark_delivered(run.id, 77)
    assert await synchronous(repo) == 2
    assert (await repo.run(run.id)).prompt_message_id == 77
