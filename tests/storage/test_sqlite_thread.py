"""One connection on a thread of its own: results, errors, order, cancelling and closing."""

import asyncio
import logging
import sqlite3
import threading

import pytest

from storage.sqlite_thread import SQLiteThread, ThreadClosed

WAIT = 10  # seconds any one wait in these tests may take before it counts as a hang


@pytest.fixture
async def db(tmp_path):
    thread = await SQLiteThread.open(tmp_path / "t.db", isolation_level=None)
    await thread.run(lambda c: c.execute("CREATE TABLE t (n INTEGER)"))
    yield thread
    await thread.close()


def sqlite_threads():
    return [t for t in threading.enumerate() if t.name.startswith("sqlite ")]


async def test_sqlite_thread_run_returns_what_the_work_returns(db):
    await db.run(lambda c: c.execute("INSERT INTO t VALUES (7)"))

    assert await db.run(lambda c: c.execute("SELECT n FROM t").fetchall()) == [(7,)]


async def test_sqlite_thread_run_raises_what_the_work_raised_and_keeps_working(db):
    failure = sqlite3.IntegrityError("a failure inside the work")

    def fail(connection):
        raise failure

    with pytest.raises(sqlite3.IntegrityError) as raised:
        await db.run(fail)
    assert raised.value is failure
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.run(lambda c: c.execute("SELECT * FROM missing"))
    assert await db.run(lambda c: c.execute("SELECT 1").fetchone()) == (1,)


async def test_sqlite_thread_runs_work_in_the_order_sent_on_one_thread_not_the_loops(db):
    seen = []

    def note(n):
        def work(connection):
            seen.append((n, threading.get_ident()))
            connection.execute("INSERT INTO t VALUES (?)", (n,))

        return work

    await asyncio.gather(*(db.run(note(n)) for n in range(50)))

    assert [n for n, _ in seen] == list(range(50))
    assert len({ident for _, ident in seen}) == 1
    assert seen[0][1] != threading.get_ident()
    rows = await db.run(lambda c: c.execute("SELECT n FROM t ORDER BY rowid").fetchall())
    assert rows == [(n,) for n in range(50)]


async def test_sqlite_thread_cancelled_caller_leaves_the_work_to_finish_quietly(db, caplog):
    started, go_on = threading.Event(), threading.Event()

    def held(connection):
        started.set()
        assert go_on.wait(WAIT)
        connection.execute("INSERT INTO t VALUES (1)")
        return "done"

    task = asyncio.create_task(db.run(held))
    assert await asyncio.to_thread(started.wait, WAIT)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    go_on.set()

    # The next work runs after the cancelled one, which finished and committed.
    assert await db.run(lambda c: c.execute("SELECT n FROM t").fetchall()) == [(1,)]
    await asyncio.sleep(0)  # let the dropped result's callback run, to see it is harmless
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_sqlite_thread_close_waits_for_earlier_work_then_ends_the_thread(tmp_path):
    before = len(sqlite_threads())
    db = await SQLiteThread.open(tmp_path / "t.db")
    assert len(sqlite_threads()) == before + 1
    pending = asyncio.create_task(db.run(lambda c: c.execute("SELECT 41 + 1").fetchone()))
    await asyncio.sleep(0)  # the work is sent before close is

    await db.close()

    assert pending.done()
    assert await pending == (42,)
    assert len(sqlite_threads()) == before
    with pytest.raises(ThreadClosed):
        await db.run(lambda c: c.execute("SELECT 1"))
    await db.close()  # a second close does nothing


async def test_sqlite_thread_open_that_fails_raises_and_leaves_no_thread(tmp_path):
    before = len(sqlite_threads())

    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        await SQLiteThread.open(tmp_path / "no such folder" / "t.db")

    assert len(sqlite_threads()) == before


async def test_sqlite_thread_connection_errors_reach_the_caller(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database file, whatever its name says" * 100)
    db = await SQLiteThread.open(broken)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            await db.run(lambda c: c.execute("SELECT * FROM sqlite_master").fetchall())
    finally:
        await db.close()
