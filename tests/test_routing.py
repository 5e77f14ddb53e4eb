"""The routing re-optimiser: each rule with a pass and a fail case, the optimum on tiny random
problems against brute force, warm starts and locks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from matcher.routing import (BreakWindow, Locked, RoutingProblem, SameVehicle, StartGap, Vehicle,
                             Visit, solve)
from tests.reference_routing import best_cost, check_routes, route_cost

LIMIT_S = 0.5


def line(*xs: int) -> np.ndarray:
    """Travel times between points on a line; node 0 is the depot at ``xs[0]``."""
    x = np.array(xs)
    return np.abs(x[:, None] - x[None, :])


def car(**kw) -> Vehicle:
    return Vehicle(**{"start_node": 0, "end_node": 0, "start": 0, "end": 1000, **kw})


def stop(node: int, **kw) -> Visit:
    return Visit(**{"node": node, "duration": 10, "earliest": 0, "latest": 1000,
                    "drop_cost": 10_000, **kw})


def solved(problem: RoutingProblem, **kw):
    solution = solve(problem, LIMIT_S, **kw)
    assert solution.found
    assert check_routes(problem, solution) == []
    return solution


def owner(solution, visit: int) -> int | None:
    return next((r.vehicle for r in solution.routes if visit in r.visits), None)


def start(solution, visit: int) -> int:
    return next(s for r in solution.routes for v, s in zip(r.visits, r.starts) if v == visit)


def test_serves_every_visit_in_a_cheap_order():
    problem = RoutingProblem(line(0, 10, 20, 30), [stop(1), stop(2), stop(3)], [car()])
    solution = solved(problem)
    assert solution.dropped == () and solution.arc_cost == 60


def test_without_vehicles_every_visit_is_dropped():
    problem = RoutingProblem(line(0, 10), [stop(1)], [])
    solution = solve(problem, LIMIT_S)
    assert solution.found and solution.dropped == (0,) and solution.drop_cost == 10_000
    problem.visits[0] = stop(1, drop_cost=None)
    assert not solve(problem, LIMIT_S).found


def test_a_window_nobody_can_reach_drops_the_visit_and_costs_its_penalty():
    problem = RoutingProblem(line(0, 50), [stop(1, earliest=0, latest=20)], [car()])
    solution = solved(problem)
    assert solution.dropped == (0,) and solution.drop_cost == 10_000


def test_a_reachable_window_is_kept():
    problem = RoutingProblem(line(0, 50), [stop(1, earliest=0, latest=60)], [car()])
    assert solved(problem).dropped == ()


def test_soft_window_serves_late_at_its_cost_up_to_the_limit():
    late = stop(1, latest=20, late_limit=80, late_cost=3)
    solution = solved(RoutingProblem(line(0, 50), [late], [car()]))
    assert start(solution, 0) == 50 and solution.lateness_cost == 3 * 30
    beyond = stop(1, latest=20, late_limit=40, late_cost=3)
    assert solved(RoutingProblem(line(0, 50), [beyond], [car()])).dropped == (0,)


def test_lateness_dearer_than_the_drop_cost_drops_the_visit():
    late = stop(1, latest=20, late_limit=80, late_cost=1000, drop_cost=100)
    assert solved(RoutingProblem(line(0, 50), [late], [car()])).dropped == (0,)


def test_allowed_vehicles_are_respected():
    problem = RoutingProblem(line(0, 10, 100), [stop(1, vehicles=(1,))],
                             [car(), car(start_node=2, end_node=2)])
    assert owner(solved(problem), 0) == 1
    problem.visits[0] = stop(1, vehicles=(0, 1))
    assert owner(solved(problem), 0) == 0


def test_capacity_and_service_limits():
    visits = [stop(1, load=3), stop(2, load=3)]
    assert solved(RoutingProblem(line(0, 10, 20), visits, [car(capacity=6)])).dropped == ()
    assert len(solved(RoutingProblem(line(0, 10, 20), visits, [car(capacity=5)])).dropped) == 1
    assert solved(RoutingProblem(line(0, 10, 20), visits, [car(max_service=20)])).dropped == ()
    assert len(solved(RoutingProblem(line(0, 10, 20), visits,
                                     [car(max_service=19)])).dropped) == 1


def test_a_break_keeps_its_room():
    # the visit must start in [0, 30]; the break of 40 must start in [0, 20]
    visits = [stop(1, latest=30)]
    pause = BreakWindow(0, 20, 40)
    solution = solved(RoutingProblem(line(0, 10), visits, [car(end=200, breaks=(pause,))]))
    assert solution.dropped == ()
    assert start(solution, 0) >= 10 or start(solution, 0) + 10 <= 20
    tight = BreakWindow(0, 0, 100)  # the whole morning until 100 is the break
    solution = solved(RoutingProblem(line(0, 10), visits, [car(end=200, breaks=(tight,))]))
    assert solution.dropped == (0,)


def test_off_duty_time_holds_no_visit_but_the_car_may_drive_through_it():
    # the visit is 150 away and the car off duty from 100 to 200: it arrives at 150 and
    # starts at 200 (a break there would hold travel too, and the start would be 250)
    visits = [stop(1)]
    off = car(end=500, off_duty=((100, 200),))
    solution = solved(RoutingProblem(line(0, 150), visits, [off]))
    assert solution.dropped == () and start(solution, 0) == 200
    within = [stop(1, earliest=95, latest=180)]  # would end after 100, start before 200
    solution = solved(RoutingProblem(line(0, 10), within, [off]))
    assert solution.dropped == (0,)


def test_simultaneous_visits_start_together_on_two_vehicles():
    visits = [stop(1, earliest=30), stop(1, earliest=30)]
    problem = RoutingProblem(line(0, 10), visits, [car(), car()],
                             gaps=[StartGap(0, 1, 0, 0)])
    solution = solved(problem)
    assert start(solution, 0) == start(solution, 1)
    assert owner(solution, 0) != owner(solution, 1)


def test_a_team_visit_without_enough_vehicles_is_dropped_whole():
    visits = [stop(1), stop(1)]
    problem = RoutingProblem(line(0, 10), visits, [car()], gaps=[StartGap(0, 1, 0, 0)])
    assert solved(problem).dropped == (0, 1)


def test_a_start_gap_holds_between_two_visits():
    visits = [stop(1), stop(2)]
    problem = RoutingProblem(line(0, 10, 10), visits, [car(), car()],
                             gaps=[StartGap(0, 1, 100, 120)])
    solution = solved(problem)
    assert 100 <= start(solution, 1) - start(solution, 0) <= 120
    problem.gaps = [StartGap(0, 1, 2000, 3000)]   # longer than the day
    assert solved(problem).dropped == (0, 1)


def test_a_follow_up_is_served_only_with_its_first_visit():
    visits = [stop(1, latest=100, drop_cost=50_000), stop(2, earliest=900, latest=950)]
    follow_up = StartGap(0, 1, 100, 200, together=False)
    problem = RoutingProblem(line(0, 10, 10), visits, [car()], gaps=[follow_up])
    solution = solved(problem)   # the follow-up cannot make its gap: only the first is served
    assert solution.dropped == (1,)
    problem.visits[1] = stop(2, earliest=0, latest=950)
    solution = solved(problem)
    assert solution.dropped == () and 100 <= start(solution, 1) - start(solution, 0) <= 200


def test_same_vehicle_link():
    visits = [stop(1), stop(2)]
    vehicles = [car(start_node=1, end_node=1), car(start_node=2, end_node=2)]
    free = solved(RoutingProblem(line(0, 0, 100), visits, vehicles))
    assert owner(free, 0) != owner(free, 1)
    linked = solved(RoutingProblem(line(0, 0, 100), visits, vehicles,
                                   same_vehicle=[SameVehicle(0, 1)]))
    assert owner(linked, 0) == owner(linked, 1) is not None


def test_locked_visits_stay_where_they_are():
    visits = [stop(1), stop(2)]
    problem = RoutingProblem(line(0, 10, 11), visits, [car(), car()],
                             locked=[Locked(1, 1, 500)])
    solution = solved(problem)
    assert owner(solution, 1) == 1 and start(solution, 1) == 500


def test_warm_start_is_never_worse_than_the_initial_routes():
    problem = RoutingProblem(line(0, 10, 20, 30, 40), [stop(i) for i in range(1, 5)], [car()])
    initial = [[3, 0, 2, 1]]   # a poor but feasible order
    assert route_cost(problem, 0, (3, 0, 2, 1)) == 120
    hurried = solve(problem, 0.001, initial=initial)
    assert hurried.found and hurried.arc_cost <= 120
    assert solved(problem, initial=initial).arc_cost == 80


def test_an_infeasible_warm_start_is_ignored():
    problem = RoutingProblem(line(0, 50), [stop(1, latest=60)], [car(), car()])
    bad = [[0], [0]]   # the same visit twice
    assert solved(problem, initial=bad).dropped == ()


def test_a_solved_model_is_freed(monkeypatch):
    """The solution callback held the model from C++, out of the collector's sight: every
    model a re-optimisation built (its matrices, its solver) lived as long as the process
    (13 GB after 11 minutes of a simulation)."""
    import gc
    import weakref

    from matcher import routing
    built = []
    original = routing._Model.__init__

    def remembered(self, *args, **kwargs):
        original(self, *args, **kwargs)
        built.append(weakref.ref(self))
    monkeypatch.setattr(routing._Model, "__init__", remembered)
    problem = RoutingProblem(line(0, 10, 20), [stop(1), stop(2)], [car()])
    for _ in range(3):
        assert solve(problem, LIMIT_S, initial=[[0, 1]]).found
    gc.collect()
    assert built and all(ref() is None for ref in built)


@st.composite
def tiny_problems(draw) -> RoutingProblem:
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 2))
    points = draw(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)),
                           min_size=n + 1, max_size=n + 1))
    xy = np.array(points)
    travel = np.ceil(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
    visits = []
    for i in range(1, n + 1):
        earliest = draw(st.integers(0, 150))
        latest = earliest + draw(st.integers(0, 100))
        soft = draw(st.booleans())
        visits.append(Visit(i, draw(st.integers(1, 40)), earliest, latest,
                            late_limit=latest + 60 if soft else None,
                            late_cost=draw(st.integers(1, 5)) if soft else 0,
                            vehicles=draw(st.sampled_from([None, (0,), (m - 1,)])),
                            load=draw(st.integers(1, 3)), drop_cost=draw(st.integers(50, 500))))
    vehicles = [Vehicle(0, draw(st.sampled_from([0, None])), 0, 400,
                        capacity=draw(st.sampled_from([0, 4, 6]))) for _ in range(m)]
    return RoutingProblem(travel.astype(np.int64), visits, vehicles)


@settings(max_examples=25, deadline=None)
@given(tiny_problems())
def test_tiny_problems_reach_the_brute_force_optimum(problem):
    solution = solved(problem)
    assert solution.cost == best_cost(problem)
