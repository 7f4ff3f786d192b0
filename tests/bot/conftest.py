"""Fixtures that run the real bot against the fake Bot API server."""

import shutil

import pytest

from tests.support.bot_harness import SAMPLE_FLOWS, FixedClock, started
from tests.support.chat_user import ChatUser
from tests.support.fake_telegram import FakeTelegram

ADMIN_ID = 9001
SAFEGUARDING_CHAT = -100777


@pytest.fixture
async def fake():
    server = FakeTelegram(token="123456:TEST-token-0123456789abcdefghij")
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def flows_dir(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(SAMPLE_FLOWS / "sample.yaml", folder / "sample.yaml")
    return folder


@pytest.fixture
def clock():
    return FixedClock()


@pytest.fixture
def database(tmp_path):
    return tmp_path / "heard.db"


async def start_heard(fake, database, flows_dir, clock, screener=None):
    """Start Heard with its admin and safeguarding chat, screening with `screener` if given.

    The staff group exists, with the bot in it, before Heard starts (as in a deployment).
    """
    fake.add_bot_to_group(SAFEGUARDING_CHAT, chat_type="group")
    return await started(
        fake,
        database,
        flows_dir,
        clock,
        admins=(ADMIN_ID,),
        safeguarding_chat=SAFEGUARDING_CHAT,
        screener=screener,
    )


@pytest.fixture
async def heard(fake, flows_dir, database, clock):
    bot = await start_heard(fake, database, flows_dir, clock)
    yield bot
    await bot.stop()


@pytest.fixture
def make_user(fake, heard):
    def make(user_id=1001, **kwargs):
        return ChatUser(fake, user_id, settle=heard.settle, **kwargs)

    return make


@pytest.fixture
def user(make_user):
    return make_user()
