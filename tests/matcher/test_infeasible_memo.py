"""Batch Dispatch remembers the orders it found without any feasible worker and prices them
again only against workers whose plan or record changed since (matcher.infeasible_memo): a
freed slot, a new or returning worker is found in the very next round, and a long random run
decides exactly as an engine that searches every order from scratch."""

from __future__ import annotations

import dataclasses
import random

import pytest

from matcher.config import DispatchConfig
from matcher.engine import CancelledBy, Engine
from matcher.infeasible_memo import InfeasibleMemo
from matcher.model import OrderState, Shift, Skill, UnassignedReason, WorkerStatus
from matcher.store import MemoryStore
from tests.builders import CENTRE, DAY, HOUR, at, make_order, make_worker, without_offers

NOW = at(6)


def whole_day(order_id: str, **overrides):
    """An order that fills the worker's 08:00-18:00 shift."""
    return make_order(order_id, earliest_start=at(8), latest_start=at(8), duration=10 * HOUR,
                      lat=CENTRE[0], lon=CENTRE[1], **overrides)


async def remembered_infeasible(engine, order_id):
    """Dispatch until ``order_id`` is left without a feasible worker and remembered so."""
    result = await engine.dispatch([], NOW)
    assert order_id in {u.order_id for u in result.unassigned
                        if u.reason == UnassignedReason.NO_FEASIBLE_SLOT}
    assert order_id in engine._memo._entries
    again = await engine.dispatch([], NOW + 60)   # still infeasible: kept, not searched
    assert order_id in {u.order_id for u in again.unassigned}
    assert order_id in engine._memo._entries


