"""One bot per database: a second `heard run` on the same database stops, naming the first."""

import asyncio
import os
import subprocess
import sys
import textwrap

import pytest

from bot.app import StartupError, serve
from bot.instance_lock import InstanceLock, InstanceLocked
from tests.support.bot_harness import bot_settings, started


def test_the_lock_is_held_once_names_its_holder_and_can_be_taken_again(tmp_path):
    database = tmp_path / "heard.db"
    first = InstanceLock.take(database)
    with pytest.raises(InstanceLocked) as error:
        InstanceLock.take(database)
    assert error.value.pid == os.getpid()
    assert f"in use by another heard run (process {os.getpid()})" in str(error.value)
    first.release()
    first.release()  # twice is harmless
    InstanceLock.take(database).release()


def test_the_lock_goes_with_a_killed_process(tmp_path):
    database = tmp_path / "heard.db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from bot.instance_lock import InstanceLock
                InstanceLock.take(Path({str(database)!r}))
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InstanceLocked) as error:
            InstanceLock.take(database)
        assert error.value.pid == holder.pid
    finally:
        holder.kill()
        holder.wait(timeout=10)
        if holder.stdout is not None:
            holder.stdout.close()
    InstanceLock.take(database).release()  # no stale lock after SIGKILL


async def test_a_second_bot_on_the_same_database_does_not_start(
    fake, heard, flows_dir, database, clock, make_user
):
    settings = bot_settings(fake, database, flows_dir, "sample")
    with pytest.raises(StartupError) as error:
        await asyncio.wait_for(serve(settings, stop=asyncio.Event(), clock=clock), 10)
    assert f"{database} is in use by another heard run (process {os.getpid()})" in str(error.value)
    user = make_user(2001)  # the first bot goes on answering
    await user.send("/start")
    assert user.messages()


async def test_the_database_is_free_once_the_bot_has_stopped(fake, flows_dir, database, clock):
    heard = await started(fake, database, flows_dir, clock, admins=(), safeguarding_chat=None)
    with pytest.raises(InstanceLocked):
        InstanceLock.take(database)
    await heard.stop()
    InstanceLock.take(database).release()
