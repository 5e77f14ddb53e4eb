"""SubmitOrders requests that queue for the engine's lock are answered together, with exactly
the answers, plans, records and events of the same requests one at a time in the same order."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import uuid

import numpy as np
import pytest

from matcher.config import DispatchConfig
from matcher.engine import Engine
from matcher.errors import AlreadyExists, Unavailable
from matcher.model import DispatchMode, Location, OrderState, Shift
from matcher.store import MemoryStore
from tests.builders import CENTRE, at, make_order, make_worker, without_offers
from tests.city import random_orders, random_workers

NOW = at(6)


class CountingStore(MemoryStore):
    """The memory store, counting the plan reads of dispatches (one per planning run)."""

    def __init__(self) -> None:
        super().__init__()
        self.views = 0

    async def view(self):
        self.views += 1
        return await super().view()


@pytest.fixture(params=["memory", "redis"])
async def new_store(request):
    """Fresh stores of one kind: the memory store (counting its views), or the Redis store on
    the session's redis-server, each under a prefix of its own."""
    made = []

    def make():
        if request.param == "memory":
            return CountingStore()
        from matcher.redis_store import RedisStore
        store = RedisStore(request.getfixturevalue("redis_url"),
                           prefix=f"test-{uuid.uuid4().hex[:12]}")
        made.append(store)
        return store
    yield make
    for store in made:
        await store.close()


@contextlib.asynccontextmanager
async def busy(engine):
    """The engine in another mutation (its lock held): requests sent meanwhile queue up and
    are answered together when it ends."""
    async with engine._lock:
        yield


async def together(engine, requests, now=NOW):
    """Send ``requests`` ((orders, request id) pairs) while the engine is busy, so that they
    queue in this order; their answers or errors."""
    async with busy(engine):
        tasks = [asyncio.create_task(engine.submit_orders(orders, now, rid))
                 for orders, rid in requests]
        await asyncio.sleep(0)  # every task queues before the lock is free
    return await asyncio.gather(*tasks, return_exceptions=True)


async def one_by_one(engine, requests, now=NOW):
    answers = []
    for orders, rid in requests:
        try:
            answers.append(await engine.submit_orders(orders, now, rid))
        except Exception as error:  # noqa: BLE001 (compared below)
            answers.append(error)
    return answers


async def state(engine, order_ids):
    """Everything the requests could have changed: plans, records, events."""
    plans = {w: list(jobs) for w, jobs in (await engine.store.plans()).items() if jobs}
    records = [await engine.store.order(o) for o in order_ids]
    records = [r and dataclasses.replace(r, version=0) for r in records]
    events = [dataclasses.replace(e, cursor="")
              for e in await engine.store.events_after("", 100_000)]
    return plans, records, events


