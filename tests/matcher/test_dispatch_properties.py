"""Invariants of batch dispatch on many random cities, checked by the independent checker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dataclasses

from matcher.config import DispatchConfig, LatenessConfig
from matcher.eligibility import SLOT_CHECKS
from matcher.planner import Planner
from tests.builders import at, world_of
from tests.checker import check_plans
from tests.city import random_orders, random_workers

# hourly help may start up to an hour late; the other types have hard windows
CONFIG = dataclasses.replace(DispatchConfig(), lateness=(("hourly", LatenessConfig(60, 0.1)),))
NOW = at(6)
cities = st.tuples(st.integers(0, 2**32 - 1), st.integers(1, 30), st.integers(1, 60))


def run(seed, n_workers, n_orders, now=NOW, batches=1):
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, n_workers, breaks=True)
    orders = random_orders(rng, n_orders, n_workers)
    planner, world = Planner(CONFIG), world_of(workers)
    results = []
    for part in np.array_split(np.arange(n_orders), batches):
        result = planner.dispatch([orders[i] for i in part], world, now)
        world.plans.update(result.plans)
        results.append(result)
    return workers, orders, world, results


def blocks_of(orders):
    blocked = {}
    for order in orders:
        blocked.setdefault(order.customer_id, set()).update(order.blocked_worker_ids)
    return blocked


@settings(max_examples=60, deadline=None)
@given(cities, st.integers(1, 3))
def test_every_assignment_satisfies_every_hard_constraint(city, batches):
    workers, orders, world, _ = run(*city, batches=batches)
    by_id = {o.order_id: o for o in orders}
    # Blocks accumulate per customer across orders only through the engine's store; the
    # planner alone sees each order's own blocks, which the checker applies per order.
    problems = check_plans(CONFIG, {w.worker_id: w for w in workers}, world.plans, by_id)
    assert problems == []


@settings(max_examples=60, deadline=None)
@given(cities)
def test_every_order_is_accounted_for_exactly_once(city):
    _, orders, world, (result,) = run(*city)
    assigned = [a.order_id for a in result.assignments]
    unassigned = [u.order_id for u in result.unassigned]
    assert sorted(assigned + unassigned) == sorted(o.order_id for o in orders)
    planned = [j.order_id for jobs in world.plans.values() for j in jobs]
    assert sorted(planned) == sorted(assigned)
    for a in result.assignments:
        job = next(j for j in world.plans[a.worker_id] if j.order_id == a.order_id)
        assert (job.start, job.end) == (a.planned_start, a.planned_end)
        assert abs(a.score - sum(t.weight * t.value for t in a.score_terms)) < 1e-12
        order = next(o for o in orders if o.order_id == a.order_id)
        assert a.late_s == max(0, a.planned_start - order.latest_start)
        lateness = next(t.value for t in a.score_terms if t.name == "lateness")
        penalty = CONFIG.lateness_for(order.service_type).penalty_per_minute
        assert lateness == pytest.approx(-a.late_s / 60 * penalty)


@settings(max_examples=30, deadline=None)
@given(cities)
def test_same_input_same_assignments(city):
    first = run(*city)[3][0]
    second = run(*city)[3][0]
    assert first.assignments == second.assignments
    assert first.unassigned == second.unassigned


@settings(max_examples=40, deadline=None)
@given(cities)
def test_unassigned_reasons_agree_with_explain(city):
    """An order refused for want of any worker has no candidate in ExplainOrder either, and the
    constraint counts always add up to the city."""
    workers, orders, world, (result,) = run(*city)
    planner = Planner(CONFIG)
    for miss in result.unassigned:
        order = next(o for o in orders if o.order_id == miss.order_id)
        explanation = planner.explain(order, world_of(workers), NOW)
        assert (sum(explanation.ruled_out.values()) + len(explanation.candidates)
                == len(workers))
        if miss.reason.name == "NO_ELIGIBLE_WORKER":
            static = sum(n for k, n in explanation.ruled_out.items()
                         if k not in SLOT_CHECKS)
            assert static == len(workers)
        if miss.reason.name in ("NO_ELIGIBLE_WORKER", "NO_FEASIBLE_SLOT", "DAILY_LIMIT"):
            # with nothing planned yet, no worker could take it at all
            assert explanation.candidates == []
