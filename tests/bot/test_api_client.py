"""A token Telegram refuses: one line and exit 2, at start-up and while running; no zombie."""

import asyncio
import os
import subprocess
import sys

import pytest

from bot.app import StartupError, serve
from tests.support.bot_harness import ROOT, BotProcess, bot_environment, bot_settings

REFUSED = "heard: TELEGRAM_BOT_TOKEN was refused by the Bot API (Unauthorized): it is wrong or "


def heard_run(env):
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "--env-file", os.devnull, "run"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
async def test_api_client_wrong_token_at_start_is_one_line_and_exit_2(fake, flows_dir, database):
    env = bot_environment(fake, database, flows_dir, "sample")
    env["TELEGRAM_BOT_TOKEN"] = "123456:WRONG-token-0123456789abcdefghij"
    result = await asyncio.to_thread(heard_run, env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(REFUSED)
    assert "WRONG-token" not in result.stderr


@pytest.mark.slow
async def test_api_client_token_revoked_while_running_stops_in_one_line(
    fake, flows_dir, database, tmp_path
):
    log = tmp_path / "bot.log"
    process = BotProcess(bot_environment(fake, database, flows_dir, "sample"), log)
    await process.start(fake)
    try:
        fake.revoke_token()
        assert process.process is not None
        code = await asyncio.to_thread(process.process.wait, 30)
    finally:
        if process.process is not None and process.process.poll() is None:
            process.kill()
    text = log.read_text()
    assert code == 2, text
    assert "Traceback" not in text
    assert text.strip().splitlines()[-1].startswith(REFUSED)
    assert "Heard is stopping" in text
    assert fake.token not in text


async def test_api_client_serve_stops_when_the_token_is_revoked(fake, flows_dir, database, clock):
    settings = bot_settings(fake, database, flows_dir, "sample")
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, stop=stop, clock=clock))
    await fake.wait_for(lambda: fake.polls_waiting > 0, timeout=15)
    fake.revoke_token()
    with pytest.raises(StartupError, match=r"^TELEGRAM_BOT_TOKEN was refused by the Bot API"):
        await asyncio.wait_for(running, 15)
