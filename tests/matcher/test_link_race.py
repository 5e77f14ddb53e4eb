"""Two replicas on one store: one places an order linked to a first order while the other
moves that first order, in either order of their commits. The placement read the first order's
record and writes it back unchanged (its version moves): whichever commit comes second is
refused, and runs again (a dispatch by itself, a request by the client's retry) on what is
there now."""

from __future__ import annotations

import uuid

import pytest

from matcher.config import DispatchConfig
from matcher.engine import Engine
from matcher.errors import Aborted
from matcher.model import DispatchMode, LinkType, OrderLink, OrderState, Shift, Skill
from matcher.store import MemoryStore
from tests.builders import DAY, HOUR, at, make_order, make_worker, without_offers
from tests.checker import check_plans

NOW = at(6)
CONFIG = without_offers(DispatchConfig())


class Hooked:
    """A store whose commits first run ``before(commit)`` (while it is set)."""

    before = None

    async def commit(self, commit):
        if self.before is not None:
            await self.before(commit)
        return await super().commit(commit)


class HookedMemory(Hooked, MemoryStore):
    pass


@pytest.fixture(params=["memory", "redis"])
async def replicas(request):
    """Engines A and B on one store; A's store runs a hook before each commit."""
    if request.param == "memory":
        store_a = HookedMemory()
        store_b = store_a
    else:
        from matcher.redis_store import RedisStore

        class HookedRedis(Hooked, RedisStore):
            pass
        prefix = f"test-{uuid.uuid4().hex[:12]}"
        url = request.getfixturevalue("redis_url")
        store_a, store_b = HookedRedis(url, prefix=prefix), RedisStore(url, prefix=prefix)
    a, b = Engine(store_a, CONFIG), Engine(store_b, CONFIG)
    yield a, b
    a.close()
    b.close()
    if store_b is not store_a:
        await store_a.close()
        await store_b.close()


WORKERS = [make_worker("w1"),
           make_worker("w2", shifts=(Shift(at(11), at(18)),)),
           make_worker("w3", skills=(Skill("repair", 3, DAY + 90 * 24 * HOUR),))]
FIRST = make_order("first", earliest_start=at(9), latest_start=at(12), duration=HOUR,
                   mode=DispatchMode.INSTANT)
FOLLOWER = make_order("follower", service_type="repair", earliest_start=at(9),
                      latest_start=at(13), duration=HOUR,
                      link=OrderLink("first", LinkType.START_GAP, HOUR // 2, HOUR))
# an order of the same customer that blocks the first order's worker: its job there goes
BLOCKS_W1 = make_order("blocks", earliest_start=at(14), latest_start=at(15),
                       blocked_worker_ids=frozenset({"w1"}))


async def final_problems(engine) -> list[str]:
    """The hard-constraint violations in what the store holds now."""
    store = engine.store
    plans = {w: list(jobs) for w, jobs in (await store.plans()).items() if jobs}
    records = [await store.order(o) for o in ("first", "follower", "blocks")]
    orders = {r.order.order_id: r.order for r in records if r is not None}
    workers = {w.worker_id: w for w in await store.workers()}
    blocked = {c: set(ws) for c, ws in (await store.blocked()).items()}
    return check_plans(CONFIG, workers, plans, orders, blocked)


async def test_a_follower_placed_while_another_replica_moves_its_first_order(replicas):
    a, b = replicas
    await a.upsert_workers(WORKERS, now=NOW)
    placed = await a.submit_orders([FIRST], NOW)
    assert [(x.worker_id, x.planned_start) for x in placed.assignments] == [("w1", at(9))]
    await a.submit_orders([FOLLOWER], NOW)  # (batch mode: it waits for a Dispatch)
    moved = []

    async def move_first(commit):
        # A is about to write the follower's place, worked out from the first order's job
        # at 9:00 with w1; B's block takes that job away first
        if not moved and any(r.order.order_id == "follower" for r in commit.orders):
            moved.append(await b.submit_orders([BLOCKS_W1], NOW))
    a.store.before = move_first
    result = await a.dispatch(["follower"], NOW)
    a.store.before = None
    assert moved  # (the race happened)
    first = await a.store.order("first")
    assert "w1" not in first.worker_ids
    assert await final_problems(a) == []
    follower = await a.store.order("follower")
    if follower.state != OrderState.PENDING:  # placed after the first order's new start
        gap = follower.assignments[0].planned_start - first.assignments[0].planned_start
        assert HOUR // 2 <= gap <= HOUR
    assert {x.order_id for x in result.assignments} <= {"follower"}


async def test_a_first_order_unplanned_while_another_replica_places_its_follower(replicas):
    """The other way round: A unplans the first order (a block of its worker) having read its
    followers while the follower was still pending; B places the follower just before A's
    commit lands."""
    a, b = replicas
    await a.upsert_workers(WORKERS, now=NOW)
    await a.submit_orders([FIRST], NOW)
    await a.submit_orders([FOLLOWER], NOW)
    placed = []

    async def place_follower(commit):
        if not placed and any(r.order.order_id == "blocks" for r in commit.orders):
            placed.append(await b.dispatch(["follower"], NOW))
    a.store.before = place_follower
    try:
        await a.submit_orders([BLOCKS_W1], NOW, "r-blocks")
    except Aborted:  # (refused: the first order changed meanwhile) the client's retry
        await a.submit_orders([BLOCKS_W1], NOW, "r-blocks")
    a.store.before = None
    assert placed and [x.order_id for x in placed[0].assignments] == ["follower"]
    assert "w1" not in (await a.store.order("first")).worker_ids
    assert await final_problems(a) == []


async def test_a_follower_placed_with_nothing_moved_meanwhile(replicas):
    """The pass case: the first order's record read is the one at the commit."""
    a, _ = replicas
    await a.upsert_workers(WORKERS, now=NOW)
    await a.submit_orders([FIRST], NOW)
    await a.submit_orders([FOLLOWER], NOW)
    result = await a.dispatch(["follower"], NOW)
    assert [(x.worker_id, x.planned_start) for x in result.assignments] == [("w3", at(9.5))]
    assert await final_problems(a) == []
