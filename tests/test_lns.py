"""The large neighbourhood search over linked visits (matcher.lns): earliest start times, never
worse than its start, hard rules and gaps kept on random problems, locks untouched, seeded."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from matcher import lns
from matcher.routing import (Locked, Route, RoutingProblem, RoutingSolution, StartGap, Vehicle,
                             Visit, _solve_ortools)
from tests.reference_routing import check_routes


def line(*xs: int) -> np.ndarray:
    x = np.array(xs)
    return np.abs(x[:, None] - x[None, :])


def car(**kw) -> Vehicle:
    return Vehicle(**{"start_node": 0, "end_node": 0, "start": 0, "end": 10_000, **kw})


def stop(node: int, **kw) -> Visit:
    return Visit(**{"node": node, "duration": 10, "earliest": 0, "latest": 10_000,
                    "drop_cost": 100_000, **kw})


def as_solution(search: lns.Search, routes, starts) -> RoutingSolution:
    return RoutingSolution(tuple(Route(k, tuple(r), tuple(starts[i] for i in r))
                                 for k, r in enumerate(routes)), (), 0, 0, 0, True)


def test_a_simultaneous_pair_waits_for_the_later_partner():
    # vehicle 0 reaches node 1 at 10, vehicle 1 only at 50 (it does node 2 first)
    travel = line(0, 10, 40)
    visits = [stop(1), stop(1), stop(2)]
    problem = RoutingProblem(travel, visits, [car(), car()], gaps=[StartGap(0, 1, 0, 0)])
    search = lns.Search(problem, [[0], [2, 1]])
    assert search.s[0] == search.s[1] == 40 + 10 + 30
    assert check_routes(problem, as_solution(search, search.routes, search.s)) == []


def test_a_sequential_gap_delays_the_first_visit_when_the_second_comes_late():
    travel = line(0, 10, 100)
    visits = [stop(1), stop(1), stop(2)]
    problem = RoutingProblem(travel, visits, [car(), car()], gaps=[StartGap(0, 1, 0, 20)])
    search = lns.Search(problem, [[0], [2, 1]])
    # visit 1 starts at 100 + 10 + 90 = 200, so visit 0 may not start before 180
    assert search.s[1] == 200 and search.s[0] == 180


def test_routes_that_wait_on_each_other_in_a_cycle_are_infeasible():
    travel = line(0, 10, 20)
    visits = [stop(1), stop(2), stop(1), stop(2)]
    gaps = [StartGap(0, 3, 0, 0), StartGap(1, 2, 0, 0)]
    problem = RoutingProblem(travel, visits, [car(), car()], gaps=gaps)
    # vehicle 0 does 0 then 1, vehicle 1 does 2 then 3: 0 waits for 3 which comes after 2,
    # and 2 waits for 1 which comes after 0
    try:
        lns.Search(problem, [[0, 1], [2, 3]])
    except ValueError:
        return
    raise AssertionError("a cycle of waits was timed")


def test_it_moves_both_visits_of_a_pair_together():
    # two patients at 100 and 200 each need two caregivers at once; the start sends a third
    # vehicle out for the second visit at 200: the cheap plan has two vehicles do both patients
    travel = line(0, 100, 200)
    visits = [stop(1), stop(1), stop(2), stop(2)]
    gaps = [StartGap(0, 1, 0, 0), StartGap(2, 3, 0, 0)]
    problem = RoutingProblem(travel, visits, [car(), car(), car()], gaps=gaps)
    bad = [[0, 2], [1], [3]]
    assert lns.Search(problem, bad).cost == 1000
    search = lns.Search(problem, bad, seed=1)
    routes, starts, cost = search.run(5.0, max_steps=100)
    assert cost == 800
    assert check_routes(problem, as_solution(search, routes, starts)) == []
    assert starts[0] == starts[1] and starts[2] == starts[3]


def test_same_seed_same_routes():
    rng = np.random.default_rng(3)
    problem = random_problem(rng, 14, 4, 4, 0)
    runs = []
    for _ in range(2):
        search = lns.Search(problem, [[] for _ in problem.vehicles], seed=5)
        assert search.rebuild()
        runs.append(search.run(60.0, max_steps=150))
    assert runs[0] == runs[1]
    other = lns.Search(problem, [[] for _ in problem.vehicles], seed=6)
    other.rebuild()
    assert check_routes(problem, as_solution(other, *other.run(60.0, max_steps=150)[:2])) == []


def _ortools(problem):
    return _solve_ortools(problem, 0.2, None, 5, "PARALLEL_CHEAPEST_INSERTION")


def random_problem(rng, n: int, m: int, pairs: int, locks: int) -> RoutingProblem:
    points = rng.integers(0, 100, size=(n + 1, 2))
    travel = np.abs(points[:, None, :] - points[None, :, :]).sum(axis=2)
    visits = []
    for i in range(n):
        earliest = int(rng.integers(0, 300))
        latest = earliest + int(rng.integers(0, 200))
        allowed = tuple(sorted(rng.choice(m, size=int(rng.integers(1, m + 1)), replace=False)
                               .tolist())) if rng.random() < 0.5 else None
        visits.append(Visit(i + 1, int(rng.integers(5, 30)), earliest, latest,
                            late_limit=latest + 400, late_cost=int(rng.integers(1, 3)),
                            vehicles=allowed, drop_cost=5000))
    gaps = []
    for k in range(pairs):
        a, b = 2 * k, 2 * k + 1
        if rng.random() < 0.5:
            gaps.append(StartGap(a, b, 0, 0))
        else:
            low = int(rng.integers(0, 60))
            gaps.append(StartGap(a, b, low, low + int(rng.integers(0, 60)), together=False))
    vehicles = [Vehicle(0, 0, 0, 1200, capacity=int(rng.integers(0, 6)))
                for _ in range(m)]
    problem = RoutingProblem(travel.astype(np.int64), visits, vehicles, gaps=gaps)
    if locks:
        first = _ortools(problem)
        for route in first.routes:
            for v, s in zip(route.visits, route.starts):
                if v >= 2 * pairs and len(problem.locked) < locks:
                    problem.locked.append(Locked(v, route.vehicle, s))
    return problem


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(4, 16), st.integers(2, 4), st.integers(0, 3),
       st.integers(0, 2))
def test_random_problems_keep_every_rule_and_never_get_worse(seed, n, m, pairs, locks):
    rng = np.random.default_rng(seed)
    pairs = min(pairs, n // 2)
    problem = random_problem(rng, n, m, pairs, locks)
    start = _ortools(problem)
    if not start.found:
        return
    better = lns.improve(problem, start, 10.0, seed, max_steps=60)
    assert check_routes(problem, better) == []
    assert better.cost <= start.cost
    # the reported cost is the cost of the routes
    cost = problem.travel
    arcs = 0
    for route in better.routes:
        path = [0] + [problem.visits[i].node for i in route.visits] + [0]
        arcs += sum(int(cost[a, b]) for a, b in zip(path, path[1:])) if route.visits else 0
    late = sum(problem.visits[i].late_cost * max(0, s - problem.visits[i].latest)
               for r in better.routes for i, s in zip(r.visits, r.starts))
    assert (better.arc_cost, better.lateness_cost) == (arcs, late)
    locked = {lock.visit: (lock.vehicle, lock.start) for lock in problem.locked}
    for r in better.routes:
        for i, s in zip(r.visits, r.starts):
            if i in locked:
                assert locked[i] == (r.vehicle, s)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_reoptimised_cities_with_teams_and_gaps_stay_valid_and_never_worse(seed):
    """Through OptimizePlans' re-optimiser: team jobs and start-gap follow-ups on one-shift
    workers (no breaks, so the search runs), some planned, some pending, two locked."""
    import dataclasses

    from matcher.config import DispatchConfig
    from matcher.model import LinkType, OrderLink, Shift
    from matcher.planner import Planner
    from matcher.reoptimise import PlanScope, Reoptimiser, _Build, check_scope
    from tests.builders import HOUR, at, make_order, world_of
    from tests.checker import check_plans
    from tests.city import random_orders, random_workers

    rng = np.random.default_rng(seed)
    workers = [dataclasses.replace(w, shifts=(Shift(at(7), at(19)),))
               for w in random_workers(rng, 8)]
    orders = random_orders(rng, 10, 8)
    for i, order in enumerate(list(orders)):
        kind = rng.integers(0, 3)
        if kind == 1:
            orders.append(make_order(f"team{i}", customer_id=order.customer_id,
                                     service_type=order.service_type, lat=order.lat,
                                     lon=order.lon, workers_needed=2))
        elif kind == 2:
            gap = int(rng.integers(0, 3)) * HOUR
            orders.append(make_order(
                f"link{i}", customer_id=order.customer_id, service_type=order.service_type,
                lat=order.lat, lon=order.lon, duration=HOUR, earliest_start=at(7),
                latest_start=at(18), link=OrderLink(order.order_id, LinkType.START_GAP, gap,
                                                    gap + HOUR)))
    config = DispatchConfig()
    planner = Planner(config)
    by_id = {o.order_id: o for o in orders}
    first = planner.dispatch(orders[: len(orders) // 2], world_of(workers), at(6))
    plans = {w.worker_id: first.plans.get(w.worker_id, []) for w in workers}
    placed = {a.order_id for a in first.assignments}
    pending = tuple(o.order_id for o in orders if o.order_id not in placed)
    locked = frozenset(sorted(o for o in placed if by_id[o].link is None
                              and by_id[o].workers_needed == 1)[:2])
    scope = PlanScope(workers, plans, by_id, pending=pending, locked=locked, now=at(6))
    reoptimiser = Reoptimiser(planner)
    result = reoptimiser.run(scope, 0.5)
    assert check_plans(config, {w.worker_id: w for w in workers}, result.plans, by_id) == []
    assert check_scope(planner, scope, result.plans) == []
    assert result.after.total <= result.before.total
    for worker_id, jobs in plans.items():
        for j in jobs:
            if j.order_id in locked:
                assert j in result.plans[worker_id]
    assert placed <= {j.order_id for jobs in result.plans.values() for j in jobs}
    build = _Build(reoptimiser, scope, frozenset(pending))
    if build.problem.gaps and build.problem.vehicles:  # no vehicle (all offline): no search
        assert lns.applicable(build.problem)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_plain_problems_without_gaps_go_through_the_search_and_keep_every_rule(seed):
    """A VRPTW-like problem (no start gaps): routing.solve runs the search too (LNS_PLAIN),
    capacities, windows and allowed vehicles hold, and it is never worse than its own start."""
    from matcher import routing

    rng = np.random.default_rng(seed)
    problem = random_problem(rng, 12, 3, 0, 0)
    assert not problem.gaps and lns.handles(problem) and not lns.applicable(problem)
    assert routing.LNS_PLAIN
    found = routing.solve(problem, 1.0, seed=seed)
    assert found.found
    assert check_routes(problem, found) == []
    start = _ortools(problem)
    better = lns.improve(problem, start, 10.0, seed, max_steps=60)
    assert check_routes(problem, better) == []
    assert better.cost <= start.cost


def hard_window_problem(rng, n: int, m: int) -> RoutingProblem:
    """A VRPTW-like problem: hard windows, capacities, no gaps, no soft lateness."""
    points = rng.integers(0, 100, size=(n + 1, 2))
    travel = np.abs(points[:, None, :] - points[None, :, :]).sum(axis=2).astype(np.int64)
    visits = []
    for i in range(n):
        earliest = int(rng.integers(0, 600))
        visits.append(Visit(i + 1, int(rng.integers(5, 30)), earliest,
                            earliest + int(rng.integers(60, 400)),
                            load=int(rng.integers(1, 4)), drop_cost=100_000))
    vehicles = [Vehicle(0, 0, 0, 1500, capacity=12) for _ in range(m)]
    return RoutingProblem(travel, visits, vehicles)


def test_string_ruins_cut_consecutive_visits_near_one_visit():
    rng = np.random.default_rng(11)
    problem = hard_window_problem(rng, 40, 6)
    search = lns.Search(problem, [[] for _ in problem.vehicles], seed=2)
    assert search.rebuild() and search.plain
    for _ in range(30):
        ruined = search._ruin_strings(8)
        assert ruined and len(set(ruined)) == len(ruined)
        visits = {search.requests[q][0] for q in ruined}
        cut = [r for r in search.routes if visits & set(r)]
        for r in cut:  # from each route one unbroken stretch
            at = [p for p, i in enumerate(r) if i in visits]
            assert at == list(range(at[0], at[-1] + 1))
            assert len(at) <= lns.STRING_MAX
        assert len(visits) == sum(len(visits & set(r)) for r in cut)


@settings(max_examples=5, deadline=None)
@given(st.integers(0, 10_000))
def test_one_trial_on_exact_prices_finds_what_exact_trials_find(seed):
    """Without gaps and soft lateness the table's price is exact: taking the cheapest feasible
    position after one trial gives the same search as trying EXACT of them."""
    problem = hard_window_problem(np.random.default_rng(seed), 25, 5)
    runs = []
    for exact_price in (True, False):
        search = lns.Search(problem, [[] for _ in problem.vehicles], seed=seed)
        assert search.exact_price
        search.exact_price = exact_price
        assert search.rebuild()
        runs.append(search.run(60.0, max_steps=80))
    assert runs[0] == runs[1]
    assert check_routes(problem, as_solution(search, *runs[0][:2])) == []
