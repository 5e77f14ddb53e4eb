"""A search of many orders of several service types (their pools priced and scored together,
pool size by pool size) gives each order what a search of it alone gives."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.candidates import _Widening
from matcher.config import DispatchConfig, LatenessConfig
from matcher.order_batch import OrderBatch
from matcher.planner import Planner
from tests.builders import at, world_of
from tests.city import random_orders, random_workers

CONFIG = dataclasses.replace(DispatchConfig(), lateness=(("hourly", LatenessConfig(60, 0.1)),))


def busy_world(rng, n_workers: int, spread: float, planner: Planner):
    """A world whose workers already have jobs (so pricing meets gaps, limits and breaks)."""
    workers = random_workers(rng, n_workers, spread=spread, breaks=True)
    world = world_of(workers)
    for result in planner.dispatch_each(random_orders(rng, 30, n_workers, prefix="p",
                                                      spread=spread), world, at(6)):
        world.plans.update(result.plans)
    return world


def equal(a, b) -> bool:
    return (np.array_equal(a.order, b.order) and np.array_equal(a.row, b.row)
            and np.array_equal(a.values, b.values) and a.slot.keys() == b.slot.keys()
            and all(np.array_equal(a.slot[k], b.slot[k]) for k in a.slot)
            and np.array_equal(a.eligible, b.eligible) and np.array_equal(a.refused, b.refused))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 120), st.integers(1, 16),
       st.sampled_from([0.01, 0.06, 0.3]), st.sampled_from([1, 4, 12]),
       st.sampled_from([2, 48]))
def test_a_search_of_many_types_gives_each_order_its_own_search(seed, n_workers, n_orders,
                                                                 spread, limit, pool):
    rng = np.random.default_rng(seed)
    planner = Planner(CONFIG)
    world = busy_world(rng, n_workers, spread, planner)
    orders = random_orders(rng, n_orders, n_workers, spread=spread)
    searched: list = []
    found = planner.search.search(orders, world, at(7), limit, pool, searched)
    for i, order in enumerate(orders):
        alone: list = []
        expected = planner.search.search([order], world, at(7), limit, pool, alone)
        assert equal(found.of_order(i), expected)
        assert np.array_equal(searched[i], alone[0])


def test_workers_past_the_radius_change_no_search_and_are_not_watched():
    """Far workers (past the service radius) in the widest pools: every order's candidates
    are those of the city without them, and ``searched`` (whose plan changes make a kept
    search stale) lists none of them."""
    rng = np.random.default_rng(11)
    planner = Planner(CONFIG)
    near = random_workers(rng, 30, spread=0.02)
    far = [dataclasses.replace(w, worker_id=f"f{i:03d}", home_lat=w.home_lat + 0.3)
           for i, w in enumerate(random_workers(rng, 60, spread=0.02))]
    orders = random_orders(rng, 12, 30, spread=0.02)

    def search(workers):
        world, searched = world_of(workers), []
        found = planner.search.search(orders, world, at(7), 12, 2, searched)
        ids = [w.worker_id for w in world.table.workers]
        return found, [ids[r] for r in found.row], [{ids[r] for r in rows} for rows in searched]

    alone, alone_ids, _ = search(near)
    found, found_ids, searched = search(near + far)
    assert found_ids == alone_ids and len(alone_ids) >= 12
    assert np.array_equal(found.order, alone.order)
    assert np.array_equal(found.values, alone.values)
    assert all(np.array_equal(found.slot[k], alone.slot[k]) for k in alone.slot)
    assert np.array_equal(found.eligible, alone.eligible)
    assert np.array_equal(found.refused, alone.refused)
    assert all(rows and not any(w.startswith("f") for w in rows) for rows in searched)


def test_widening_asks_the_whole_batch_first_then_the_orders_still_searching():
    rng = np.random.default_rng(10)  # a city where some orders find a worker in a pool of 2
    planner = Planner(CONFIG)
    world = busy_world(rng, 40, 0.06, planner)
    orders = [o for o in random_orders(rng, 30, 40) if o.service_type == "cleaning"]
    search = planner.search
    batch = OrderBatch.of(orders, search.rules.calendar, search.max_late_s("cleaning"))
    widening = _Widening(batch, world.table.skill("cleaning"), 2)
    radius = search.static.limits.service_radius_km
    (asked, rows, km), pool_km = widening.ask(radius)
    assert asked is batch and rows.shape == (len(batch), 2)  # no copy of the orders' columns
    widening.answer(search.evaluate(asked, rows, km, world, at(7)), pool_km, 1, radius)
    todo = widening.todo
    assert 0 < todo.size < len(batch)  # some orders widen: the next pass asks those alone
    (again, more_rows, _), wider_km = widening.ask(radius)
    assert again.orders == [batch.orders[i] for i in todo]
    assert np.array_equal(again.lat, batch.lat[todo]) and more_rows.shape[1] == 6
    assert np.array_equal(wider_km[:, :2], pool_km[todo])
