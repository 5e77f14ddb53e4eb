"""``Planner.dispatch_each`` gives what ``dispatch([order])`` of each order in turn gives."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from matcher.config import DispatchConfig, LatenessConfig, UnassignedConfig, WeightsConfig
from matcher.planner import Planner
from tests.builders import CENTRE, at, make_order, make_worker, world_of
from tests.city import coupled_to, random_orders, random_workers

CONFIG = dataclasses.replace(DispatchConfig(), lateness=(("hourly", LatenessConfig(60, 0.1)),))
# Orders barely worth placing: a candidate's weight is positive only when its travel is short
# (many orders have candidates none of which is worth more than leaving the order out).
THRIFTY = dataclasses.replace(CONFIG, unassigned=UnassignedConfig(0.0, 0.05),
                              weights=WeightsConfig(travel=3.0))


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
       st.sampled_from([0.01, 0.06, 0.3]), st.booleans(), st.sampled_from([6.0, 9.5]),
       st.sampled_from([CONFIG, THRIFTY]))
def test_dispatch_each_is_dispatch_of_each_order_in_turn(seed, n_workers, n_orders, spread,
                                                         coupled, now_h, config):
    """Dense and sparse cities (a worker's pool of 48 nearest then holds everyone, or a few),
    with teams and links, and orders already past their window at the later ``now``; and
    orders whose candidates may all be worth less than leaving them out."""
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, n_workers, spread=spread, breaks=True)
    orders = random_orders(rng, n_orders, n_workers, spread=spread)
    if coupled:
        orders = with_coupled(rng, orders)
    planner, now = Planner(config), at(now_h)
    expected = one_by_one(planner, orders, world_of(workers), now)
    world = world_of(workers)
    got = planner.dispatch_each(orders, world, now)
    event("some left out though feasible" if any(
        u.reason.name == "OUTBID" for r in got for u in r.unassigned) else "none left out")
    assert [same(r) for r in got] == [same(r) for r in expected]
    assert world.plans == {}  # the given world is left as it was


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 160), st.integers(1, 24),
       st.sampled_from([0.01, 0.06, 0.3]), st.sampled_from([6.0, 9.5]))
def test_one_plain_order_is_placed_as_the_rounds_place_it(seed, n_workers, n_orders, spread,
                                                          now_h):
    """``dispatch`` of one plain order (its round 1 only, ``Planner._found_alone``) gives what
    the rounds give, in a world the orders before it filled: placed or refused alike, with the
    same reason."""
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, n_workers, spread=spread, breaks=True)
    orders = random_orders(rng, n_orders, n_workers, spread=spread)
    planner, now, world = Planner(CONFIG), at(now_h), world_of(workers)
    for order in orders:
        got = planner.dispatch([order], world, now)
        rounds = planner._rounds([order], world, now, None)
        event("placed" if got.assignments else got.unassigned[0].reason.name)
        assert same(got) == same(rounds)
        for worker_id, jobs in got.plans.items():
            world.place(worker_id, jobs)


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


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(20, 200), st.integers(2, 16),
       st.sampled_from([0.01, 0.06]))
def test_a_refreshed_search_is_the_search_of_the_order_alone_now(seed, n_workers, n_orders,
                                                                 spread):
    """After some workers' plans changed, ``refresh`` of an order's earlier search prices
    those workers again (widening further when its last pool no longer holds enough feasible
    workers) and gives, to the bit, what a search of the order alone gives now; or None, and
    then that search does stop at a smaller pool."""
    from matcher.planner import FIRST_POOL
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, n_workers, spread=spread, breaks=True)
    orders = random_orders(rng, n_orders, n_workers, spread=spread)
    planner, now = Planner(CONFIG), at(6)
    search, limit = planner.search, CONFIG.solver.candidates_per_order
    world = world_of(workers)
    kept = []
    search.search(orders, world, now, limit, FIRST_POOL, [], kept)
    # the orders placed one by one change plans under the earlier search
    for order in orders[::2]:
        for worker_id, jobs in planner.dispatch([order], world, now).plans.items():
            world.place(worker_id, jobs)
    moved = set(world.moved)
    for order, priced in zip(orders, kept):
        alone = search.search([order], world, now, limit, FIRST_POOL)
        refreshed = search.refresh(priced, moved, world, now, limit, FIRST_POOL)
        touched = not moved.isdisjoint(priced.pairs.rows[priced.row].tolist())
        passes = len(alone_passes(search, order, world, now, limit))
        event("searched again" if refreshed is None else
              "refreshed and widened" if passes > len(priced.passes) else
              "refreshed, some pairs priced again" if touched else "refreshed as it was")
        if refreshed is None:
            assert passes < len(priced.passes)
            continue
        for name in ("order", "row", "values", "eligible", "refused"):
            assert getattr(refreshed, name).tolist() == getattr(alone, name).tolist(), name
        assert refreshed.slot.keys() == alone.slot.keys()
        for name in alone.slot:
            assert refreshed.slot[name].tolist() == alone.slot[name].tolist(), name


def alone_passes(search, order, world, now, limit):
    """The pool sizes a search of ``order`` alone goes through."""
    from matcher.order_batch import OrderBatch
    from matcher.planner import FIRST_POOL
    batch = OrderBatch.of([order], search.rules.calendar, search.max_late_s(order.service_type))
    return search._widening([batch], world, now, limit, FIRST_POOL)[0].history[0]
