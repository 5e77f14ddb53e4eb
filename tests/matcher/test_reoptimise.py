"""Re-optimisation of day plans: better plans where they exist, never a worse or broken one."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings, strategies as st

from matcher.config import DispatchConfig
from matcher.model import Job, LinkType, Order, OrderLink, Shift
from matcher.planner import Planner
from matcher.reoptimise import PlanScope, Reoptimiser, check_scope
import pytest

from tests.builders import CENTRE, HOUR, at, make_order, make_worker, world_of
from tests.checker import check_plans
from tests.city import random_orders, random_workers

CONFIG = DispatchConfig()
LIMIT_S = 0.5
EAST, WEST = (CENTRE[0], CENTRE[1] + 0.05), (CENTRE[0], CENTRE[1] - 0.05)
# 0.1 degree north of EAST: 35 minutes from its home, 42 from WEST
NORTH = (EAST[0] + 0.1, EAST[1])


def job(order: Order, start: int) -> Job:
    return Job(order.order_id, order.customer_id, order.service_type, order.lat, order.lon,
               start, start + order.duration)


def run(scope: PlanScope, config: DispatchConfig = CONFIG):
    planner = Planner(config)
    result = Reoptimiser(planner).run(scope, LIMIT_S)
    workers = {w.worker_id: w for w in scope.workers}
    # (a started job stays as it is, even one reached from a live location, not from home)
    ahead = {w: [j for j in jobs if j.start >= scope.now] for w, jobs in result.plans.items()}
    assert check_plans(config, workers, ahead, scope.orders) == []
    assert check_scope(planner, scope, result.plans) == []
    assert result.after.total <= result.before.total
    return result


def where(result, order_id: str) -> list[tuple[str, int]]:
    return sorted((w, j.start) for w, jobs in result.plans.items() for j in jobs
                  if j.order_id == order_id)


def crossed(start: float = 10, **east):
    """Two workers, each planned for the order next to the other one's home (at ``start``
    o'clock); ``east``: the east worker's fields."""
    east = make_worker("east", home_lat=EAST[0], home_lon=EAST[1], **east)
    west = make_worker("west", home_lat=WEST[0], home_lon=WEST[1])
    near_east = make_order("oe", lat=EAST[0], lon=EAST[1] + 0.001)
    near_west = make_order("ow", lat=WEST[0], lon=WEST[1] + 0.001)
    plans = {"east": [job(near_west, at(start))], "west": [job(near_east, at(start))]}
    return [east, west], plans, {o.order_id: o for o in (near_east, near_west)}


def with_locked_job(plans, orders, start: float, hours: float = 2, worker: str = "east",
                    place=NORTH) -> frozenset[str]:
    """A job of another customer at ``place`` added to ``worker``'s plan at ``start``
    o'clock, locked (accepted); the locked order ids."""
    fixed = make_order(f"fixed-{worker}", customer_id="c2", lat=place[0], lon=place[1],
                       earliest_start=at(start), latest_start=at(start),
                       duration=int(hours * HOUR))
    orders[fixed.order_id] = fixed
    plans[worker] = sorted(plans[worker] + [job(fixed, at(start))], key=lambda j: j.start)
    return frozenset({fixed.order_id})


def swapped(result) -> bool:
    return where(result, "oe")[0][0] == "east" and where(result, "ow")[0][0] == "west"


def test_crossed_jobs_are_swapped_and_travel_falls():
    workers, plans, orders = crossed()
    result = run(PlanScope(workers, plans, orders, now=at(7)))
    assert result.improved and result.moved == 2
    assert where(result, "oe")[0][0] == "east" and where(result, "ow")[0][0] == "west"
    assert result.after.travel_s < result.before.travel_s / 5


def test_started_and_locked_jobs_stay_where_they_are():
    workers, plans, orders = crossed()
    started = run(PlanScope(workers, plans, orders, now=at(10, ) + 60))
    assert where(started, "oe") == [("west", at(10))] and not started.improved
    locked = run(PlanScope(workers, plans, orders, locked=frozenset({"oe"}), now=at(7)))
    assert where(locked, "oe") == [("west", at(10))]


def test_continuity_keeps_a_job_with_the_customers_preferred_worker():
    workers, plans, orders = crossed()
    orders["oe"] = make_order("oe", lat=EAST[0], lon=EAST[1] + 0.001,
                              preferred_worker_ids=frozenset({"west"}))
    result = run(PlanScope(workers, plans, orders, now=at(7)))
    assert where(result, "oe")[0][0] == "west"


def test_pending_orders_are_placed_team_jobs_together():
    workers, _, orders = crossed()
    team = make_order("team", workers_needed=2, earliest_start=at(13), latest_start=at(14))
    orders["team"] = team
    result = run(PlanScope(workers, {}, orders, pending=("oe", "ow", "team"), now=at(7)))
    assert result.improved and set(result.placed) == {"oe", "ow", "team"}
    placed = where(result, "team")
    assert {w for w, _ in placed} == {"east", "west"} and placed[0][1] == placed[1][1]


