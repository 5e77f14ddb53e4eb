"""The store contract, run unchanged against the memory store and the Redis store (a real
redis-server the tests start)."""

from __future__ import annotations

import asyncio

import pytest

from matcher.credit import CreditEvent, CreditRecord
from matcher.errors import Aborted, FailedPrecondition, InvalidArgument
from matcher.model import (Event, EventType, Job, LinkType, Location, OrderLink, OrderRecord,
                           OrderState, WorkerStatus)
from matcher.store import Commit
from tests.builders import at, make_order, make_worker


def job(order_id: str, hour: float) -> Job:
    return Job(order_id, "c1", "cleaning", 31.23, 121.47, at(hour), at(hour + 1))


async def submitted(store, *order_ids: str) -> list[OrderRecord]:
    records = [OrderRecord(make_order(o), OrderState.PENDING, at(6)) for o in order_ids]
    await store.commit(Commit(orders=records))
    return [await store.order(o) for o in order_ids]


async def test_workers_round_trip(store):
    workers = [make_worker("w1"), make_worker("w2", status=WorkerStatus.OFFLINE,
                                              tags=frozenset({"english"}))]
    await store.put_workers(workers)
    assert sorted(await store.workers(), key=lambda w: w.worker_id) == workers
    assert await store.worker("w2") == workers[1] and await store.worker("nobody") is None


async def test_a_commit_writes_records_plans_and_blocks_together(store):
    record = OrderRecord(make_order("o1"), OrderState.PENDING, at(6), history=["submitted"])
    await store.commit(Commit(orders=[record], blocked={"c1": {"w9"}}))
    stored = await store.order("o1")
    assert stored.state == OrderState.PENDING and stored.history == ["submitted"]
    assert stored.version > 0 and await store.orders_in(OrderState.PENDING) == [stored]
    submitted_version = stored.version
    stored.state = OrderState.ASSIGNED
    plan = await store.plan("w1")
    assert plan == [] and plan.version == 0
    commit = Commit(orders=[stored], plans={"w1": [job("o1", 9)]}, blocked={"c1": {"w8"}})
    commit.based_on("w1", plan)
    await store.commit(commit)
    assert stored.version == (await store.order("o1")).version > submitted_version
    assert await store.orders_in(OrderState.PENDING) == []
    assert [r.order.order_id for r in await store.orders_in(OrderState.ASSIGNED)] == ["o1"]
    plans = await store.plans()
    assert plans == {"w1": [job("o1", 9)]} and plans["w1"].version > 0
    assert await store.blocked() == {"c1": frozenset({"w8", "w9"})}


async def test_a_record_that_changed_meanwhile_refuses_the_whole_commit(store):
    mine, = await submitted(store, "o1")
    theirs = await store.order("o1")
    theirs.state = OrderState.CANCELLED
    await store.commit(Commit(orders=[theirs]))
    mine.state = OrderState.OFFERED
    with pytest.raises(Aborted, match="o1"):
        await store.commit(Commit(orders=[mine], plans={"w1": [job("o1", 9)]}))
    assert (await store.order("o1")).state == OrderState.CANCELLED
    assert await store.plans() == {}  # nothing of the refused commit was written


async def test_a_plan_that_changed_meanwhile_refuses_the_whole_commit(store):
    read = await store.plan("w1")
    first = Commit(plans={"w1": [job("a", 9)]})
    first.based_on("w1", read)
    await store.commit(first)
    late = Commit(plans={"w1": [job("b", 9)]}, events=[Event(EventType.ASSIGNED, at(6), "b")])
    late.based_on("w1", read)  # derived from the plan before the first commit
    with pytest.raises(Aborted, match="w1"):
        await store.commit(late)
    assert await store.plan("w1") == [job("a", 9)]
    assert await store.events_after("", 10) == []


async def test_a_new_order_that_exists_already_is_refused(store):
    await submitted(store, "o1")
    with pytest.raises(Aborted):
        await store.commit(Commit(orders=[OrderRecord(make_order("o1"), OrderState.PENDING,
                                                      at(7))]))


