"""A re-optimisation searches without the engine's lock, so dispatch goes on meanwhile; its new
plans are written only when nothing they were made from changed since it read them (the plans
they replace, the orders they move or place, the workers, the customers' blocks), else Aborted
and nothing of it is written. On the memory store and on a real redis-server.

Each test holds the search until its own change is written: :class:`Gated` runs the real
re-optimisation, on this process, once the test opens its gate."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from matcher.config import DispatchConfig
from matcher.engine import Engine
from matcher.errors import Aborted
from matcher.model import DispatchMode, LinkType, OrderLink, OrderState, WorkerStatus
from matcher.reoptimise import Reoptimiser
from tests.builders import CENTRE, HOUR, at, make_order, make_worker, without_offers

CONFIG = without_offers(DispatchConfig())  # (an offered job is locked: nothing would move)
NOW = at(7)
EAST, WEST = (CENTRE[0], CENTRE[1] + 0.05), (CENTRE[0], CENTRE[1] - 0.05)
NORTH = (CENTRE[0] + 0.08, CENTRE[1])
SEARCH_S = 0.3


class Gated:
    """The engine's re-optimisation, run when the test opens :attr:`gate`."""

    def __init__(self) -> None:
        self.searching, self.gate = asyncio.Event(), asyncio.Event()

    async def run(self, planner, scope, time_limit_s, solution_limit):
        self.searching.set()
        await self.gate.wait()
        return Reoptimiser(planner).run(scope, time_limit_s, solution_limit)

    def close(self) -> None:
        pass


@pytest.fixture
async def gated(store):
    """An engine whose re-optimisation waits at a gate, and the gate."""
    optimizer = Gated()
    engine = Engine(store, CONFIG, optimizer=optimizer)
    yield engine, optimizer
    engine.close()


def worker(worker_id: str, home):
    return make_worker(worker_id, home_lat=home[0], home_lon=home[1])


def order(order_id: str, place, mode=DispatchMode.INSTANT, hour: float = 10, **fields):
    return make_order(order_id, customer_id=fields.pop("customer_id", order_id), lat=place[0],
                      lon=place[1] + 0.001, earliest_start=at(hour),
                      latest_start=fields.pop("latest_start", at(hour + 1)), duration=HOUR,
                      mode=mode, **fields)


async def crossed(engine) -> None:
    """West holds the east order (it came while west was alone); east and north arrive."""
    await engine.upsert_workers([worker("west", WEST)], now=NOW)
    await engine.submit_orders([order("o-east", EAST)], NOW)
    await engine.upsert_workers([worker("east", EAST), worker("north", NORTH)], now=NOW)


async def searching(engine, optimizer) -> asyncio.Task:
    """A re-optimisation of every plan, started and held at its gate."""
    task = asyncio.create_task(engine.optimize_plans([], NOW, SEARCH_S))
    await asyncio.wait_for(optimizer.searching.wait(), 10)
    return task


async def planned(engine) -> dict[str, list[str]]:
    return {w: [j.order_id for j in jobs] for w, jobs in (await engine.store.plans()).items()}


async def test_a_search_nothing_disturbed_writes_its_plans(gated):
    engine, optimizer = gated
    await crossed(engine)
    task = await searching(engine, optimizer)
    optimizer.gate.set()
    result = await task
    assert result.improved and result.moved == 1
    assert (await planned(engine))["east"] == ["o-east"]


async def test_dispatch_goes_on_while_a_search_runs_and_elsewhere_leaves_it_valid(gated):
    engine, optimizer = gated
    await crossed(engine)
    task = await searching(engine, optimizer)
    # the engine's lock is free: an instant order is placed before the search even begins
    # (with the lock held through the search, this would wait for the gate: a timeout)
    answer = await asyncio.wait_for(engine.submit_orders([order("o-north", NORTH)], NOW), 10)
    assert [a.worker_id for a in answer.assignments] == ["north"]
    optimizer.gate.set()
    result = await task  # north's plan was not one the search rewrites
    assert result.improved
    assert await planned(engine) == {"west": [], "east": ["o-east"], "north": ["o-north"]}


