"""Updates run in order within a chat, concurrently across chats, a bounded number at once."""

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update

from bot.chat_locks import ChatLocks
from bot.processor import ChatOrderedProcessor


def update(update_id, chat_id):
    chat = Chat(chat_id, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, datetime(2026, 1, 1, tzinfo=UTC), chat))


class Work:
    """Handlers that note when they run, and wait to be let go."""

    def __init__(self):
        self.started: list[int] = []
        self.running = 0
        self.most = 0
        self.release = asyncio.Event()

    async def handle(self, update_id):
        self.started.append(update_id)
        self.running += 1
        self.most = max(self.most, self.running)
        await self.release.wait()
        self.running -= 1


async def settle():
    for _ in range(20):
        await asyncio.sleep(0)


async def test_processor_runs_one_chat_in_order_and_chats_side_by_side():
    processor = ChatOrderedProcessor(ChatLocks(), working=8)
    work = Work()
    updates = [update(i, chat_id=1 if i < 3 else 2) for i in range(5)]
    tasks = [
        asyncio.create_task(processor.process_update(u, work.handle(u.update_id))) for u in updates
    ]
    await settle()
    assert work.started == [0, 3]  # the first of each chat; the rest wait for their chat
    work.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert [i for i in work.started if i < 3] == [0, 1, 2]
    assert [i for i in work.started if i >= 3] == [3, 4]


async def test_processor_works_on_at_most_working_updates_at_once():
    processor = ChatOrderedProcessor(ChatLocks(), working=4)
    work = Work()
    tasks = [
        asyncio.create_task(processor.process_update(update(i, 100 + i), work.handle(i)))
        for i in range(12)
    ]
    await settle()
    assert work.running == 4
    work.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert work.most == 4
    assert sorted(work.started) == list(range(12))


async def test_processor_a_busy_chat_does_not_hold_the_slots_others_need():
    # Twenty updates from one chat wait for its lock, not for a working slot: another chat's
    # update starts at once.
    processor = ChatOrderedProcessor(ChatLocks(), working=2)
    work = Work()
    busy = [
        asyncio.create_task(processor.process_update(update(i, 7), work.handle(i)))
        for i in range(20)
    ]
    await settle()
    other = asyncio.create_task(processor.process_update(update(99, 8), work.handle(99)))
    await settle()
    assert work.started == [0, 99]
    work.release.set()
    await asyncio.wait_for(asyncio.gather(*busy, other), timeout=5)
    assert work.started[2:] == list(range(1, 20))