async def test_events_get_cursors_in_order_and_resume_after_any_of_them(store):
    await store.commit(Commit(events=[Event(EventType.OFFERED, at(6), "o1", "w1", "a"),
                                      Event(EventType.ACCEPTED, at(6), "o1", "w1")]))
    await store.commit(Commit(events=[Event(EventType.ASSIGNED, at(7), "o1", "w1")]))
    every = await store.events_after("", 100)
    assert [e.type for e in every] == [EventType.OFFERED, EventType.ACCEPTED,
                                       EventType.ASSIGNED]
    assert len({e.cursor for e in every}) == 3 and every[0].detail == "a"
    assert await store.events_after(every[0].cursor, 100) == every[1:]
    assert await store.events_after(every[0].cursor, 1) == every[1:2]
    assert await store.wait_events(every[-1].cursor, 10, 0.05) == []
    assert await store.wait_events(every[1].cursor, 10, 0.05) == every[2:]
    for bad in ("nope", "99999999999999-0"):
        with pytest.raises(InvalidArgument, match="after_cursor"):
            await store.events_after(bad, 1)



async def test_a_cursor_spelled_otherwise_than_given_out_is_invalid_argument(store):
    """Unicode digits pass str.isdigit() and \\d, and int() reads them; a trailing newline
    passes $; a number past 64 bits passes a digits-only pattern, int() refuses over 4,300
    digits. Each made the memory store raise ValueError (UNKNOWN over gRPC) or the Redis store
    report itself unreachable."""
    await store.commit(Commit(events=[Event(EventType.OFFERED, at(6), "o1", "w1")]))
    [event] = await store.events_after("", 10)
    arabic = event.cursor.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for bad in ("²", event.cursor + "²", arabic, event.cursor + "\n", "9" * 20,
                "9" * 20 + "-0", "0-" + "9" * 20, "1" * 4301, "1" * 4301 + "-0"):
        with pytest.raises(InvalidArgument, match="after_cursor"):
            await store.events_after(bad, 10)
        with pytest.raises(InvalidArgument, match="after_cursor"):
            await store.wait_events(bad, 10, 0.01)
    assert await store.events_after(event.cursor, 10) == []

@pytest.mark.store_options(event_retention=5)
async def test_only_the_newest_events_are_kept_and_a_dropped_cursor_says_so(store):
    # Redis trims its stream in whole blocks (a hundred entries by default): 400 events are
    # enough for it to drop some
    for hour in range(400):
        await store.commit(Commit(events=[Event(EventType.ASSIGNED, hour, f"o{hour}")]))
    kept = await store.events_after("", 1000)
    assert 5 <= len(kept) < 400
    assert [e.order_id for e in kept] == [f"o{h}" for h in range(400 - len(kept), 400)]
    assert await store.events_after(kept[0].cursor, 1000) == kept[1:]
    first = await store.events_after("", 1)
    await store.commit(Commit(events=[Event(EventType.ASSIGNED, h, "late") for h in range(400)]))
    with pytest.raises(FailedPrecondition, match="after_cursor.*empty cursor"):
        await store.events_after(first[0].cursor, 10)
    with pytest.raises(FailedPrecondition, match="after_cursor"):
        await store.wait_events(first[0].cursor, 10, 0.05)
    with pytest.raises(InvalidArgument, match="after_cursor"):  # never given out: still unknown
        await store.events_after("99999999999999-0" if "-" in kept[0].cursor else "999999", 1)
    assert (await store.events_after("", 1000))[-1].order_id == "late"


@pytest.mark.store_options(request_id_ttl_s=0.3)
async def test_a_request_id_is_forgotten_after_its_time_to_live(store):
    await store.remember("r1", "abc", "first")
    await store.remember("r1", "def", "second")  # the first answer stays
    assert await store.remembered("r1") == ("abc", "first")
    await asyncio.sleep(0.4)
    assert await store.remembered("r1") is None
    await store.remember("r1", "def", "second")  # free again
    assert await store.remembered("r1") == ("def", "second")


