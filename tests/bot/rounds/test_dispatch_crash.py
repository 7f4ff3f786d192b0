"""A round to 200 people, with 429s and blocked chats, while `heard run` is SIGKILLed mid-send."""

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from storage.repository import ConsentGiven
from storage.rounds import NewRound
from storage.sqlite import SQLiteRepository
from tests.support.audit import entry_from
from tests.support.bot_harness import BotProcess, bot_environment
from tests.support.database import rows
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.slow

PEOPLE = 200
FIRST_USER = 50_000
BLOCKED = {FIRST_USER + n for n in (3, 57, 111, 170)}
STOPPED = {FIRST_USER + n for n in (10, 90, 150)}
# Kill when the server has seen this many invitations (each mid-way through the sending).
KILL_AFTER = (20, 60, 100, 140)
INVITATION = "We'd like to hear from you about"


async def seed(database, flows_dir):
    """200 people who agreed to be contacted (3 of whom later said stop), and a round."""
    now = datetime.now(UTC)
    repo = await SQLiteRepository.open(database)
    try:
        for n in range(PEOPLE):
            user_id = FIRST_USER + n
            participant = await repo.enrol(
                user_id=user_id,
                chat_id=user_id,
                language="en",
                consent=ConsentGiven("sample", 1, 1),
                now=now,
            )
            await repo.set_contact(participant.code, True, now)
            if user_id in STOPPED:
                await repo.stop_participant(participant.code, now)
        await repo.create_round(
            NewRound(
                title="Winter services",
                flow_id="sample",
                opens_at=now,
                closes_at=now + timedelta(days=14),
                created_by="test",
            ),
            now,
            entry_from(now),
        )
    finally:
        await repo.close()


def invitations_seen(fake) -> Counter:
    return Counter(
        call.params["chat_id"]
        for call in fake.calls_of("sendMessage")
        if call.ok and INVITATION in str(call.params.get("text", ""))
    )


@pytest.fixture
async def fake():
    server = FakeTelegram(token="123456:TEST-token-0123456789abcdefghij")
    await server.start()
    for n in range(PEOPLE):
        server.add_private_chat(FIRST_USER + n)
    for user_id in BLOCKED:
        server.block(user_id)
    yield server
    await server.stop()


async def test_round_survives_sigkill_mid_send_without_losing_or_repeating(
    fake, flows_dir, database, tmp_path
):
    env = bot_environment(fake, database, flows_dir, "sample")
    env.update(HEARD_QUIET_HOURS="", HEARD_SEND_RATE="25")
    bot = BotProcess(env, tmp_path / "bot.log")
    # The bot must have registered the conversation before participants can consent to it.
    await bot.start(fake)
    bot.terminate()
    await seed(database, flows_dir)
    try:
        for number, kill_after in enumerate(KILL_AFTER):
            await bot.start(fake)
            if number == 1:
                # Telegram says "slow down" three times in a row.
                fake.fail_next(
                    "sendMessage",
                    error_code=429,
                    description="Too Many Requests: retry after 1",
                    retry_after=1,
                    times=3,
                )
            await fake.wait_for(lambda k=kill_after: sum(invitations_seen(fake).values()) >= k, 60)
            bot.kill()
        await bot.start(fake)
        unsettled = (
            "SELECT COUNT(*) FROM outbox WHERE kind = 'invitation' "
            "AND status IN ('pending', 'claimed')"
        )
        for _ in range(600):
            if rows(database, unsettled) == [(0,)]:
                break
            await asyncio.sleep(0.1)
        assert rows(database, unsettled) == [(0,)], (tmp_path / "bot.log").read_text()
    finally:
        if bot.process is not None and bot.process.poll() is None:
            assert bot.terminate() == 0

    seen = invitations_seen(fake)
    eligible = {FIRST_USER + n for n in range(PEOPLE)} - STOPPED
    reached = eligible - BLOCKED
    # Nobody who said stop hears anything; nobody is missed.
    assert not STOPPED & set(seen)
    assert set(seen) == reached
    assert all(fake.chat_messages(user_id) == [] for user_id in STOPPED)
    # Exactly one invitation each, except a send that was in flight at a kill, which may go
    # once more after the restart (never more than the sends in flight at each kill).
    recovered = {
        int(chat)
        for (chat,) in rows(
            database,
            "SELECT i.chat_id FROM outbox o JOIN identities i USING (participant_code) "
            "WHERE o.kind = 'invitation' AND o.recovered = 1",
        )
    }
    repeated = {chat for chat, count in seen.items() if count > 1}
    assert repeated <= recovered
    assert all(seen[chat] <= 2 for chat in repeated)
    assert len(repeated) <= len(KILL_AFTER) * 4
    # Every row is settled once: sent, or failed for the blocked chats (marked unreachable).
    statuses = Counter(
        status
        for (status,) in rows(database, "SELECT status FROM outbox WHERE kind = 'invitation'")
    )
    assert statuses == {"sent": len(reached), "failed": len(BLOCKED)}
    unreachable = rows(
        database,
        "SELECT COUNT(*) FROM participants WHERE status = 'unreachable'",
    )
    assert unreachable == [(len(BLOCKED),)]
    print(f"kills {len(KILL_AFTER)}, repeated after a kill: {len(repeated)}")