def same_answers(got, expected):
    """Answers equal; errors of the same class and message."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if isinstance(e, Exception):
            assert type(g) is type(e) and str(g) == str(e)
        else:
            assert g == e


async def engines(new_store, config, workers, locations=()):
    pair = []
    for _ in range(2):
        engine = Engine(new_store(), config)
        await engine.upsert_workers(workers, now=NOW)
        for worker_id, location in locations:
            await engine.update_location(worker_id, location)
        pair.append(engine)
    return pair


async def compare(new_store, requests, workers, config=None, locations=(), now=NOW):
    config = config or without_offers(DispatchConfig())
    batched, single = await engines(new_store, config, workers, locations)
    try:
        got = await together(batched, requests, now)
        expected = await one_by_one(single, requests, now)
        same_answers(got, expected)
        order_ids = sorted({o.order_id for orders, _ in requests for o in orders})
        assert await state(batched, order_ids) == await state(single, order_ids)
        return batched, got
    finally:
        batched.close()
        single.close()


def instant(order):
    return dataclasses.replace(order, mode=DispatchMode.INSTANT)


@pytest.mark.parametrize("seed", range(6))
async def test_concurrent_instant_orders_are_placed_as_one_by_one(new_store, seed):
    """A random city whose orders' pools overlap; a few orders block workers or come in
    batched mode (those requests go alone, between runs of the others)."""
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, 70, spread=0.03, breaks=True)
    orders = [instant(o) if rng.random() < 0.9 else o
              for o in random_orders(rng, 30, 70, spread=0.03)]
    orders = [o if rng.random() < 0.2 else dataclasses.replace(o, blocked_worker_ids=frozenset())
              for o in orders]
    requests = [([o], f"r{i}" if i % 3 else "") for i, o in enumerate(orders)]
    engine, answers = await compare(new_store, requests, workers)
    assert any(a.assignments for a in answers)
    if isinstance(engine.store, CountingStore):  # the runs shared their plan reads
        assert engine.store.views < sum(o.mode == DispatchMode.INSTANT for o in orders)


async def test_requests_of_several_orders_and_offers(new_store):
    """Requests of several instant orders each, with offers on (the default config)."""
    rng = np.random.default_rng(11)
    workers = random_workers(rng, 40, spread=0.02)
    orders = [dataclasses.replace(instant(o), blocked_worker_ids=frozenset())
              for o in random_orders(rng, 24, 40, spread=0.02)]
    requests = [(orders[i:i + 3], f"r{i}") for i in range(0, 24, 3)]
    await compare(new_store, requests, workers, config=DispatchConfig())


async def test_a_refused_request_in_a_run_gets_its_own_error_and_the_others_go_on(new_store):
    workers = [make_worker(f"w{i}", home_lat=CENTRE[0] + i / 500) for i in range(3)]
    taken = instant(make_order("o1"))
    requests = [([taken], "r1"),
                ([instant(make_order("o2")), instant(make_order("o1", priority=9))], "r2"),
                ([instant(make_order("o3"))], "r3"),
                ([instant(make_order("o4"))], "r1"),  # r1 again, another body
                ([instant(make_order("o5"))], "")]
    engine, answers = await compare(new_store, requests, workers)
    assert isinstance(answers[1], AlreadyExists) and "orders[1].order_id" in str(answers[1])
    assert isinstance(answers[3], AlreadyExists) and "request_id" in str(answers[3])
    assert [len(answers[i].assignments) for i in (0, 2, 4)] == [1, 1, 1]
    assert await engine.store.order("o2") is None and await engine.store.order("o4") is None


async def test_a_request_id_twice_in_one_run_gets_the_first_answer(new_store):
    workers = [make_worker("w1"), make_worker("w2", home_lat=CENTRE[0] + 0.01)]
    order = instant(make_order("o1"))
    requests = [([order], "r1"), ([instant(make_order("o2"))], "r2"), ([order], "r1")]
    engine, answers = await compare(new_store, requests, workers)
    assert answers[2] == answers[0] and len(answers[0].assignments) == 1
    events = await engine.store.events_after("", 1000)
    assert sum(e.order_id == "o1" for e in events) == 1  # placed once


async def test_a_request_id_twice_in_one_run_with_another_body_is_refused(new_store):
    workers = [make_worker("w1"), make_worker("w2", home_lat=CENTRE[0] + 0.01)]
    requests = [([instant(make_order("o1"))], "r1"), ([instant(make_order("o2"))], "r1")]
    engine, answers = await compare(new_store, requests, workers)
    assert isinstance(answers[1], AlreadyExists) and await engine.store.order("o2") is None


async def test_an_order_id_twice_in_one_run_is_placed_once(new_store):
    workers = [make_worker("w1"), make_worker("w2", home_lat=CENTRE[0] + 0.01)]
    order = instant(make_order("o1"))
    requests = [([order], "r1"), ([order], "r2"), ([order], "")]
    _, answers = await compare(new_store, requests, workers)
    assert answers[0].assignments == answers[1].assignments == answers[2].assignments
    assert len(answers[0].assignments) == 1


async def test_expired_and_unplaceable_orders_in_a_run(new_store):
    workers = [make_worker("w1", max_jobs_per_day=1)]
    requests = [([instant(make_order(f"o{i}", earliest_start=at(7 + i / 2),
                                     latest_start=at(7.5 + i / 2)))], f"r{i}")
                for i in range(6)]
    _, answers = await compare(new_store, requests, workers, now=at(8))
    reasons = [[u.reason.name for u in a.unassigned] for a in answers]
    assert reasons[0] == ["EXPIRED"] and sum(bool(a.assignments) for a in answers) == 1


async def test_workers_with_reported_locations(new_store):
    """Anchors: the workers are on shift at ``now`` and reported where the orders are, so a
    job can start right then (and the worker's anchor give way to it)."""
    now = at(9)
    workers = [make_worker(f"w{i}", home_lat=CENTRE[0] + i / 200, max_jobs_per_day=2,
                           shifts=(Shift(at(8), at(18)),)) for i in range(4)]
    spots = [(CENTRE[0] + 0.02 + i / 300, CENTRE[1] + 0.02) for i in range(4)]
    locations = [(f"w{i}", Location(*spots[i], now - 60)) for i in range(4)]
    requests = [([instant(make_order(f"o{k}", lat=spots[k % 4][0], lon=spots[k % 4][1],
                                     earliest_start=at(8), latest_start=at(12),
                                     duration=3600))], f"r{k}")
                for k in range(10)]
    _, answers = await compare(new_store, requests, workers, locations=locations, now=now)
    assert any(a.assignments and a.assignments[0].planned_start == now for a in answers)


# ---------------------------------------------------------------- callers that go away

@contextlib.contextmanager
def solver_held(engine):
    """The engine's solver thread busy until this ends: the next drain waits in it midway
    (the first one after the workers changed builds the worker table there)."""
    gate = threading.Event()
    engine._solver.submit(gate.wait)
    try:
        yield
    finally:
        gate.set()


async def drain_taken(engine):
    """Until a drain has taken every queued request."""
    for _ in range(100):
        if not engine._submits and engine._lock.locked():
            return
        await asyncio.sleep(0)
    raise AssertionError("no drain took the queue")


async def four_workers():
    engine = Engine(MemoryStore(), without_offers(DispatchConfig()))
    await engine.upsert_workers([make_worker(f"w{i}", home_lat=CENTRE[0] + i / 200)
                                 for i in range(4)], now=NOW)
    return engine


async def test_callers_cancelled_while_their_drain_runs_get_their_orders_placed_whole():
    """Both callers of a drain cancelled midway (their deadlines passed): the drain still
    writes and places their orders, leaves nothing queued for a later drain to run with a
    stale clock, and a retry gets the remembered answer."""
    engine = await four_workers()
    try:
        orders = [instant(make_order(f"o{i}", customer_id=f"c{i}")) for i in range(2)]
        with solver_held(engine):
            async with busy(engine):
                tasks = [asyncio.create_task(engine.submit_orders([o], NOW, f"r{i}"))
                         for i, o in enumerate(orders)]
                await asyncio.sleep(0)
            await drain_taken(engine)
            for task in reversed(tasks):
                task.cancel()
                await asyncio.sleep(0)
        done = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(d, asyncio.CancelledError) for d in done)
        await asyncio.wait_for(engine._drainer, 10)
        assert engine._submits == []
        for order in orders:
            assert len((await engine.store.order(order.order_id)).assignments) == 1
        again = await engine.submit_orders([orders[1]], NOW, "r1")
        assert again.assignments == (await engine.store.order("o1")).assignments
    finally:
        engine.close()