async def test_request_ids_are_looked_up_and_kept_several_at_once(store):
    """What a drain of SubmitOrders requests does: one read for all their ids, one write for
    all their answers; each keeps its first answer, as one by one."""
    await store.remember("r1", "abc", "first")
    await store.remember_many([("r1", "def", "second"), ("r2", "ghi", (1, "x"))])
    assert await store.remembered_many(["r2", "r3", "r1"]) == [
        ("ghi", (1, "x")), None, ("abc", "first")]
    assert await store.remembered("r2") == ("ghi", (1, "x"))
    assert await store.remembered_many([]) == []
    await store.remember_many([])


async def test_credit_locations_notices_and_request_ids(store):
    record = CreditRecord(80.0, [CreditEvent(at(9), "review", "o1", stars=5)], at(9))
    await store.commit(Commit(credit={"w1": record},
                              locations={"w1": Location(31.2, 121.4, at(9))},
                              notices={"certificate:w1"}))
    assert await store.credit("w1") == record and await store.credits() == {"w1": record}
    assert await store.locations() == {"w1": Location(31.2, 121.4, at(9))}
    assert await store.noticed("certificate:w1") and not await store.noticed("other")
    assert await store.remembered("r1") is None
    await store.remember("r1", "abc", [record, (1, "x"), {"k": frozenset({"a"})}])
    assert await store.remembered("r1") == ("abc", [record, (1, "x"), {"k": frozenset({"a"})}])


async def test_the_workers_version_changes_with_every_worker_write(store):
    first = await store.workers_version()
    await store.put_workers([make_worker("w1")])
    second = await store.workers_version()
    await store.commit(Commit(workers=[make_worker("w1", credit_score=70.0)]))
    third = await store.workers_version()
    await store.commit(Commit(notices={"x"}))
    assert first != second != third == await store.workers_version()


async def test_a_worker_or_credit_changed_meanwhile_refuses_the_commit(store):
    await store.put_workers([make_worker("w1")])
    read = await store.worker_version("w1")
    await store.put_workers([make_worker("w1", credit_score=70.0)])  # another replica
    late = Commit(workers=[make_worker("w1", status=WorkerStatus.OFFLINE)],
                  expect_workers={"w1": read})
    with pytest.raises(Aborted, match="w1"):
        await store.commit(late)
    assert (await store.worker("w1")).credit_score == 70.0
    await store.commit(Commit(credit={"w1": CreditRecord(80.0, [], at(9))}))
    mine, theirs = await store.credit("w1"), await store.credit("w1")
    theirs.events.append(CreditEvent(at(10), "no_show", "o1", points=20.0))
    await store.commit(Commit(credit={"w1": theirs}))
    mine.events.append(CreditEvent(at(10), "review", "o2", stars=5))
    with pytest.raises(Aborted, match="credit"):
        await store.commit(Commit(credit={"w1": mine}))
    assert [e.kind for e in (await store.credit("w1")).events] == ["no_show"]


async def test_an_order_read_but_not_written_refuses_the_commit_when_it_changed(store):
    """``Commit.expect_orders``: the versions of records a decision read (0: absent)."""
    first, = await submitted(store, "first")
    plan = await store.plan("w1")
    placing = Commit(plans={"w1": [job("o2", 9)]}, expect_orders={"first": first.version,
                                                                   "absent": 0})
    placing.based_on("w1", plan)
    await store.commit(placing)  # the pass case: nothing read changed
    assert await store.plan("w1") == [job("o2", 9)]
    first.state = OrderState.CANCELLED
    await store.commit(Commit(orders=[first]))  # another replica
    late = Commit(plans={"w2": [job("o3", 9)]}, expect_orders={"first": placing.expect_orders[
        "first"]})
    with pytest.raises(Aborted, match="first"):
        await store.commit(late)
    assert await store.plan("w2") == []
    await submitted(store, "absent")
    with pytest.raises(Aborted, match="absent"):
        await store.commit(Commit(plans={"w2": [job("o3", 9)]}, expect_orders={"absent": 0}))
    assert await store.plan("w2") == []


