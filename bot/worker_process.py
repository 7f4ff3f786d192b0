"""Heavy work (exports, reports) in a process of its own, at a lower priority, awaited calmly.

A worker thread is not enough: the export's Python holds the interpreter's lock half the time
and its garbage collector's full passes hold it throughout, so the bot's event loop, and the
people waiting for their next question, wait with it (measured: benchmarks/
export_load_benchmark.py). A process has its own interpreter; at a niceness of 10 the
operating system gives the bot the processor first. The process is started fresh ("spawn",
never a fork of a threaded bot) and reports back through a pipe: counts while it works,
then its result or its exception. Cancelled (the bot stopping), it is ended.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")
NICENESS = 10  # how much the worker defers to the bot for the processor
STOP_SECONDS = 10.0


class WorkerFailed(RuntimeError):
    """The worker process ended without a result (killed, out of memory)."""


async def in_worker_process(
    function: Callable[..., T],
    *args: Any,
    progress: Callable[[int], Awaitable[Any]] | None = None,
    **kwargs: Any,
) -> T:
    """Return `function(*args, **kwargs)` computed in a fresh process of lower priority.

    With `progress`, the function is given a `progress` callable of its own: each count it
    passes is awaited here, on the event loop, one at a time (a count that comes while the
    last is still being said is skipped). Its exception is raised here as it was raised there.
    """
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    worker = context.Process(
        target=_work,
        args=(sending, function, args, kwargs, progress is not None),
        daemon=True,
    )
    worker.start()
    sending.close()  # the worker holds its own end: EOF here when it is gone
    said: asyncio.Task[Any] | None = None
    try:
        while True:
            try:
                kind, value = await asyncio.to_thread(receiving.recv)
            except EOFError:
                await asyncio.to_thread(worker.join, STOP_SECONDS)
                exit_code = worker.exitcode
                raise WorkerFailed(f"the worker process stopped (exit code {exit_code})") from None
            if kind == "progress":
                if progress is not None and (said is None or said.done()):
                    said = asyncio.ensure_future(progress(value))
                continue
            if said is not None:
                await said
            if kind == "error":
                raise value
            return value  # type: ignore[no-any-return]
    finally:
        receiving.close()
        if worker.is_alive():
            worker.terminate()
        await asyncio.to_thread(worker.join, STOP_SECONDS)


def _work(
    sending: Connection,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    with_progress: bool,
) -> None:
    """Run in the worker: compute, and send back counts, then the result or the exception."""
    os.nice(NICENESS)
    if with_progress:
        kwargs = {**kwargs, "progress": lambda count: sending.send(("progress", count))}
    try:
        result = function(*args, **kwargs)
    except Exception as error:  # sent back whole, to be raised where it was awaited
        try:
            sending.send(("error", error))
        except Exception:  # an exception that cannot be pickled: its words still go back
            sending.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))
    else:
        sending.send(("done", result))
    finally:
        sending.close()
