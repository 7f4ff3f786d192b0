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


class Hook:
    """An on_backlog hook that notes what it was given and takes it, unless told otherwise."""

    def __init__(self, give_back=(), hold=()):
        self.seen: list[int] = []
        self.give_back = set(give_back)
        self.hold = set(hold)
        self.let_go = asyncio.Event()

    async def __call__(self, update):
        self.seen.append(update.update_id)
        if update.update_id in self.hold:
            await self.let_go.wait()
        return update.update_id not in self.give_back


def flooded(limit, hook, **kwargs):
    processor = ChatOrderedProcessor(ChatLocks(), working=4, backlog_limit=limit, **kwargs)
    processor.on_backlog = hook
    return processor


def taken_in(processor, work, ids, chat_id=7):
    return [
        asyncio.create_task(processor.process_update(update(i, chat_id), work.handle(i)))
        for i in ids
    ]


async def test_processor_a_chat_backlog_beyond_the_intake_does_not_delay_another_chat():
    # More updates from one chat than python-telegram-bot's 256 places once were: they wait
    # behind their chat, holding nothing another chat needs.
    processor = ChatOrderedProcessor(ChatLocks(), working=2)
    work = Work()
    busy = taken_in(processor, work, range(300))
    await settle()
    other = asyncio.create_task(processor.process_update(update(999, 8), work.handle(999)))
    await settle()
    assert work.started == [0, 999]
    assert processor.waiting(7) == 299
    work.release.set()
    await asyncio.wait_for(asyncio.gather(*busy, other), timeout=10)
    assert [i for i in work.started if i != 999] == list(range(300))


async def test_processor_hands_updates_past_the_backlog_limit_to_the_hook():
    hook = Hook()
    processor = flooded(3, hook)
    work = Work()
    tasks = taken_in(processor, work, range(6))
    # 0 at work, 1 to 3 waiting: 4 and 5 go to the hook at once, while 0 still holds the
    # chat's lock and its slot, and their handlers never run.
    await asyncio.wait_for(asyncio.gather(*tasks[4:]), timeout=5)
    assert hook.seen == [4, 5]
    assert work.started == [0]
    work.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert work.started == [0, 1, 2, 3]


async def test_processor_an_update_the_hook_gives_back_keeps_its_place_in_line():
    # 0 at work, 1 and 2 waiting; 3 is taken, 4 and 5 are given back and wait beyond the
    # limit. 4 is decided on slowly: 6, which comes once there is room again, runs after it.
    hook = Hook(give_back={4, 5}, hold={4})
    processor = flooded(2, hook)
    work = Work()
    tasks = taken_in(processor, work, range(6))
    await settle()
    assert hook.seen == [3, 4, 5]
    work.release.set()
    await settle()
    assert work.started == [0, 1, 2]
    tasks += taken_in(processor, work, [6])
    await settle()
    assert work.started == [0, 1, 2]
    hook.let_go.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert work.started == [0, 1, 2, 4, 5, 6]


async def test_processor_tells_on_processed_of_absorbed_updates_and_when_the_chat_drains():
    processed: list[int] = []
    drained: list[int] = []
    processor = flooded(1, Hook(), on_processed=lambda u: processed.append(u.update_id))
    processor.on_drained = drained.append
    work = Work()
    tasks = taken_in(processor, work, range(4))
    await asyncio.wait_for(asyncio.gather(*tasks[2:]), timeout=5)
    assert processed == [2, 3]
    assert drained == []
    work.release.set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert sorted(processed) == [0, 1, 2, 3]
    assert drained == [7]


async def test_processor_a_failing_hook_lets_the_update_through():
    async def broken(update):
        raise RuntimeError("storage is on fire")

    processor = flooded(1, broken)
    work = Work()
    work.release.set()
    tasks = taken_in(processor, work, range(3))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert work.started == [0, 1, 2]