async def test_lapsed_offers_are_the_offered_orders_past_their_deadline(store):
    first, second, third = await submitted(store, "o1", "o2", "o3")
    for record, deadline in ((first, at(10)), (second, at(11)), (third, at(10))):
        record.state, record.offer_deadline = OrderState.OFFERED, deadline
    await store.commit(Commit(orders=[first, second, third]))
    assert await store.lapsed_offers(at(9)) == []
    lapsed = await store.lapsed_offers(at(10))
    assert sorted(r.order.order_id for r in lapsed) == ["o1", "o3"]
    assert await store.lapsed_offers(at(10)) == lapsed  # reading them changes nothing
    first = await store.order("o1")
    first.state, first.offer_deadline = OrderState.ASSIGNED, 0  # accepted: no longer due
    third = await store.order("o3")
    third.offer_deadline = at(12)  # offered again, later
    await store.commit(Commit(orders=[first, third]))
    assert [r.order.order_id for r in await store.lapsed_offers(at(11))] == ["o2"]
    assert sorted(r.order.order_id for r in await store.lapsed_offers(at(12))) == ["o2", "o3"]


async def test_a_view_stays_as_it_was_read_while_commits_go_on(store):
    await store.commit(Commit(plans={"w1": [job("o1", 9)]}, blocked={"c1": {"w2"}}))
    view = await store.view()
    await store.commit(Commit(plans={"w1": [job("o1", 9), job("o2", 11)], "w2": [job("o3", 9)]},
                              blocked={"c1": {"w3"}},
                              locations={"w1": Location(31.2, 121.4, at(9))}))
    assert list(view.plans["w1"]) == [job("o1", 9)] and view.plans["w1"].version > 0
    assert "w2" not in view.plans and view.blocked["c1"] == frozenset({"w2"})
    assert view.locations.get("w1") is None
    fresh = await store.view()
    assert len(fresh.plans["w1"]) == 2 and fresh.plans["w1"].version > view.plans["w1"].version
    assert fresh.blocked["c1"] == frozenset({"w2", "w3"})


async def test_linked_orders_are_the_orders_of_a_state_with_a_link(store):
    follow = OrderLink("o1", LinkType.SAME_WORKER)
    records = [OrderRecord(make_order("o1"), OrderState.ASSIGNED, at(6)),
               OrderRecord(make_order("o2", link=follow), OrderState.ASSIGNED, at(6)),
               OrderRecord(make_order("o3", link=follow), OrderState.PENDING, at(6))]
    await store.commit(Commit(orders=records))
    assert [r.order.order_id for r in await store.linked_orders(OrderState.ASSIGNED)] == ["o2"]
    assert [r.order.order_id for r in await store.linked_orders(OrderState.PENDING)] == ["o3"]
    moved = await store.order("o3")
    moved.state = OrderState.CANCELLED
    await store.commit(Commit(orders=[moved]))
    assert await store.linked_orders(OrderState.PENDING) == []
    assert [r.state for r in await store.linked_orders(OrderState.CANCELLED)] == \
        [OrderState.CANCELLED]


async def test_credits_due_are_the_records_with_events_not_refreshed_since(store):
    quiet = CreditRecord(80.0, [], at(8))
    early = CreditRecord(70.0, [CreditEvent(at(8), "review", "o1", stars=5)], at(8))
    late = CreditRecord(60.0, [CreditEvent(at(9), "no_show", "o2", points=20.0)], at(10))
    await store.commit(Commit(credit={"w1": quiet, "w2": early, "w3": late}))
    assert await store.credits_due(at(7)) == {}
    assert await store.credits_due(at(9)) == {"w2": early}
    assert await store.credits_due(at(9)) == {"w2": early}  # reading them changes nothing
    assert await store.credits_due(at(10)) == {"w2": early, "w3": late}
    refreshed = await store.credit("w2")
    refreshed.refreshed_at = at(11)
    cleared = await store.credit("w3")
    cleared.events = []
    await store.commit(Commit(credit={"w2": refreshed, "w3": cleared}))
    assert await store.credits_due(at(10)) == {}
    assert await store.credits_due(at(11)) == {"w2": refreshed}
    cleared.events = [CreditEvent(at(12), "review", "o3", stars=4)]  # events again
    await store.commit(Commit(credit={"w3": cleared}))
    assert list(await store.credits_due(at(12))) == ["w2", "w3"]


