"""The independent checker itself catches each kind of violation (a checker that cannot fail
would make the property tests worthless)."""

from __future__ import annotations

import pytest

from matcher.config import DispatchConfig
from matcher.model import Job, Skill, WorkerStatus
from tests.builders import CENTRE, HOUR, at, make_order, make_worker
from tests.checker import check_plans, check_worker_day

CONFIG = DispatchConfig()


def job_for(order, start):
    return Job(order.order_id, order.customer_id, order.service_type, order.lat, order.lon,
               start, start + order.duration)


def test_a_valid_day_has_no_problem():
    order = make_order()
    assert check_worker_day(CONFIG, make_worker(), [job_for(order, at(9) + 600)],
                            {order.order_id: order}) == []


@pytest.mark.parametrize(("worker", "order", "start", "problem"), [
    (make_worker(status=WorkerStatus.SUSPENDED), make_order(), at(10), "status"),
    (make_worker(), make_order(service_type="repair"), at(10), "no skill"),
    (make_worker(), make_order(min_skill_level=5), at(10), "level"),
    (make_worker(skills=(Skill("cleaning", 3, at(12)),)), make_order(), at(10), "certificate"),
    (make_worker(credit_score=10.0), make_order(), at(10), "credit"),
    (make_worker(), make_order(blocked_worker_ids=frozenset({"w1"})), at(10), "blocked"),
    (make_worker(), make_order(required_tags=frozenset({"x"})), at(10), "missing tags"),
    (make_worker(), make_order(), at(12), "window"),
    (make_worker(), make_order(earliest_start=at(17), latest_start=at(17)), at(17), "shift"),
    (make_worker(), make_order(earliest_start=at(8), latest_start=at(8)), at(8), "arrive"),
    (make_worker(), make_order(lat=CENTRE[0] + 0.5), at(10), "radius"),
])
def test_each_violation_is_reported(worker, order, start, problem):
    problems = check_worker_day(CONFIG, worker, [job_for(order, start)], {order.order_id: order})
    assert any(problem in p for p in problems), problems


def test_overlaps_daily_limits_and_double_planning_are_reported():
    a, b = make_order("a"), make_order("b")
    worker = make_worker(max_jobs_per_day=1)
    day = [job_for(a, at(9) + 600), job_for(b, at(10))]
    problems = check_worker_day(CONFIG, worker, day, {"a": a, "b": b})
    assert any("before the worker can arrive" in p for p in problems)
    assert any("2 jobs on" in p for p in problems)
    twice = check_plans(CONFIG, {"w1": make_worker(), "w2": make_worker("w2")},
                        {"w1": [job_for(a, at(9) + 600)], "w2": [job_for(a, at(9) + 600)]},
                        {"a": a})
    assert any("planned for w1 and w2" in p for p in twice)
    long_day = [job_for(make_order("x", duration=6 * HOUR, earliest_start=at(8),
                                   latest_start=at(9)), at(9))]
    assert any("working minutes" in p for p in check_worker_day(
        CONFIG, make_worker(max_work_minutes_per_day=300), long_day,
        {"x": make_order("x", duration=6 * HOUR, earliest_start=at(8), latest_start=at(9))}))


def test_travel_across_a_break_is_checked():
    from matcher.model import Shift
    worker = make_worker(shifts=(Shift(at(8), at(12)), Shift(at(12), at(18))))
    far = make_order("far", lat=CENTRE[0] + 0.12, earliest_start=at(10), latest_start=at(10))
    home = make_order("home", lat=CENTRE[0], lon=CENTRE[1], earliest_start=at(12),
                      latest_start=at(12))
    day = [job_for(far, at(10)), job_for(home, at(12))]
    problems = check_worker_day(CONFIG, worker, day, {"far": far, "home": home})
    assert any("home: starts" in p and "before the worker can arrive" in p for p in problems)

