"""One person's flood delays nobody else: 500 messages in a second, 100 ms a Bot API call.

Two people have joined; one sends 500 messages at once (the 51st words of risk), the other
then sends /help. Before the fix the flood held every one of python-telegram-bot's 256 places
and /help waited behind it (49.8 s in the issue). Now the flood waits in its own chat's line:
past the backlog limit its messages are kept, the flooder is asked once to wait, and the
words of risk still go through, in their place, to be flagged and alerted.
"""

import time

import pytest

from bot.backlog import FloodGuard
from conversations.catalog import catalog
from tests.bot.conftest import ADMIN_ID, SAFEGUARDING_CHAT
from tests.support.bot_harness import started
from tests.support.coordinating import joined
from tests.support.database import rows
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.faults

LATENCY = 0.1  # seconds a call, as on Telegram
FLOOD = 500
# In the first getUpdates batch (100 updates), past the backlog limit (20): handed to the guard.
RISK_AT = 50
RISK = "I want to kill myself"
HELP_WITHIN = 2.0
FLOODER, OTHER = 71_001, 71_002


@pytest.fixture
async def fake():
    server = FakeTelegram(token="123456:TEST-token-0123456789abcdefghij", latency=LATENCY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def decisions(monkeypatch):
    """Note what the flood guard did with each update handed to it: True, it took it."""
    taken: dict[int, bool] = {}
    absorb = FloodGuard.absorb

    async def noting(self, update):
        taken[update.update_id] = result = await absorb(self, update)
        return result

    monkeypatch.setattr(FloodGuard, "absorb", noting)
    return taken


@pytest.fixture
async def heard(decisions, fake, flows_dir, database, clock):
    fake.add_bot_to_group(SAFEGUARDING_CHAT, chat_type="group")
    bot = await started(
        fake, database, flows_dir, clock, admins=(ADMIN_ID,), safeguarding_chat=SAFEGUARDING_CHAT
    )
    yield bot
    await bot.stop()


def first_reply(fake, chat_id, since):
    return next(
        call
        for call in fake.calls[since:]
        if call.method == "sendMessage" and call.ok and call.params["chat_id"] == chat_id
    )


async def test_flood_of_500_leaves_another_persons_help_answered_within_2_s(
    fake, heard, make_user, database, decisions
):
    update_id = fake.send_text(8001, "hello all", chat_id=SAFEGUARDING_CHAT, chat_type="group")
    await heard.settle(update_id)
    flooder, other = make_user(FLOODER), make_user(OTHER, first_name="Alex")
    await joined(flooder)
    await joined(other)
    texts = [RISK if n == RISK_AT else f"flood message {n}" for n in range(FLOOD)]

    since = len(fake.calls)
    flood = [fake.send_text(FLOODER, text) for text in texts]
    asked_at = time.monotonic()
    help_id = fake.send_text(OTHER, "/help")
    await heard.settle(help_id, bound=HELP_WITHIN + 5)
    reply = first_reply(fake, OTHER, since)
    assert reply.params["text"].startswith(catalog("en")("help")[:40])
    assert reply.at - asked_at < HELP_WITHIN, f"/help took {reply.at - asked_at:.2f} s"

    for update_id in flood:
        await heard.settle(update_id, bound=30)
    wait = catalog("en")("flood_wait")
    assert [m.text for m in flooder.messages()].count(wait) == 1

    # Nothing lost: each message was handled as usual, or kept, in the order sent.
    absorbed = [text for text, u in zip(texts, flood, strict=True) if decisions.get(u) is True]
    kept = rows(database, "SELECT text FROM kept_messages WHERE why = 'flood' ORDER BY id")
    assert [text for (text,) in kept] == absorbed
    assert len(absorbed) > FLOOD - 50  # past the limit, the flood was taken in, not queued
    assert decisions[flood[RISK_AT]] is False  # handed to the guard, and given back

    # The words of risk, inside the flood, were flagged and a person told.
    assert rows(database, "SELECT text FROM flags") == [(RISK,)]
    await fake.wait_for(
        lambda: any(RISK in (m.text or "") for m in fake.chat_messages(SAFEGUARDING_CHAT)),
        timeout=10,
    )
