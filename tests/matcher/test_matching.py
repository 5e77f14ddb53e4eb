"""The min-cost-flow round reaches the CP-SAT optimum."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.config import DispatchConfig
from matcher.exact import solve_round_exact
from matcher.matching import (MANY_ORDERS, SCALE, Edges, heaviest_of_one_order,
                              heaviest_per_order, matching_weight, solve_round)
from matcher.planner import Planner
from matcher.scoring import unassigned_penalty, weight_vector
from tests.builders import at, world_of
from tests.city import random_orders, random_workers


def assert_is_matching(edges, chosen):
    assert len(set(edges.order[chosen])) == len(chosen)
    assert len(set(edges.worker[chosen])) == len(chosen)
    assert (edges.int_weight[chosen] > 0).all()


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 25), st.integers(1, 25), st.integers(0, 120))
def test_min_cost_flow_equals_cp_sat_on_random_graphs(seed, n_orders, n_workers, n_edges):
    rng = np.random.default_rng(seed)
    pairs = {(int(o), int(w)) for o, w in zip(rng.integers(0, n_orders, n_edges),
                                             rng.integers(0, n_workers, n_edges))}
    pairs = sorted(pairs)
    edges = Edges(np.array([o for o, _ in pairs], dtype=np.int64),
                  np.array([w for _, w in pairs], dtype=np.int64),
                  rng.normal(1.0, 2.0, len(pairs)))
    ours = solve_round(edges)
    exact, proved = solve_round_exact(edges, workers=2)
    assert proved
    assert_is_matching(edges, ours)
    assert matching_weight(edges, ours) == matching_weight(edges, exact)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 30), st.integers(2, 40))
def test_planner_round_reaches_the_exact_optimum_of_its_graph(seed, n_workers, n_orders):
    rng = np.random.default_rng(seed)
    workers, orders = random_workers(rng, n_workers), random_orders(rng, n_orders, n_workers)
    planner, config = Planner(DispatchConfig()), DispatchConfig()
    found = planner.search.search(orders, world_of(workers), at(6), 10**6, 10**6)
    penalties = np.array([unassigned_penalty(o, config.unassigned) for o in orders])
    edges = Edges(found.order, found.row,
                  found.values @ weight_vector(config.weights) + penalties[found.order])
    ours = solve_round(edges)
    exact, proved = solve_round_exact(edges, workers=2)
    assert proved
    assert_is_matching(edges, ours)
    assert matching_weight(edges, ours) == matching_weight(edges, exact)


def test_an_order_stays_unassigned_when_no_edge_beats_its_penalty():
    edges = Edges(np.array([0, 1]), np.array([0, 0]), np.array([-0.5, 2.0]))
    assert solve_round(edges).tolist() == [1]


def _heaviest_by_numpy(edges: Edges) -> int:
    """The single-order choice as numpy steps: the first of the heaviest positive edges."""
    weight = edges.int_weight
    keep = np.flatnonzero(weight > 0)
    if len(keep) == 0:
        return -1
    if not (edges.order[keep] == edges.order[keep[0]]).all():
        return MANY_ORDERS
    return int(keep[np.argmax(weight[keep])])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3), st.integers(0, 12), st.booleans())
def test_the_compiled_single_order_choice_is_the_numpy_one(seed, n_orders, n_edges, ties):
    rng = np.random.default_rng(seed)
    weight = rng.normal(0.5, 1.0, n_edges)
    if ties:  # equal and nearly equal weights (the same after rounding to SCALE)
        weight = np.round(weight, 1) + rng.integers(0, 2, n_edges) * 1e-6
    edges = Edges(rng.integers(0, n_orders, n_edges), rng.integers(0, 50, n_edges), weight)
    assert heaviest_of_one_order(edges.order, edges.weight, SCALE) == _heaviest_by_numpy(edges)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(0, 16), st.booleans())
def test_each_orders_compiled_choice_is_its_round_alone(seed, n_orders, n_edges, ties):
    """Per order: what a round of that order's edges alone takes (the heaviest of positive
    weight, ties to the first), with the weights summed term by term."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1.0, (n_edges, 5))
    if ties:  # equal rows (the same weight) and weights that round to the same units
        values = np.round(values, 1)
        values[rng.integers(0, 2, n_edges) == 1] = values[0] if n_edges else values
    weights = np.round(rng.uniform(0.0, 2.0, 5), 2)
    penalty = rng.uniform(-1.0, 1.0, n_orders)
    order = rng.integers(0, n_orders, n_edges)
    got = heaviest_per_order(order, values, weights, penalty, SCALE, n_orders)
    for o in range(n_orders):
        mine = np.flatnonzero(order == o)
        weight = np.array([sum(values[e, t] * weights[t] for t in range(5)) for e in mine])
        alone = heaviest_of_one_order(np.zeros(len(mine), dtype=np.int64),
                                      weight + penalty[o], SCALE)
        assert got[o] == (mine[alone] if alone >= 0 else -1)


def test_warm_up_compiles_the_choice_a_planner_round_asks():
    from matcher import matching
    matching.warm_up()
    compiled = list(heaviest_of_one_order.signatures)
    order, weight = np.zeros(3, dtype=np.int64), np.ones((3, 2)) @ np.ones(2)
    solve_round(Edges(order, np.arange(3), weight + np.zeros(1)[order]))
    assert list(heaviest_of_one_order.signatures) == compiled
    picks = list(heaviest_per_order.signatures)
    Planner(DispatchConfig()).dispatch_each(
        random_orders(np.random.default_rng(1), 3, 5), world_of(random_workers(
            np.random.default_rng(2), 5)), at(7))
    assert list(heaviest_per_order.signatures) == picks
