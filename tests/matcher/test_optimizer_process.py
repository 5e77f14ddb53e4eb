"""The server's re-optimisation in a child process: the same answer as on a thread, and a run
that overruns its time limit is stopped without writing anything."""

from __future__ import annotations

import asyncio

import pytest

from matcher.engine import Engine
from matcher.errors import Unavailable
from matcher.optimizer_process import OptimizerProcess
from matcher.store import MemoryStore
from tests.matcher.test_optimize_concurrently import CONFIG, NOW, crossed, planned


@pytest.fixture
async def engines():
    """An engine searching in a child process (``slack_s`` as the test sets it) and one
    searching on a thread, on stores of their own."""
    child = OptimizerProcess()
    in_child, on_thread = Engine(MemoryStore(), CONFIG, optimizer=child), Engine(
        MemoryStore(), CONFIG)
    yield in_child, on_thread, child
    in_child.close()
    on_thread.close()


async def test_the_child_gives_the_threads_answer(engines):
    in_child, on_thread, _ = engines
    results = []
    for engine in (in_child, on_thread):
        await crossed(engine)
        results.append(await engine.optimize_plans([], NOW, 0.3))
    assert results[0].improved and results[0].plans == results[1].plans
    assert await planned(in_child) == await planned(on_thread)
    assert (await planned(in_child))["east"] == ["o-east"]


async def test_a_run_past_twice_its_time_limit_is_stopped_and_writes_nothing(engines):
    engine, _, child = engines
    await crossed(engine)
    before = await planned(engine)
    child.slack_s = 0.0  # (the child alone takes longer than 2 x 0.2 s to start)
    with pytest.raises(Unavailable, match="overran its 0.2 s time limit"):
        await engine.optimize_plans([], NOW, 0.2)
    assert await planned(engine) == before
    child.slack_s = 30.0  # the next run starts a new child and writes its plans
    assert (await engine.optimize_plans([], NOW, 0.2)).improved
    assert (await planned(engine))["east"] == ["o-east"]


async def test_a_run_whose_caller_went_away_is_stopped_and_the_next_one_starts_at_once(engines):
    """A run nobody waits for any more (its caller cancelled: a deadline, a shutdown) stops
    its child; the next run gets a new child rather than waiting behind the old search."""
    engine, _, child = engines
    await crossed(engine)
    first = asyncio.create_task(engine.optimize_plans([], NOW, 60.0))
    for _ in range(200):  # until its child is up
        if child._pool is not None and child._pool._processes:
            break
        await asyncio.sleep(0.05)
    [process] = list(child._pool._processes.values())
    await asyncio.sleep(1.0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    process.join(10)
    assert not process.is_alive()
    child.slack_s = 20.0  # (behind a 60 s search, the next run would be stopped first)
    assert (await engine.optimize_plans([], NOW, 0.3)).improved
