"""The independent checker itself catches each kind of violation (a checker that cannot fail
would make the property tests worthless)."""

from __future__ import annotations

import dataclasses

import pytest

from matcher.config import DispatchConfig, LatenessConfig
from matcher.model import Break, Job, Skill, WorkerStatus
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



# ---------------------------------------------------------------- breaks

def _two_jobs(second_start):
    """09:00-11:00 next door, then a job 14 min away at ``second_start`` for an hour."""
    a = make_order("a", earliest_start=at(9), latest_start=at(9))
    b = make_order("b", lat=CENTRE[0] + 0.05, lon=CENTRE[1], earliest_start=second_start,
                   latest_start=second_start, duration=HOUR)
    return [job_for(a, at(9)), job_for(b, second_start)], {"a": a, "b": b}


LUNCH = Break(at(11), at(12.5), HOUR)


def test_a_break_with_room_in_a_gap_passes():
    day, orders = _two_jobs(at(12) + 20 * 60)  # 80 min: 60 min of lunch, 14 min of travel
    assert check_worker_day(CONFIG, make_worker(breaks=(LUNCH,)), day, orders) == []
    alone, solo = _two_jobs(at(14))
    after = Break(at(15), at(16), HOUR)  # after the last job
    assert check_worker_day(CONFIG, make_worker(breaks=(after,)), alone, solo) == []


def test_a_break_squeezed_by_the_trip_fails():
    day, orders = _two_jobs(at(12) + 10 * 60)  # 70 min: the lunch or the trip, not both
    assert check_worker_day(CONFIG, make_worker(), day, orders) == []
    problems = check_worker_day(CONFIG, make_worker(breaks=(LUNCH,)), day, orders)
    assert problems == [f"w1: break 0 (3600 s between {at(11)} and {at(12.5)}) fits in no gap "
                        "of the day plan"]


def test_a_break_overlapping_a_job_fails():
    order = make_order(earliest_start=at(9), latest_start=at(9))
    problems = check_worker_day(CONFIG, make_worker(breaks=(Break(at(10), at(11.5), HOUR),)),
                                [job_for(order, at(9))], {"o1": order})
    assert any("break 0" in p for p in problems)


def test_breaks_sharing_a_gap_share_its_trip():
    day, orders = _two_jobs(at(13.2))  # 132 min: 72 with either break, 12 with both
    two = (Break(at(11), at(12), HOUR), Break(at(12), at(13), HOUR))
    assert check_worker_day(CONFIG, make_worker(breaks=two[:1]), day, orders) == []
    assert check_worker_day(CONFIG, make_worker(breaks=two[1:]), day, orders) == []
    problems = check_worker_day(CONFIG, make_worker(breaks=two), day, orders)
    assert [p.split(" (")[0] for p in problems] == ["w1: break 0", "w1: break 1"]


def test_the_part_of_a_break_after_the_shift_start_comes_out_of_the_first_trip():
    order = make_order(earliest_start=at(8), latest_start=at(10))  # 4.6 min from home
    pause = Break(at(7.5), at(8.5), HOUR)  # half of it after the 08:00 shift start
    worker = make_worker(breaks=(pause,))
    assert check_worker_day(CONFIG, worker, [job_for(order, at(8.5) + 300)],
                            {"o1": order}) == []
    assert check_worker_day(CONFIG, worker, [job_for(order, at(8.5) + 240)], {"o1": order})


# ---------------------------------------------------------------- soft lateness and travel

def test_a_soft_window_may_start_late_up_to_its_limit():
    soft = dataclasses.replace(CONFIG, lateness=(("cleaning", LatenessConfig(30, 0.1)),))
    order = make_order()  # latest start 11:00
    assert check_worker_day(soft, make_worker(), [job_for(order, at(11.5))], {"o1": order}) == []
    assert check_worker_day(CONFIG, make_worker(), [job_for(order, at(11.5))], {"o1": order})
    problems = check_worker_day(soft, make_worker(), [job_for(order, at(11.5) + 60)],
                                {"o1": order})
    assert problems == ["w1/o1: start outside the window (by 60 s)"]


def test_travel_times_can_come_from_the_caller():
    order = make_order(earliest_start=at(8), latest_start=at(10))
    day, orders = [job_for(order, at(8.5))], {"o1": order}
    assert check_plans(CONFIG, {"w1": make_worker()}, {"w1": day}, orders) == []

    def two_hours(lat1, lon1, lat2, lon2):
        return 2 * HOUR

    problems = check_plans(CONFIG, {"w1": make_worker()}, {"w1": day}, orders,
                           travel=two_hours)
    assert problems == [f"w1/o1: starts {int(1.5 * HOUR)} s before the worker can arrive"]
