"""One thread that owns one SQLite connection: `await run(work)` runs `work` there, in turn.

The standard `sqlite3` module blocks, and a connection belongs to the thread that made it. So
the connection is made on a thread of its own and every use of it is a function sent there
through a queue: the event loop never waits on the disk, and the functions run one at a time,
in the order they were sent. A function's result (or its exception) comes back to the
awaiting task through the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]


class ThreadClosed(sqlite3.ProgrammingError):
    """The connection's thread was closed: nothing more can run on it."""


class _Job(NamedTuple):
    """A function to run on the thread, and where its outcome goes (`work` None: close)."""

    work: Work | None
    future: asyncio.Future[Any]


class SQLiteThread:
    """A connection to one SQLite file, used only on the thread that opened it."""

    def __init__(self, jobs: queue.SimpleQueue[_Job], thread: threading.Thread) -> None:
        self._jobs = jobs
        self._thread = thread
        self._closing = False

    @classmethod
    async def open(cls, path: str | Path, **connect: Any) -> SQLiteThread:
        """Connect to the database at `path` on a new thread (`connect`: sqlite3.connect's).

        A connection that cannot be made raises its error here, and leaves no thread behind.
        """
        jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        thread = threading.Thread(
            target=_serve,
            args=(str(path), connect, jobs, opened),
            name=f"sqlite {Path(path).name}",
            daemon=True,  # an owner that never closes it must not keep the process alive
        )
        thread.start()
        try:
            await opened
        except asyncio.CancelledError:
            # It may connect yet: then it closes, with nobody waiting for it.
            jobs.put(_Job(None, asyncio.get_running_loop().create_future()))
            raise
        except BaseException:
            thread.join()  # its last act was to answer: it is ending
            raise
        return cls(jobs, thread)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` with the connection on its thread, after everything sent before it.

        Returns what `work` returns, or raises what it raised. A caller that stops waiting
        (cancelled) does not stop `work`: it runs to its end, and its result is dropped.
        """
        if self._closing:
            raise ThreadClosed("the database connection is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._jobs.put(_Job(work, future))
        return await future

    async def close(self) -> None:
        """Close the connection once everything sent before has run, and end the thread."""
        if self._closing:
            return
        self._closing = True
        closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._jobs.put(_Job(None, closed))
        await closed
        # The thread's last act was to answer: it is ending, if not already gone.
        self._thread.join()


def _serve(
    path: str,
    connect: dict[str, Any],
    jobs: queue.SimpleQueue[_Job],
    opened: asyncio.Future[None],
) -> None:
    """Open the connection, then run each job sent until told to close (the thread's body)."""
    try:
        connection = sqlite3.connect(path, **connect)
    except BaseException as error:
        _answer(opened, None, error)
        return
    _answer(opened, None, None)
    while True:
        job = jobs.get()
        if job.work is None:
            break
        try:
            result = job.work(connection)
        except BaseException as error:
            _answer(job.future, None, error)
        else:
            _answer(job.future, result, None)
    try:
        connection.close()
    except BaseException as error:
        _answer(job.future, None, error)
    else:
        _answer(job.future, None, None)


def _answer(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Hand a job's outcome to the loop that awaits it (from the connection's thread)."""
    # A closed loop (RuntimeError) has nobody waiting on it any more.
    with contextlib.suppress(RuntimeError):
        future.get_loop().call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    """Set the outcome, unless the awaiting task was cancelled meanwhile (on the loop)."""
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