def test_a_follow_up_keeps_its_gap_and_a_same_worker_order_its_worker():
    workers, plans, orders = crossed()
    orders["visit"] = make_order("visit", lat=EAST[0], lon=EAST[1], earliest_start=at(8),
                                 latest_start=at(17), duration=HOUR,
                                 link=OrderLink("oe", LinkType.START_GAP, 4 * HOUR, 5 * HOUR))
    orders["again"] = make_order("again", lat=WEST[0], lon=WEST[1], earliest_start=at(8),
                                 latest_start=at(17), duration=HOUR,
                                 link=OrderLink("ow", LinkType.SAME_WORKER))
    result = run(PlanScope(workers, plans, orders, pending=("visit", "again"), now=at(7)))
    assert set(result.placed) == {"visit", "again"}
    (_, first), (_, follow) = where(result, "oe")[0], where(result, "visit")[0]
    assert 4 * HOUR <= follow - first <= 5 * HOUR
    assert where(result, "again")[0][0] == where(result, "ow")[0][0]


def test_nothing_cheaper_keeps_the_current_plans():
    workers, plans, orders = crossed()
    plans = {"east": [job(orders["oe"], at(9))], "west": [job(orders["ow"], at(9))]}
    result = run(PlanScope(workers, plans, orders, now=at(7)))
    assert not result.improved and result.plans == plans


@settings(max_examples=12, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_never_worse_never_broken_on_random_cities(seed):
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, 8)
    orders = random_orders(rng, 14, 8)
    planner = Planner(CONFIG)
    world = world_of(workers)
    dispatched = planner.dispatch(orders, world, at(6))
    plans = {w.worker_id: dispatched.plans.get(w.worker_id, []) for w in workers}
    by_id = {o.order_id: o for o in orders}
    placed = {a.order_id for a in dispatched.assignments}
    pending = tuple(o.order_id for o in orders if o.order_id not in placed)
    now = at(float(rng.choice([6.0, 10.5])))
    locked = frozenset(sorted(placed)[:2])
    result = run(PlanScope(workers, plans, by_id, pending=pending, locked=locked, now=now))
    for worker_id, jobs in plans.items():
        for j in jobs:
            if j.start < now or j.order_id in locked:
                assert j in result.plans[worker_id]
    assert set(placed) <= {j.order_id for jobs in result.plans.values() for j in jobs}


def test_a_scope_too_large_for_one_run_is_refused_by_name():
    import pytest

    from matcher.errors import FailedPrecondition
    from matcher.reoptimise import MAX_POINTS

    orders = {f"o{i}": make_order(f"o{i}", lat=CENTRE[0] + i * 1e-5) for i in range(MAX_POINTS)}
    scope = PlanScope([make_worker("w1")], {}, orders, pending=tuple(orders), now=at(7))
    with pytest.raises(FailedPrecondition, match="name fewer worker_ids"):
        Reoptimiser(Planner(CONFIG)).run(scope, LIMIT_S)


def test_only_workers_near_the_jobs_become_vehicles():
    from matcher.reoptimise import _Build

    workers, plans, orders = crossed()
    far = [make_worker(f"far{i}", home_lat=CENTRE[0] + 0.5, home_lon=CENTRE[1])
           for i in range(30)]
    config = DispatchConfig()
    build = _Build(Reoptimiser(Planner(config)), PlanScope(workers + far, plans, orders,
                                                           now=at(7)))
    assert {w for w, _ in build.vehicle_key} == {"east", "west"}


def test_a_job_held_outside_its_nearest_workers_keeps_the_warm_start_valid():
    """The worker planned for a job stays allowed for it even when it is not among the
    ``optimizer.candidates_per_order`` nearest, so that the plans in force remain the solver's
    start (one job on a vehicle it may not use voids the whole start)."""

    from matcher.reoptimise import _Build
    near = make_worker("near", home_lat=EAST[0], home_lon=EAST[1])
    far = make_worker("far", home_lat=WEST[0], home_lon=WEST[1])
    order = make_order("o", lat=EAST[0], lon=EAST[1] + 0.001)
    config = replace(CONFIG, optimizer=replace(CONFIG.optimizer, candidates_per_order=1))
    scope = PlanScope([near, far], {"far": [job(order, at(10))]}, {"o": order}, now=at(7))
    build = _Build(Reoptimiser(Planner(config)), scope, frozenset())
    for vehicle, visits in enumerate(build.initial):
        for visit in visits:
            assert vehicle in build.problem.visits[visit].vehicles
    result = run(scope, config)
    assert where(result, "o")[0][0] == "near"


# Days that dispatch plans and the routing model once could not express: one such day
# among the vehicles left the solver without any solution, so the crossed jobs stayed crossed.

