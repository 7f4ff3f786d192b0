"""The send pacer, on a fake clock: overall rate, gap per chat, pauses, order, memory."""

import asyncio
from itertools import pairwise

import pytest

from bot.dispatch.pacing import SendPacer

TOLERANCE = 1e-9
START = 1000.0


class FakeTime:
    """A clock that moves only when the pacer sleeps, and a sleep that takes no real time."""

    def __init__(self):
        self.now = START
        self.sleeps = []
        self.sleeping = 0
        self.on_first_sleep = None

    def clock(self):
        return self.now

    async def sleep(self, seconds):
        assert seconds >= 0
        assert len(self.sleeps) < 10_000, "the pacer keeps sleeping"
        # The pacer lets only the waiter at the head sleep, which is what makes this fake exact.
        assert self.sleeping == 0, "two waiters slept at once"
        if self.on_first_sleep is not None:
            hook, self.on_first_sleep = self.on_first_sleep, None
            hook()
        self.sleeps.append(seconds)
        self.sleeping += 1
        try:
            self.now += seconds
            await asyncio.sleep(0)
        finally:
            self.sleeping -= 1


@pytest.fixture
def fake_time():
    return FakeTime()


def pacer_on(fake_time, rate=25.0, per_chat_interval=1.0):
    return SendPacer(rate, per_chat_interval, clock=fake_time.clock, sleep=fake_time.sleep)


async def send_concurrently(pacer, fake_time, chats):
    """Start one waiter per chat, in order; return (index, chat, time) as each gets its turn."""
    sent = []

    async def send(index, chat_id):
        await pacer.wait_turn(chat_id)
        sent.append((index, chat_id, fake_time.now))

    async with asyncio.timeout(10):
        await asyncio.gather(*(send(index, chat) for index, chat in enumerate(chats)))
    return sent


def most_in_one_second(times):
    """Return the most sends that fall in any half-open one-second window."""
    times = sorted(times)
    return max(
        sum(1 for other in times[first:] if other < start + 1 - TOLERANCE)
        for first, start in enumerate(times)
    )


def assert_chat_gaps(sent, at_least):
    last: dict[int, float] = {}
    for _, chat_id, at in sent:
        if chat_id in last:
            assert at - last[chat_id] >= at_least - TOLERANCE
        last[chat_id] = at


async def test_pacer_spreads_100_sends_over_10_chats(fake_time):
    pacer = pacer_on(fake_time, rate=25)

    sent = await send_concurrently(pacer, fake_time, [index % 10 for index in range(100)])

    times = [at for _, _, at in sent]
    assert len(sent) == 100
    assert times[-1] - times[0] >= (100 - 25) / 25
    assert most_in_one_second(times) <= 25
    assert_chat_gaps(sent, at_least=1.0)


async def test_pacer_spaces_sends_to_different_chats_evenly(fake_time):
    pacer = pacer_on(fake_time, rate=25)

    sent = await send_concurrently(pacer, fake_time, list(range(100)))

    times = [at for _, _, at in sent]
    assert times[0] == START
    assert times[-1] - times[0] == pytest.approx(99 / 25)
    assert all(later - earlier >= 1 / 25 - TOLERANCE for earlier, later in pairwise(times))
    assert most_in_one_second(times) == 25


async def test_pacer_sends_to_one_chat_once_a_second(fake_time):
    pacer = pacer_on(fake_time, rate=25)

    sent = await send_concurrently(pacer, fake_time, [7] * 5)

    assert [at - START for _, _, at in sent] == pytest.approx([0, 1, 2, 3, 4])


async def test_pacer_honours_a_custom_chat_interval(fake_time):
    pacer = pacer_on(fake_time, rate=25, per_chat_interval=3.0)

    sent = await send_concurrently(pacer, fake_time, [7, 8, 7])

    assert [at - START for _, _, at in sent] == pytest.approx([0, 0.04, 3])


async def test_pacer_does_not_wait_after_an_idle_spell(fake_time):
    pacer = pacer_on(fake_time, rate=25)
    await pacer.wait_turn(1)
    fake_time.now += 60

    await pacer.wait_turn(1)
    await pacer.wait_turn(2)

    assert fake_time.now == pytest.approx(START + 60.04)


async def test_pacer_pause_all_delays_the_next_send_by_exactly_the_pause(fake_time):
    pacer = pacer_on(fake_time, rate=25)
    await pacer.wait_turn(1)

    pacer.pause_all(3)
    await pacer.wait_turn(2)

    assert fake_time.now == pytest.approx(START + 3)
    await pacer.wait_turn(3)
    assert fake_time.now == pytest.approx(START + 3.04)