async def test_a_retry_queued_behind_its_cancelled_first_attempt_gets_the_answer():
    """The first attempt of r1 is in a running drain when its deadline cancels it; the
    client's retry (the same id and body, so equal in every field) queued meanwhile must
    stay queued and get the answer, not be taken out of the queue in the first's place."""
    engine = await four_workers()
    try:
        order = instant(make_order("o1", customer_id="c1"))
        with solver_held(engine):
            async with busy(engine):
                leader = asyncio.create_task(engine.submit_orders(
                    [instant(make_order("o0"))], NOW, "r0"))
                first = asyncio.create_task(engine.submit_orders([order], NOW, "r1"))
                await asyncio.sleep(0)
            await drain_taken(engine)
            retry = asyncio.create_task(engine.submit_orders([order], NOW, "r1"))
            await asyncio.sleep(0)
            first.cancel()
            await asyncio.sleep(0)
        await leader
        answer = await asyncio.wait_for(retry, 10)
        assert len(answer.assignments) == 1
        assert answer.assignments == (await engine.store.order("o1")).assignments
    finally:
        engine.close()


class FailingStore(MemoryStore):
    """The memory store; a commit writing order ``bad`` fails, the first ``times`` of them
    (a store error: transient, or for good)."""

    def __init__(self, bad: str, times: int = 1_000_000) -> None:
        super().__init__()
        self.bad, self.times = bad, times

    async def commit(self, commit):
        if self.times and any(r.order.order_id == self.bad for r in commit.orders):
            self.times -= 1
            raise RuntimeError("store write failed")
        return await super().commit(commit)