async def test_orders_in_follows_every_change_of_state(store):
    records = await submitted(store, "o1", "o2", "o3")
    for record, state in zip(records, (OrderState.ASSIGNED, OrderState.PENDING,
                                       OrderState.CANCELLED)):
        record.state = state
    await store.commit(Commit(orders=records))
    back = await store.order("o1")
    back.state = OrderState.PENDING
    await store.commit(Commit(orders=[back]))

    async def ids(state):
        return sorted(r.order.order_id for r in await store.orders_in(state))
    assert await ids(OrderState.PENDING) == ["o1", "o2"]
    assert await ids(OrderState.ASSIGNED) == []
    assert await ids(OrderState.CANCELLED) == ["o3"]
    for state in OrderState:  # shared (the store's own records, to read): the same records
        assert await store.orders_in(state, shared=True) == await store.orders_in(state)
    assert [r.state for r in await store.orders_in(OrderState.PENDING)] == \
        [OrderState.PENDING] * 2



async def test_a_redis_store_from_before_the_due_index_builds_it_on_first_use(redis_url):
    import uuid

    from matcher.redis_store import RedisStore

    prefix = f"old-{uuid.uuid4().hex[:12]}"
    early = CreditRecord(70.0, [CreditEvent(at(8), "review", "o1", stars=5)], at(8))
    writer = RedisStore(redis_url, prefix=prefix)
    await writer.commit(Commit(credit={"w1": CreditRecord(80.0, [], at(8)), "w2": early}))
    # what a store written before the index existed holds: the records alone
    await writer.redis.delete(f"{prefix}:creditdue", f"{prefix}:creditdue_built")
    reader = RedisStore(redis_url, prefix=prefix)
    try:
        assert await reader.credits_due(at(9)) == {"w2": early}
        assert await writer.credits_due(at(9)) == {"w2": early}
    finally:
        await writer.close()
        await reader.close()


async def test_a_commit_made_with_an_older_workers_version_is_refused(store):
    """A dispatch decided with the workers as they were: a worker written since (on another
    replica: gone offline) refuses its commit, and nothing of it is written."""
    await store.put_workers([make_worker("w1")])
    view = await store.view()
    await store.put_workers([make_worker("w1", status=WorkerStatus.OFFLINE)])
    (record,) = await submitted(store, "o1")
    stale = Commit(orders=[record], plans={"w1": [job("o1", 9)]},
                   workers_version=view.workers_version)
    with pytest.raises(Aborted, match="workers"):
        await store.commit(stale)
    assert await store.plan("w1") == [] and (await store.order("o1")).version == record.version
    fresh = Commit(orders=[record], plans={"w1": [job("o1", 9)]},
                   workers_version=(await store.view()).workers_version)
    await store.commit(fresh)
    assert [j.order_id for j in await store.plan("w1")] == ["o1"]


async def test_two_replicas_never_book_a_worker_another_took_offline_meanwhile(redis_url):
    """Replica A dispatches; between its view and its commit replica B takes the worker
    offline (its plan empty, so no plan version moves): A's commit is refused and its retry
    books nobody."""
    import uuid

    from matcher.config import DispatchConfig
    from matcher.engine import Engine
    from matcher.redis_store import RedisStore
    from tests.builders import without_offers

    prefix = f"race-{uuid.uuid4().hex[:8]}"
    config = without_offers(DispatchConfig())
    a = Engine(RedisStore(redis_url, prefix=prefix), config)
    b = Engine(RedisStore(redis_url, prefix=prefix), config)
    try:
        await a.upsert_workers([make_worker("w1")], now=at(6))
        await a.submit_orders([make_order("o1")], at(6))
        commit = a.store.commit

        async def b_acts_first(change):
            if change.plans and not await b.store.plan("w1") and \
                    (await b.store.worker("w1")).status == WorkerStatus.ONLINE:
                await b.set_worker_status("w1", WorkerStatus.OFFLINE, at(6), "went home")
            return await commit(change)

        a.store.commit = b_acts_first
        await a.dispatch([], at(6))
        assert await b.store.plan("w1") == []
        assert (await b.store.order("o1")).state == OrderState.PENDING
    finally:
        a.close()
        b.close()
        await a.store.close()
        await b.store.close()


