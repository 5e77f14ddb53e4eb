"""What the memory store adds to the store contract (tests/matcher/test_store_contract.py)."""

from __future__ import annotations

import asyncio
import random

import pytest

from matcher.credit import CreditEvent, CreditRecord
from matcher.model import Event, EventType, Job, OrderRecord, OrderState
from matcher.store import Commit, MemoryStore, PlanLog, plans_written
from matcher.supply_log import SupplyLog
from matcher.worker_table import WorkerTable
from tests.builders import CENTRE, HOUR, at, make_order, make_worker


async def test_orders_in_lists_a_states_orders_in_the_order_first_written():
    store = MemoryStore()
    await store.commit(Commit(orders=[OrderRecord(make_order(o), OrderState.PENDING, at(6))
                                      for o in ("o3", "o1", "o2")]))
    moved = await store.order("o3")
    moved.state = OrderState.ASSIGNED
    await store.commit(Commit(orders=[moved]))
    back = await store.order("o3")
    back.state = OrderState.PENDING  # back in the pool: its place stays that of its first write
    await store.commit(Commit(orders=[back]))
    assert [r.order.order_id for r in await store.orders_in(OrderState.PENDING)] == \
        ["o3", "o1", "o2"]


def _job(worker_id: str, hour: int) -> Job:
    return Job(f"o-{worker_id}-{hour}", "c1", "cleaning", CENTRE[0], CENTRE[1], at(hour),
               at(hour) + HOUR)


@pytest.mark.parametrize("seed", range(4))
async def test_the_plan_log_names_exactly_the_plans_written_between_two_views(seed):
    """The log between two views marks the workers whose plans the other view holds as other
    objects (a plan written again with the same jobs counts: it has a new version), and a
    supply log fed the marks marks the workers one that compares every plan marks."""
    rng = random.Random(seed)
    store, workers = MemoryStore(), [f"w{i}" for i in range(12)]
    with_marks, comparing = SupplyLog(), SupplyLog()
    table = WorkerTable([make_worker(w) for w in workers])
    before = await store.view()
    for _ in range(10):
        for _ in range(rng.randint(0, 3)):
            written = rng.sample(workers, rng.randint(0, 4))
            await store.commit(Commit(plans={w: [_job(w, h) for h in
                                                 sorted(rng.sample(range(8, 17), 2))]
                                             for w in written}))
        after = await store.view()
        differ = {w for w, plan in after.plans.items() if before.plans.get(w) is not plan}
        assert set(plans_written(before.plan_mark, after.plan_mark)) == differ
        stamp = with_marks.update(after.plans, table, (), after.plan_mark)
        assert comparing.update(after.plans, table, ()) == stamp
        assert sorted(set(with_marks.marked_last())) == sorted(set(comparing.marked_last()))
        before = after


async def test_a_plan_log_cannot_tell_from_marks_it_no_longer_keeps_or_taken_backwards():
    log = PlanLog(keep=2)
    first = log.mark()
    log.add(["a", "b"])
    second = log.mark()
    assert log.written(first, second) == ["a", "b"]
    assert log.written(second, first) is None  # a later view read first
    assert PlanLog().written(first, second) is None  # another store's marks
    log.add(["c", "d", "e"])  # past twice what it keeps: the oldest go
    third = log.mark()
    assert log.written(first, third) is None
    assert log.written(log.mark(), third) == []
    assert plans_written(None, third) is None


async def test_a_supply_log_without_a_mark_it_can_use_compares_the_plans():
    store, log = MemoryStore(), SupplyLog()
    table = WorkerTable([make_worker(w) for w in ("w1", "w2")])
    log.update((await store.view()).plans, table, (), PlanLog().mark())  # another log's mark
    await store.commit(Commit(plans={"w2": [_job("w2", 9)]}))
    view = await store.view()
    log.update(view.plans, table, (), view.plan_mark)
    assert log.marked_last() == ["w2"]


async def test_credit_records_due_share_their_events_but_only_a_commit_changes_the_store():
    first, second = (CreditEvent(at(h), "review", f"o{h}", stars=5) for h in (6, 7))
    store = MemoryStore()
    await store.commit(Commit(credit={"w1": CreditRecord(80.0, [first], at(6))}))
    due = (await store.credits_due(at(7)))["w1"]
    due.refreshed_at, due.events = at(7), due.events + [second]
    assert await store.credit("w1") == CreditRecord(80.0, [first], at(6), 1)
    await store.commit(Commit(credit={"w1": due}))
    due.events.append(first)  # the caller's list, after the commit: not the store's
    assert await store.credit("w1") == CreditRecord(80.0, [first, second], at(7), 2)
    again = (await store.credits_due(at(8)))["w1"]
    again.refreshed_at = at(8)  # rescored only: the events stay the store's own list
    await store.commit(Commit(credit={"w1": again}))
    assert await store.credits_due(at(8) - 1) == {}
    assert await store.credit("w1") == CreditRecord(80.0, [first, second], at(8), 3)


async def test_a_cancelled_wait_for_events_stays_cancelled_when_an_event_comes_at_once():
    """A WatchEvents stream whose call ends (its task cancelled) just as an event is written
    ends: asyncio.wait_for on 3.11 returned the event instead and dropped the cancellation."""
    store = MemoryStore()
    waiting = asyncio.create_task(store.wait_events("", 10, 30.0))
    await asyncio.sleep(0)  # waiting for the next append now
    await store.commit(Commit(events=[Event(EventType.ASSIGNED, at(9), "o1", "w1")]))
    waiting.cancel()  # in the same turn of the loop as the append
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert await store.wait_events("", 10, 0.01) != []  # the event is there for a new wait