async def test_a_plan_it_rewrites_changed_meanwhile_refuses_it_and_nothing_is_written(gated):
    engine, optimizer = gated
    await crossed(engine)
    task = await searching(engine, optimizer)
    answer = await engine.submit_orders([order("o-2", WEST, hour=14)], NOW)
    [changed] = [a.worker_id for a in answer.assignments]
    assert changed in ("east", "west")  # a plan the search rewrites (o-east moves)
    written = await planned(engine)
    optimizer.gate.set()
    with pytest.raises(Aborted, match=f"the plan of worker '?{changed}'? changed meanwhile"):
        await task
    assert await planned(engine) == written
    assert (await engine.order("o-east")).worker_ids == ["west"]


async def test_an_order_it_places_placed_meanwhile_refuses_it(gated):
    engine, optimizer = gated
    await engine.upsert_workers([worker("west", WEST)], now=NOW)
    await engine.submit_orders([order("o-b", WEST, DispatchMode.BATCHED)], NOW)
    task = await searching(engine, optimizer)
    await engine.dispatch(["o-b"], NOW)  # a batch round places it first
    optimizer.gate.set()
    with pytest.raises(Aborted):
        await task
    assert await planned(engine) == {"west": ["o-b"]}
    assert (await engine.order("o-b")).state == OrderState.ASSIGNED


@pytest.mark.parametrize("blocker, refused", [("c1", True), ("c2", False)])
async def test_a_customer_blocking_the_worker_meanwhile_refuses_it(gated, blocker, refused):
    engine, optimizer = gated
    await engine.upsert_workers([worker("west", WEST)], now=NOW)
    await engine.submit_orders([order("o-b", WEST, DispatchMode.BATCHED, customer_id="c1")],
                               NOW)
    task = await searching(engine, optimizer)
    # another order of a customer blocks west: no plan or order the search read changes
    await engine.submit_orders([order("o-2", EAST, DispatchMode.BATCHED, customer_id=blocker,
                                      blocked_worker_ids=frozenset({"west"}))], NOW)
    optimizer.gate.set()
    if refused:
        with pytest.raises(Aborted, match="customer 'c1' blocked worker 'west'"):
            await task
        assert await planned(engine) == {}
        assert (await engine.order("o-b")).state == OrderState.PENDING
    else:
        assert (await task).placed == ("o-b",)
        assert await planned(engine) == {"west": ["o-b"]}


async def test_a_block_on_a_worker_whose_job_for_the_customer_is_done_refuses_nothing(gated):
    """A customer may block a worker after a job of theirs was done (the complaint that comes
    after the visit): the done job stays in the worker's day, and a re-optimisation that gives
    that worker another customer's order breaks no block and is not refused as if one came
    meanwhile; the blocking customer's own pending order stays off that worker."""
    engine, optimizer = gated
    await engine.upsert_workers([worker("west", WEST)], now=NOW)
    await engine.submit_orders([order("o-done", WEST, hour=9, customer_id="c1")], NOW)
    await engine.complete_order("o-done", at(9), at(10))
    await engine.submit_orders([order("o-again", WEST, DispatchMode.BATCHED, customer_id="c1",
                                      blocked_worker_ids=frozenset({"west"}))], NOW)
    await engine.submit_orders([order("o-other", WEST, DispatchMode.BATCHED, hour=12,
                                      customer_id="c2")], NOW)
    optimizer.gate.set()
    assert (await engine.optimize_plans([], NOW, SEARCH_S)).placed == ("o-other",)
    assert await planned(engine) == {"west": ["o-done", "o-other"]}
    assert (await engine.order("o-again")).state == OrderState.PENDING


async def starts(engine) -> dict[str, list[tuple[str, int]]]:
    return {w: [(j.order_id, j.start) for j in jobs]
            for w, jobs in (await engine.store.plans()).items()}