@pytest.mark.parametrize("timeout_s", [0.3, 0.1])
async def test_a_wait_longer_than_a_redis_call_may_take_returns_empty_not_unavailable(
        redis_url, timeout_s):
    """WatchEvents waits a second per call; with store.timeout_s shorter than that the
    blocking read returns early rather than failing as a timeout (too short to block at
    all: it reads, then waits)."""
    import uuid

    from matcher.redis_store import RedisStore

    store = RedisStore(redis_url, prefix=f"wait-{uuid.uuid4().hex[:8]}", timeout_s=timeout_s)
    try:
        await store.commit(Commit(events=[Event(EventType.ASSIGNED, at(6), "o1")]))
        cursor = (await store.events_after("", 10))[-1].cursor
        assert await store.wait_events(cursor, 256, 1.0) == []
    finally:
        await store.close()


async def test_waiting_watchers_leave_the_connections_requests_need(redis_url):
    """More waiting WatchEvents streams than the pool has connections: other calls still
    get a connection at once."""
    import time
    import uuid

    from matcher.redis_store import RedisStore

    store = RedisStore(redis_url, prefix=f"pool-{uuid.uuid4().hex[:8]}", max_connections=4)
    await store.commit(Commit(events=[Event(EventType.ASSIGNED, at(6), "o1")]))
    cursor = (await store.events_after("", 10))[-1].cursor
    watchers = [asyncio.ensure_future(store.wait_events(cursor, 256, 1.0)) for _ in range(8)]
    try:
        await asyncio.sleep(0.2)
        started = time.monotonic()
        for _ in range(10):
            assert await store.order("nobody") is None
        assert time.monotonic() - started < 0.9  # not waiting for a watcher's connection
    finally:
        await asyncio.gather(*watchers, return_exceptions=True)
        await store.close()


def test_a_prefix_with_the_key_separator_is_refused():
    """'hd' and 'hd:blocked' would share keys (the one's blocks of customer 'workers' are
    the other's workers)."""
    from matcher.config import ConfigError, parse_config
    from matcher.redis_store import RedisStore

    with pytest.raises(ConfigError, match="store.prefix"):
        parse_config('[store]\nprefix = "hd:x"\n')
    with pytest.raises(ValueError, match="prefix"):
        RedisStore("redis://127.0.0.1:1/0", prefix="hd:x")


# ---------------------------------------------------------------- Redis losing its last writes

async def _snapshot(store) -> dict[bytes, bytes]:
    """Every key of ``store``'s prefix, dumped: what a Redis restarted from an AOF that missed
    the writes after this moment (or a replica behind, promoted) will hold."""
    keys = [k async for k in store.redis.scan_iter(match=f"{store.p}:*")]
    return {k: await store.redis.dump(k) for k in keys}


async def _lose_writes_since(store, snapshot: dict[bytes, bytes]) -> None:
    keys = [k async for k in store.redis.scan_iter(match=f"{store.p}:*")]
    await store.redis.delete(*keys)
    for key, value in snapshot.items():
        await store.redis.restore(key, 0, value)


@pytest.fixture
async def two_replicas(redis_url):
    """Two Redis stores on one prefix: replicas of one service."""
    import uuid

    from matcher.redis_store import RedisStore

    prefix = f"loss-{uuid.uuid4().hex[:8]}"
    stores = RedisStore(redis_url, prefix=prefix), RedisStore(redis_url, prefix=prefix)
    yield stores
    for store in stores:
        await store.close()


