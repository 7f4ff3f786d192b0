"""Work slots: as many updates at once as help, found from how long each takes."""

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.work_slots import PERIOD, SlotLimit, WorkSlots


class Machine:
    """A clock and a CPU meter that the test moves forward."""

    def __init__(self):
        self.now = 0.0
        self.used = 0.0

    def clock(self):
        return self.now

    def cpu(self):
        return self.used

    def spend(self, seconds, cores):
        self.now += seconds
        self.used += seconds * cores


def limit_on(machine, **kwargs):
    return SlotLimit(clock=machine.clock, cpu=machine.cpu, **kwargs)


def run(busy, start=1, periods=60, wanted=True):
    """Look once a period at a process using `busy(slots)` cores; return the slots seen."""
    machine = Machine()
    limit = limit_on(machine, start=start)
    seen = []
    for _ in range(periods):
        machine.spend(PERIOD, busy(limit.slots))
        limit.look(wanted)
        seen.append(limit.slots)
    return seen


def test_when_the_interpreter_is_the_limit_one_update_is_worked_on_at_a_time():
    # On loopback the process is busy whatever the slots: more only add queueing.
    assert run(lambda slots: 0.95, start=16)[-50:] == [1] * 50


def test_when_the_network_is_the_limit_the_slots_grow_to_their_most():
    # Telegram: ~100 ms a call, so the process is mostly idle while updates wait.
    seen = run(lambda slots: min(0.15, 0.01 * slots))
    assert seen[:6] == [2, 4, 8, 16, 32, 32]


def test_slots_grow_only_while_updates_wait_for_one():
    assert run(lambda slots: 0.1, start=2, wanted=False) == [2] * 60


def test_between_idle_and_busy_the_slots_stay():
    # A slow machine on a slow network: the CPU fills as the slots grow, and they stop.
    seen = run(lambda slots: min(1.0, 0.1 * slots))
    assert seen[-50:] == [8] * 50  # 8 slots use 0.8 of a core


def test_the_limit_moves_once_a_period_at_most():
    machine = Machine()
    limit = limit_on(machine, start=4)
    for _ in range(10):
        machine.spend(PERIOD / 20, 1.0)
        limit.look(wanted=True)
    assert limit.slots == 4
    machine.spend(PERIOD / 2, 1.0)
    limit.look(wanted=True)
    assert limit.slots == 3


@given(st.lists(st.tuples(st.floats(0.0, 2.0), st.floats(0.0, 3.0), st.booleans()), max_size=80))
def test_the_limit_stays_within_its_bounds_whatever_it_sees(looks):
    machine = Machine()
    limit = limit_on(machine, start=3, least=2, most=9)
    for seconds, cores, wanted in looks:
        machine.spend(seconds, cores)
        limit.look(wanted)
        assert 2 <= limit.slots <= 9


def test_a_fixed_limit_never_moves():
    machine = Machine()
    limit = SlotLimit.fixed(5)
    limit.clock, limit.cpu = machine.clock, machine.cpu
    for cores in (0.0, 1.0, 0.0, 2.0):
        machine.spend(PERIOD, cores)
        limit.look(wanted=True)
        assert limit.slots == 5


def test_limits_are_checked():
    with pytest.raises(ValueError, match="least <= start <= most"):
        SlotLimit(start=40, least=1, most=32)


class Handlers:
    """Updates that note when they start and wait to be let go, one by one."""

    def __init__(self):
        self.started = []
        self.release = {}

    async def work(self, slots, name):
        async with slots.slot():
            self.started.append(name)
            self.release[name] = asyncio.Event()
            await self.release[name].wait()


async def settle():
    for _ in range(20):
        await asyncio.sleep(0)


async def test_updates_are_let_in_first_come_first_served_up_to_the_limit():
    slots = WorkSlots(SlotLimit.fixed(2))
    handlers = Handlers()
    tasks = [asyncio.create_task(handlers.work(slots, n)) for n in range(5)]
    await settle()
    assert handlers.started == [0, 1]
    handlers.release[1].set()
    await settle()
    assert handlers.started == [0, 1, 2]
    for n in (0, 2, 3, 4):
        await settle()
        handlers.release[n].set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert handlers.started == [0, 1, 2, 3, 4]
    assert slots.working == 0


async def test_cancelled_updates_leave_no_slot_taken():
    slots = WorkSlots(SlotLimit.fixed(1))
    handlers = Handlers()
    first = asyncio.create_task(handlers.work(slots, "first"))
    waiting = asyncio.create_task(handlers.work(slots, "waiting"))
    last = asyncio.create_task(handlers.work(slots, "last"))
    await settle()
    waiting.cancel()
    first.cancel()
    await settle()
    assert handlers.started == ["first", "last"]
    assert slots.working == 1
    handlers.release["last"].set()
    await asyncio.wait_for(last, timeout=5)
    assert slots.working == 0
    assert waiting.cancelled()
    assert first.cancelled()


async def test_an_update_stuck_on_the_network_soon_has_company(monkeypatch):
    # One slot, held by an update that waits on the network (the process idle): the others
    # are let in after a period, without waiting for it to finish.
    monkeypatch.setattr("bot.work_slots.PERIOD", 0.02)
    slots = WorkSlots(SlotLimit(start=1))
    handlers = Handlers()
    stuck = asyncio.create_task(handlers.work(slots, "stuck"))
    others = [asyncio.create_task(handlers.work(slots, n)) for n in range(2)]
    await settle()
    assert handlers.started == ["stuck"]
    for _ in range(50):  # bounded: at most a second
        if len(handlers.started) == 3:
            break
        await asyncio.sleep(0.02)
    assert handlers.started == ["stuck", 0, 1]
    for name in ("stuck", 0, 1):
        handlers.release[name].set()
    await asyncio.wait_for(asyncio.gather(stuck, *others), timeout=5)
    assert slots.working == 0


async def test_a_long_update_gives_up_its_slot_but_counts_towards_the_most(monkeypatch):
    # A staff export holding the only slot: after PATIENCE the next update starts beside it,
    # but never more than `most` at work in all.
    monkeypatch.setattr("bot.work_slots.PATIENCE", 0.02)
    monkeypatch.setattr("bot.work_slots.PERIOD", 60.0)  # the limit itself does not move here
    slots = WorkSlots(SlotLimit(start=1, least=1, most=2))
    handlers = Handlers()
    tasks = [asyncio.create_task(handlers.work(slots, n)) for n in range(3)]
    await settle()
    assert handlers.started == [0]
    for _ in range(50):  # bounded: at most a second
        if slots.overdue == 2:
            break
        await asyncio.sleep(0.02)
    assert handlers.started == [0, 1]  # 1 let in when 0 gave up its slot; 2 would make 3
    assert (slots.working, slots.overdue) == (0, 2)
    handlers.release[0].set()
    await settle()
    assert handlers.started == [0, 1, 2]
    handlers.release[1].set()
    handlers.release[2].set()
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=5)
    assert (slots.working, slots.overdue) == (0, 0)
