"""``Planner.dispatch_each`` gives what ``dispatch([order])`` of each order in turn gives."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.config import DispatchConfig, LatenessConfig
from matcher.planner import Planner
from tests.builders import CENTRE, at, make_order, make_worker, world_of
from tests.city import coupled_to, random_orders, random_workers

CONFIG = dataclasses.replace(DispatchConfig(), lateness=(("hourly", LatenessConfig(60, 0.1)),))


def with_coupled(rng, orders):
    """Some orders followed by a team order or an order linked to them (every kind)."""
    out = []
    for i, order in enumerate(orders):
        out.append(order)
        follower = coupled_to(rng, order, i, kinds=6)
        if follower is not None:
            out.append(follower)
    return out


def one_by_one(planner, orders, world, now):
    results = []
    for order in orders:
        result = planner.dispatch([order], world, now)
        for worker_id, jobs in result.plans.items():
            world.plans[worker_id] = jobs
        results.append(result)
    return results


def same(result):
    """A result without its solver time (the one field that is not a decision)."""
    return dataclasses.replace(result, solve_seconds=0.0)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 160), st.integers(1, 24),
       st.sampled_from([0.01, 0.06, 0.3]), st.booleans(), st.sampled_from([6.0, 9.5]))
def test_dispatch_each_is_dispatch_of_each_order_in_turn(seed, n_workers, n_orders, spread,
                                                         coupled, now_h):
    """Dense and sparse cities (a worker's pool of 48 nearest then holds everyone, or a few),
    with teams and links, and orders already past their window at the later ``now``."""
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, n_workers, spread=spread, breaks=True)
    orders = random_orders(rng, n_orders, n_workers, spread=spread)
    if coupled:
        orders = with_coupled(rng, orders)
    planner, now = Planner(CONFIG), at(now_h)
    expected = one_by_one(planner, orders, world_of(workers), now)
    world = world_of(workers)
    got = planner.dispatch_each(orders, world, now)
    assert [same(r) for r in got] == [same(r) for r in expected]
    assert world.plans == {}  # the given world is left as it was


def test_orders_at_one_spot_each_see_the_workers_the_earlier_ones_took():
    """Orders whose pools overlap: each later one is priced on the plans the earlier ones left
    (otherwise two would take the same worker's free hour)."""
    workers = [make_worker(f"w{i}", max_jobs_per_day=1, home_lat=CENTRE[0] + i / 1000)
               for i in range(4)]
    orders = [make_order(f"o{i}", lat=CENTRE[0], lon=CENTRE[1]) for i in range(6)]
    planner = Planner(CONFIG)
    got = planner.dispatch_each(orders, world_of(workers), at(6))
    assert [same(r) for r in got] == [same(r) for r in
                                       one_by_one(planner, orders, world_of(workers), at(6))]
    taken = [a.worker_id for r in got for a in r.assignments]
    assert sorted(taken) == ["w0", "w1", "w2", "w3"]