async def test_a_store_error_writing_one_request_fails_that_request_alone():
    """As one at a time: the request whose write failed gets the error, the others in its
    run are answered and their orders placed."""
    requests = [([instant(make_order(f"o{i}", customer_id=f"c{i}"))], f"r{i}")
                for i in range(3)]
    outcomes = []
    for send in (one_by_one, together):
        engine = Engine(FailingStore("o1"), without_offers(DispatchConfig()))
        try:
            await engine.upsert_workers([make_worker(f"w{i}", home_lat=CENTRE[0] + i / 200)
                                         for i in range(4)], now=NOW)
            answers = await send(engine, requests)
            states = [r and r.state for r in [await engine.store.order(f"o{i}")
                                              for i in range(3)]]
            outcomes.append(([type(a).__name__ for a in answers], states))
        finally:
            engine.close()
    assert outcomes[0][0] == ["SubmitResult", "RuntimeError", "SubmitResult"]
    assert outcomes[1] == outcomes[0]


class CommitCountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.commits = 0

    async def commit(self, commit):
        self.commits += 1
        return await super().commit(commit)


async def test_a_run_writes_its_new_orders_in_one_commit():
    """Three requests of new orders answered together: one commit accepts them all, one
    places them."""
    store = CommitCountingStore()
    engine = Engine(store, without_offers(DispatchConfig()))
    try:
        await engine.upsert_workers([make_worker(f"w{i}", home_lat=CENTRE[0] + i / 200)
                                     for i in range(4)], now=NOW)
        store.commits = 0
        answers = await together(engine, [([instant(make_order(f"o{i}", customer_id=f"c{i}"))],
                                           f"r{i}") for i in range(3)])
        assert [len(a.assignments) for a in answers] == [1, 1, 1]
        assert store.commits == 2
    finally:
        engine.close()


async def test_a_run_whose_joint_write_fails_once_accepts_each_request_alone():
    """The new orders of a run are written in one commit; when that write fails (a transient
    store error), each request is written alone and every one is answered and placed."""
    requests = [([instant(make_order(f"o{i}", customer_id=f"c{i}"))], f"r{i}")
                for i in range(3)]
    store = FailingStore("o1", times=1)
    engine = Engine(store, without_offers(DispatchConfig()))
    try:
        await engine.upsert_workers([make_worker(f"w{i}", home_lat=CENTRE[0] + i / 200)
                                     for i in range(4)], now=NOW)
        answers = await together(engine, requests)
        assert store.times == 0  # (the joint write failed)
        assert [len(a.assignments) for a in answers] == [1, 1, 1]
        assert [(await engine.store.order(f"o{i}")).state for i in range(3)] == [
            OrderState.ASSIGNED] * 3
    finally:
        engine.close()


async def test_requests_left_when_the_drain_is_cancelled_are_refused_not_left_waiting():
    """The task answering the queue cancelled (the event loop closing): its callers get
    UNAVAILABLE at once and nothing of theirs is written."""
    engine = await four_workers()
    try:
        async with busy(engine):
            tasks = [asyncio.create_task(engine.submit_orders(
                [instant(make_order(f"o{i}", customer_id=f"c{i}"))], NOW, f"r{i}"))
                for i in range(2)]
            await asyncio.sleep(0)
            engine._drainer.cancel()
        done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
        assert all(isinstance(d, Unavailable) for d in done)
        assert [await engine.store.order(f"o{i}") for i in range(2)] == [None, None]
    finally:
        engine.close()