async def test_a_follower_linked_meanwhile_to_an_order_it_moves_refuses_it(gated):
    """The search would move o-f from west to east at another start; meanwhile an order is
    placed on north to start within 5 minutes of o-f. Moving o-f would break that link."""
    engine, optimizer = gated
    await engine.upsert_workers([worker("west", WEST)], now=NOW)
    await engine.submit_orders([order("o-w", WEST, hour=9, latest_start=at(9))], NOW)
    await engine.submit_orders([order("o-f", EAST, latest_start=at(12), customer_id="c1")],
                               NOW)
    await engine.upsert_workers([worker("east", EAST), worker("north", NORTH)], now=NOW)
    task = await searching(engine, optimizer)
    linked = OrderLink("o-f", LinkType.START_GAP, 0, 300)
    answer = await engine.submit_orders([order("o-l", NORTH, hour=9, customer_id="c1",
                                               latest_start=at(13), link=linked)], NOW)
    assert [a.worker_id for a in answer.assignments] == ["north"]
    written = await starts(engine)
    optimizer.gate.set()
    with pytest.raises(Aborted, match="linked"):
        await task
    assert await starts(engine) == written


async def test_placing_a_follower_whose_first_order_was_declined_meanwhile_is_refused(store):
    """With offers: o-g is offered to west (an offer stays put), o-p is pending and starts
    within an hour after o-g. The search would place o-p beside o-g; meanwhile west
    declines o-g, which is pending again."""
    optimizer = Gated()
    engine = Engine(store, DispatchConfig(), optimizer=optimizer)
    try:
        await engine.upsert_workers([worker("west", WEST), worker("east", EAST)], now=NOW)
        await engine.submit_orders([order("o-g", WEST, DispatchMode.BATCHED, customer_id="c1")],
                                   NOW)
        await engine.dispatch(["o-g"], NOW)
        [holder] = (await engine.order("o-g")).worker_ids
        await engine.submit_orders([order("o-p", EAST, DispatchMode.BATCHED, customer_id="c1",
                                          latest_start=at(12),
                                          link=OrderLink("o-g", LinkType.START_GAP, 0, HOUR))],
                                   NOW)
        task = await searching(engine, optimizer)
        await engine.respond_to_offer("o-g", holder, False, NOW)
        optimizer.gate.set()
        with pytest.raises(Aborted, match="linked"):
            await task
        assert (await engine.order("o-p")).state == OrderState.PENDING
        assert (await engine.order("o-g")).state == OrderState.PENDING
    finally:
        engine.close()


async def test_a_worker_changed_meanwhile_refuses_it(gated):
    engine, optimizer = gated
    await crossed(engine)
    task = await searching(engine, optimizer)
    await engine.set_worker_status("east", WorkerStatus.OFFLINE, NOW)
    optimizer.gate.set()
    with pytest.raises(Aborted, match="workers changed"):
        await task
    assert (await planned(engine))["west"] == ["o-east"]


async def test_a_reload_while_it_searches_leaves_the_run_on_the_config_it_began_with(gated):
    """A run without a pinned config (the server's periodic one) writes what it searched
    under the config in force when it began: its assignments carry that config's hash."""
    engine, optimizer = gated
    await crossed(engine)
    began = engine.config.hash
    task = await searching(engine, optimizer)
    await engine.reload(replace(CONFIG, weights=replace(CONFIG.weights, travel=2.0)))
    assert engine.config.hash != began
    optimizer.gate.set()
    assert (await task).improved
    assert [a.config_hash for a in (await engine.order("o-east")).assignments] == [began]


async def test_a_retry_waits_for_the_first_run_and_gets_its_answer(gated):
    engine, optimizer = gated
    await crossed(engine)
    first = asyncio.create_task(engine.optimize_plans([], NOW, SEARCH_S, request_id="opt-1"))
    await asyncio.wait_for(optimizer.searching.wait(), 10)
    again = asyncio.create_task(engine.optimize_plans([], NOW, SEARCH_S, request_id="opt-1"))
    optimizer.gate.set()
    assert await first == await again
    assert (await planned(engine))["east"] == ["o-east"]