async def test_a_replica_never_serves_a_cached_plan_that_redis_lost(two_replicas):
    """Replica A caches a plan Redis then loses; replica B writes that plan anew from what
    Redis kept. A's next view has B's plan: a plan's version never comes back (a counter
    would: B's write would count up to the lost write's number, and A would keep its copy,
    and then book the worker on top of B's job)."""
    a, b = two_replicas
    await a.commit(Commit(plans={"w1": [job("o1", 9)]}))
    kept = await _snapshot(a)
    lost = Commit(plans={"w1": [job("o1", 9), job("o2", 11)]})
    lost.based_on("w1", (await a.view()).plans["w1"])
    await a.commit(lost)
    assert list((await a.view()).plans["w1"]) == [job("o1", 9), job("o2", 11)]
    await _lose_writes_since(a, kept)

    read = await b.plan("w1")
    assert read == [job("o1", 9)]
    rewritten = Commit(plans={"w1": [job("o1", 9), job("o3", 13)]})
    rewritten.based_on("w1", read)
    await b.commit(rewritten)
    assert list((await a.view()).plans["w1"]) == [job("o1", 9), job("o3", 13)]


async def test_a_view_after_redis_lost_writes_shows_what_it_kept_with_nothing_written_since(
        two_replicas):
    """A keeps in its cache the plans its own commits wrote (no re-read while nothing else
    writes plans); Redis then loses those writes and nobody writes again: A's next view
    shows what Redis kept, the lost plan of a new worker gone too."""
    a, _ = two_replicas
    await a.commit(Commit(plans={"w1": [job("o1", 9)]}))
    await a.view()
    kept = await _snapshot(a)
    lost = Commit(plans={"w1": [job("o1", 9), job("o2", 11)], "w2": [job("o5", 9)]})
    lost.based_on("w1", (await a.view()).plans["w1"])
    await a.commit(lost)
    assert set((await a.view()).plans) == {"w1", "w2"}
    await _lose_writes_since(a, kept)
    view = await a.view()
    assert dict(view.plans) == {"w1": (job("o1", 9),)}
    assert view.plans["w1"].version == (await a.plan("w1")).version


async def test_a_replica_sees_plans_another_wrote_between_its_own_commits(two_replicas):
    a, b = two_replicas
    await a.commit(Commit(plans={"w1": [job("o1", 9)]}))
    await a.view()
    await b.commit(Commit(plans={"w2": [job("o2", 9)]}))
    await a.commit(Commit(plans={"w3": [job("o3", 9)]}))  # (A's cache cannot take this alone)
    plans = (await a.view()).plans
    assert {w: list(jobs) for w, jobs in plans.items()} == {
        "w1": [job("o1", 9)], "w2": [job("o2", 9)], "w3": [job("o3", 9)]}
    for worker_id, plan in plans.items():
        assert plan.version == (await b.plan(worker_id)).version


async def test_a_decision_made_on_a_lost_write_is_refused(two_replicas):
    """A reads an order record as a write left it that Redis then loses; B changes the
    record Redis kept. A's commit on its read is refused, not taken as if nothing had
    happened (with counters B's write would bring the record back to the version A read)."""
    a, b = two_replicas
    await a.commit(Commit(orders=[OrderRecord(make_order("o1"), OrderState.PENDING, at(6))]))
    kept = await _snapshot(a)
    offered = await a.order("o1")
    offered.state, offered.offer_deadline = OrderState.OFFERED, at(7)
    await a.commit(Commit(orders=[offered]))
    mine = await a.order("o1")
    await _lose_writes_since(a, kept)

    theirs = await b.order("o1")
    theirs.state = OrderState.CANCELLED
    await b.commit(Commit(orders=[theirs]))
    mine.state = OrderState.ASSIGNED
    with pytest.raises(Aborted, match="o1"):
        await a.commit(Commit(orders=[mine]))
    assert (await a.order("o1")).state == OrderState.CANCELLED


async def test_the_workers_version_never_comes_back_after_redis_lost_writes(two_replicas):
    """A replica keeps its worker table while the workers' version stands: a version that a
    lost write had must not stand for different workers later."""
    a, b = two_replicas
    await a.put_workers([make_worker("w1")])
    kept = await _snapshot(a)
    await a.put_workers([make_worker("w1", status=WorkerStatus.OFFLINE)])
    seen = (await a.view()).workers_version
    await _lose_writes_since(a, kept)
    await b.put_workers([make_worker("w1", credit_score=70.0)])
    assert (await a.view()).workers_version != seen
    assert await a.workers_version() == await b.workers_version() != seen