def test_a_last_job_whose_way_home_passes_the_shift_end_leaves_the_day_solvable():
    workers, plans, orders = crossed()
    # ends at 17:30, 35 minutes from home: back at 18:05, after the shift (dispatch allows it)
    locked = with_locked_job(plans, orders, 15.5)
    result = run(PlanScope(workers, plans, orders, locked=locked, now=at(7)))
    assert result.improved and swapped(result)


def test_a_job_never_ends_after_the_shift_even_with_the_way_home_free():
    workers, plans, orders = crossed()
    locked = with_locked_job(plans, orders, 15.5)
    # the order west holds could only go east after the locked job, and would end at 19:30
    orders["ow"] = make_order("ow", lat=WEST[0], lon=WEST[1] + 0.001, earliest_start=at(10),
                              latest_start=at(17.5))
    plans["west"] = [job(orders["oe"], at(10))]
    plans["east"] = [job(orders["ow"], at(10)), *plans["east"][1:]]
    result = run(PlanScope(workers, plans, orders, locked=locked, now=at(7)))
    assert all(j.end <= at(18) for j in result.plans["east"])


def test_travel_between_two_shifts_is_allowed_but_no_job_in_the_gap():
    # the crossed jobs end at 12:50; the locked one at 15:00 is 35-42 minutes away, so the
    # worker drives there after 13:00, in the gap
    workers, plans, orders = crossed(10 + 50 / 60, shifts=(Shift(at(8), at(13)),
                                                            Shift(at(15), at(18))))
    for order_id in ("oe", "ow"):
        orders[order_id] = replace(orders[order_id], earliest_start=at(10 + 50 / 60))
    locked = with_locked_job(plans, orders, 15)
    result = run(PlanScope(workers, plans, orders, locked=locked, now=at(7)))
    assert result.improved and swapped(result)
    gap = (at(13), at(15))
    assert all(j.end <= gap[0] or j.start >= gap[1] for j in result.plans["east"])


def test_no_job_moves_into_the_gap_between_two_shifts():
    workers, plans, orders = crossed(shifts=(Shift(at(8), at(13)), Shift(at(15), at(18))))
    # the order east holds could start from 9 to 17, but not across the gap
    orders["ow"] = make_order("ow", lat=WEST[0], lon=WEST[1] + 0.001, earliest_start=at(9),
                              latest_start=at(17), duration=3 * HOUR)
    plans["east"] = [job(orders["ow"], at(15))]
    result = run(PlanScope(workers, plans, orders, now=at(12)))
    for j in result.plans["east"]:
        assert j.end <= at(13) or j.start >= at(15)


@pytest.mark.parametrize("now", [8.5, 9], ids=["set out, not started", "started"])
def test_a_first_job_reached_before_now_leaves_the_day_solvable(now):
    """A worker on the way to (or already at) a first job that home is too far from to reach
    it by now (dispatch planned it from a live location, or the worker left early)."""
    workers, plans, orders = crossed(10.5)
    first = 8 + 40 / 60 if now == 8.5 else 8 + 10 / 60  # 35 minutes from home
    locked = with_locked_job(plans, orders, first, hours=1)
    result = run(PlanScope(workers, plans, orders, locked=locked, now=at(now)))
    assert result.improved and swapped(result)
    assert job(orders["fixed-east"], at(first)) in result.plans["east"]


def test_a_team_that_too_few_workers_may_do_is_left_out_and_the_rest_solved():
    from matcher.reoptimise import _Build

    workers, plans, orders = crossed()
    locked = with_locked_job(plans, orders, 14) | with_locked_job(plans, orders, 14,
                                                                  worker="west")
    orders["team"] = make_order("team", customer_id="c3", workers_needed=2,
                                earliest_start=at(15), latest_start=at(16),
                                blocked_worker_ids=frozenset({"west"}))
    scope = PlanScope(workers, plans, orders, pending=("team",), locked=locked, now=at(7))
    build = _Build(Reoptimiser(Planner(CONFIG)), scope, frozenset({"team"}))
    assert "team" not in build.visits_of
    result = run(scope)
    assert result.improved and swapped(result) and where(result, "team") == []


def test_a_worker_whose_jobs_are_all_locked_and_far_stays_out_of_the_model():
    from matcher.reoptimise import _Build

    workers, plans, orders = crossed()
    far = make_worker("far", home_lat=CENTRE[0] + 0.5, home_lon=CENTRE[1])
    plans["far"] = []
    # a day the model once could not express (back home after the shift)
    locked = with_locked_job(plans, orders, 15.5, worker="far",
                             place=(CENTRE[0] + 0.6, CENTRE[1]))
    scope = PlanScope(workers + [far], plans, orders, locked=locked, now=at(7))
    build = _Build(Reoptimiser(Planner(CONFIG)), scope)
    assert {w for w, _ in build.vehicle_key} == {"east", "west"}
    result = run(scope)
    assert result.improved and result.plans["far"] == plans["far"]