async def test_pacer_pause_all_after_an_idle_spell_lasts_exactly_the_pause(fake_time):
    pacer = pacer_on(fake_time, rate=25)
    await pacer.wait_turn(1)
    fake_time.now += 10

    pacer.pause_all(3)
    await pacer.wait_turn(1)

    assert fake_time.now == pytest.approx(START + 13)


async def test_pacer_pause_all_reaches_a_waiter_already_waiting(fake_time):
    pacer = pacer_on(fake_time, rate=25)
    await pacer.wait_turn(1)
    # The next send to chat 1 waits a second; a 429 arrives as it starts waiting.
    fake_time.on_first_sleep = lambda: pacer.pause_all(3)

    await pacer.wait_turn(1)

    assert fake_time.now == pytest.approx(START + 3)


async def test_pacer_pause_all_never_shortens_a_pause(fake_time):
    pacer = pacer_on(fake_time, rate=25)

    pacer.pause_all(5)
    pacer.pause_all(1)
    pacer.pause_all(0)
    await pacer.wait_turn(1)

    assert fake_time.now == pytest.approx(START + 5)


async def test_pacer_serves_50_concurrent_waiters_in_arrival_order(fake_time):
    pacer = pacer_on(fake_time, rate=25)
    chats = [index % 7 for index in range(50)]

    sent = await send_concurrently(pacer, fake_time, chats)

    assert [index for index, _, _ in sent] == list(range(50))
    times = [at for _, _, at in sent]
    assert times == sorted(times)
    assert_chat_gaps(sent, at_least=1.0)


async def test_pacer_forgets_chats_it_may_send_to_again(fake_time):
    pacer = pacer_on(fake_time, rate=25)
    for chat_id in range(1000):
        await pacer.wait_turn(chat_id)
        assert len(pacer) <= 26
    fake_time.now += 1

    await pacer.wait_turn(5000)

    assert len(pacer) == 1


async def test_pacer_cancelled_waiter_gives_up_its_turn(fake_time):
    pacer = pacer_on(fake_time, rate=25)
    await pacer.wait_turn(1)
    waiting = asyncio.create_task(pacer.wait_turn(1))
    behind = asyncio.create_task(pacer.wait_turn(2))
    await asyncio.sleep(0)

    waiting.cancel()
    async with asyncio.timeout(10):
        await behind
        with pytest.raises(asyncio.CancelledError):
            await waiting

    # The cancelled send did not count: chat 1's next message follows chat 2's by the spacing,
    # a second after its first message, not a second after the cancelled one.
    assert fake_time.now == pytest.approx(START + 1)
    await pacer.wait_turn(1)
    assert fake_time.now == pytest.approx(START + 1.04)


@pytest.mark.parametrize(
    ("rate", "interval"), [(0, 1.0), (-1, 1.0), (float("nan"), 1.0), (25, -1.0)]
)
def test_pacer_refuses_impossible_settings(rate, interval):
    with pytest.raises(ValueError, match="expected"):
        SendPacer(rate, interval)


def test_pacer_refuses_a_negative_pause():
    with pytest.raises(ValueError, match="expected a pause"):
        SendPacer(25).pause_all(-1)


async def test_pacer_late_wake_ups_do_not_slow_the_rate(fake_time):
    # An event loop wakes a sleeper a little late; the schedule keeps to the rate regardless.
    late = 0.002
    real_sleep = fake_time.sleep

    async def sleep_late(seconds):
        await real_sleep(seconds + late)

    pacer = SendPacer(25.0, 1.0, clock=fake_time.clock, sleep=sleep_late)
    for chat_id in range(100):
        await pacer.wait_turn(chat_id)
    elapsed = fake_time.now - START
    # 99 gaps of 40 ms, plus at most one lateness; without keeping the schedule, 99 × 42 ms.
    assert elapsed == pytest.approx(99 * 0.04 + late, abs=1e-6)


async def test_pacer_starts_afresh_after_a_lull(fake_time):
    pacer = pacer_on(fake_time, rate=10.0)
    await pacer.wait_turn(1)
    fake_time.now += 5.0  # nothing to send for a while
    await pacer.wait_turn(2)
    await pacer.wait_turn(3)
    # No burst to "catch up": the send after the lull is followed by a full gap.
    assert fake_time.now == pytest.approx(START + 5.0 + 0.1)