async def test_a_freed_slot_is_found_in_the_next_round(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([whole_day("o1")], NOW)
    await engine.dispatch([], NOW)
    await engine.submit_orders([make_order("o2")], NOW)
    await remembered_infeasible(engine, "o2")
    await engine.cancel_order("o1", by=CancelledBy.CUSTOMER, now=NOW + 90)
    result = await engine.dispatch([], NOW + 120)
    assert [(a.order_id, a.worker_id) for a in result.assignments] == [("o2", "w1")]


async def test_a_new_worker_is_found_in_the_next_round(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([whole_day("o1")], NOW)
    await engine.dispatch([], NOW)
    await engine.submit_orders([make_order("o2")], NOW)
    await remembered_infeasible(engine, "o2")
    await engine.upsert_workers([make_worker("w2")], now=NOW + 90)
    result = await engine.dispatch([], NOW + 120)
    assert [(a.order_id, a.worker_id) for a in result.assignments] == [("o2", "w2")]


async def test_a_worker_back_online_is_found_in_the_next_round(engine):
    await engine.upsert_workers([make_worker("w1"), make_worker("w2", status=WorkerStatus.OFFLINE)])
    await engine.submit_orders([whole_day("o1")], NOW)
    await engine.dispatch([], NOW)
    await engine.submit_orders([make_order("o2")], NOW)
    result = await engine.dispatch([], NOW)
    assert result.unassigned[0].reason == UnassignedReason.NO_FEASIBLE_SLOT
    await engine.set_worker_status("w2", WorkerStatus.ONLINE, NOW + 90)
    result = await engine.dispatch([], NOW + 120)
    assert [(a.order_id, a.worker_id) for a in result.assignments] == [("o2", "w2")]


async def test_a_team_gets_its_second_worker_in_the_next_round(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("t1", workers_needed=2)], NOW)
    result = await engine.dispatch([], NOW)
    assert result.unassigned[0].order_id == "t1" and "t1" in engine._memo._entries
    await engine.upsert_workers([make_worker("w2")], now=NOW + 90)
    result = await engine.dispatch([], NOW + 120)
    assert sorted(a.worker_id for a in result.assignments) == ["w1", "w2"]


async def test_a_remembered_order_that_expires_is_expired(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([whole_day("o1")], NOW)
    await engine.dispatch([], NOW)
    await engine.submit_orders([make_order("o2")], NOW)
    await remembered_infeasible(engine, "o2")
    result = await engine.dispatch([], at(12))
    assert result.unassigned[0].reason == UnassignedReason.EXPIRED
    assert (await engine.order("o2")).state == OrderState.EXPIRED


async def random_step(rng, engines, now, placed):
    """One random change, the same on every engine."""
    kind = rng.choice(["submit", "submit", "cancel", "status", "upsert"])
    for engine in engines:
        if kind == "submit":
            await engine.submit_orders([random_order(random.Random(now), now)], now)
        elif kind == "cancel" and placed:
            order_id = sorted(placed)[random.Random(now).randrange(len(placed))]
            await engine.cancel_order(order_id, by=CancelledBy.CUSTOMER, now=now)
        elif kind == "status":
            pick = random.Random(now)
            await engine.set_worker_status(f"w{pick.randrange(6)}", pick.choice(
                [WorkerStatus.ONLINE, WorkerStatus.OFFLINE]), now)
        elif kind == "upsert":
            await engine.upsert_workers([random_worker(random.Random(now), now)], now=now)
    if kind == "cancel" and placed:
        placed.discard(sorted(placed)[random.Random(now).randrange(len(placed))])


def random_order(rng, now):
    start = at(8 + rng.random() * 8)
    return make_order(f"o{now}", customer_id=f"c{rng.randrange(5)}",
                      service_type=rng.choice(["cleaning", "hourly"]),
                      lat=CENTRE[0] + rng.uniform(-0.08, 0.08),
                      lon=CENTRE[1] + rng.uniform(-0.08, 0.08), earliest_start=start,
                      latest_start=start + rng.choice([0, HOUR, 2 * HOUR]),
                      duration=rng.choice([1, 2, 3]) * HOUR,
                      workers_needed=rng.choice([1, 1, 1, 2]))


def random_worker(rng, now):
    skills = tuple(Skill(s, 3, DAY + 90 * 24 * HOUR) for s in ("cleaning", "hourly")
                   if rng.random() < 0.7) or (Skill("cleaning", 3, DAY + 90 * 24 * HOUR),)
    begin = 8 + rng.randrange(4)
    return make_worker(f"w{rng.randrange(8)}", skills=skills,
                       home_lat=CENTRE[0] + rng.uniform(-0.08, 0.08),
                       home_lon=CENTRE[1] + rng.uniform(-0.08, 0.08),
                       credit_score=rng.uniform(40, 100),
                       shifts=(Shift(at(begin), at(begin + 6)),))


@pytest.mark.parametrize("seed", range(4))
async def test_remembering_decides_as_searching_afresh(seed):
    """Two engines, the same requests; one forgets before every Dispatch: every Dispatch
    places the same orders on the same workers at the same times."""
    rng = random.Random(seed)
    config = without_offers(DispatchConfig())
    remembering, afresh = Engine(MemoryStore(), config), Engine(MemoryStore(), config)
    engines = [remembering, afresh]
    try:
        workers = [random_worker(random.Random(seed * 100 + i), 0) for i in range(6)]
        workers = [dataclasses.replace(w, worker_id=f"w{i}") for i, w in enumerate(workers)]
        for engine in engines:
            await engine.upsert_workers(workers)
        placed: set[str] = set()
        remembered = 0
        for step in range(60):
            now = NOW + 60 * step
            await random_step(rng, engines, now, placed)
            afresh._memo = InfeasibleMemo()
            got = [await engine.dispatch([], now) for engine in engines]
            assert [_decisions(r) for r in got[:1]] == [_decisions(r) for r in got[1:]]
            placed |= {a.order_id for a in got[0].assignments}
            remembered += len(remembering._memo._entries)
        assert remembered > 0  # the memo was used, not merely empty
    finally:
        for engine in engines:
            engine.close()


def _decisions(result):
    return (sorted((a.order_id, a.worker_id, a.planned_start) for a in result.assignments),
            sorted(u.order_id for u in result.unassigned))
