"""Heavy work runs in a fresh process of lower priority; its result or exception comes back."""

import os

import pytest

from bot.worker_process import NICENESS, WorkerFailed, in_worker_process


async def test_in_worker_process_runs_elsewhere_at_a_lower_priority():
    assert await in_worker_process(os.getpid) != os.getpid()
    assert await in_worker_process(os.nice, 0) == min(19, os.nice(0) + NICENESS)


async def test_in_worker_process_raises_the_workers_exception_here():
    with pytest.raises(ValueError, match="invalid literal for int"):
        await in_worker_process(int, "not a number")


async def test_in_worker_process_says_when_the_worker_dies_without_a_result():
    with pytest.raises(WorkerFailed, match="exit code 3"):
        await in_worker_process(os._exit, 3)
