"""Travel from a matrix need not be symmetric: every leg is looked up in its own direction."""

from __future__ import annotations

from geo.matrix import PointMatrix
from matcher.config import DispatchConfig
from matcher.model import Job
from matcher.planner import Planner
from tests.builders import CENTRE, HOUR, at, make_order, make_worker, world_of
from tests.checker import check_plans

HOME, A, B, C = [(CENTRE[0] + 0.01 * i, CENTRE[1]) for i in range(4)]
# minutes; B -> C takes an hour, C -> B one minute
MINUTES = [[0, 1, 1, 1],
           [1, 0, 1, 1],
           [1, 1, 0, 60],
           [1, 1, 1, 0]]
MATRIX = PointMatrix([p[0] for p in (HOME, A, B, C)], [p[1] for p in (HOME, A, B, C)],
                     [[60 * m for m in row] for row in MINUTES])


def job_at(order, start):
    return Job(order.order_id, order.customer_id, order.service_type, order.lat, order.lon,
               start, start + order.duration)


def test_the_leg_after_an_inserted_job_is_taken_from_it_to_the_next_job():
    worker = make_worker("w1", home_lat=HOME[0], home_lon=HOME[1])
    first = make_order("a", lat=A[0], lon=A[1], earliest_start=at(9), latest_start=at(9),
                       duration=HOUR)
    last = make_order("c", lat=C[0], lon=C[1], earliest_start=at(12), latest_start=at(12),
                      duration=HOUR)
    plans = {"w1": [job_at(first, at(9)), job_at(last, at(12))]}
    squeezed = make_order("b", lat=B[0], lon=B[1], earliest_start=at(10),
                          latest_start=at(10.5), duration=HOUR)
    result = Planner(DispatchConfig(), matrix=MATRIX).dispatch([squeezed],
                                                              world_of([worker], plans), at(6))
    assert not result.assignments   # 10:01 + 1 h + the hour from B to C misses 12:00
    early = make_order("b", lat=B[0], lon=B[1], earliest_start=at(10), latest_start=at(10.5),
                       duration=HOUR // 4)
    result = Planner(DispatchConfig(), matrix=MATRIX).dispatch([early],
                                                              world_of([worker], plans), at(6))
    assert [a.order_id for a in result.assignments] == ["b"]
    new_plans = {"w1": result.plans["w1"]}
    travel = lambda *p: int(MATRIX.leg(*p)[0])
    orders = {o.order_id: o for o in (first, last, early)}
    assert check_plans(DispatchConfig(), {"w1": worker}, new_plans, orders, travel=travel) == []


def test_the_leg_from_an_inserted_job_to_the_next_is_taken_in_that_direction():
    """B -> C takes an hour, C -> B a minute: a job at B before one at C at 12:00 must end by
    11:00, whichever way the legs of the worker's other stops run."""
    worker = make_worker("w1", home_lat=HOME[0], home_lon=HOME[1])
    last = make_order("c", lat=C[0], lon=C[1], earliest_start=at(12), latest_start=at(12),
                      duration=HOUR)
    plans = {"w1": [job_at(last, at(12))]}
    planner = Planner(DispatchConfig(), matrix=MATRIX)
    too_long = make_order("b", lat=B[0], lon=B[1], earliest_start=at(10), latest_start=at(10),
                          duration=HOUR + HOUR // 4)
    assert not planner.dispatch([too_long], world_of([worker], plans), at(6)).assignments
    short = make_order("b", lat=B[0], lon=B[1], earliest_start=at(10), latest_start=at(10),
                       duration=HOUR * 3 // 4)
    result = planner.dispatch([short], world_of([worker], plans), at(6))
    assert [(a.order_id, a.planned_start) for a in result.assignments] == [("b", at(10))]
    travel = lambda *p: int(MATRIX.leg(*p)[0])
    orders = {o.order_id: o for o in (last, short)}
    assert check_plans(DispatchConfig(), {"w1": worker}, {"w1": result.plans["w1"]}, orders,
                       travel=travel) == []
