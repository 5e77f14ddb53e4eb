"""Insertion into a day plan: gaps, travel, existing jobs fixed, and the vectorised
``insert_many`` agreeing with the plain-loop reference on random days."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import TravelModel
from matcher.insertion import (REFUSAL_CODES, DayRules, Days, Insertion, OrderColumns,
                               Refusal, insert_many)
from matcher.model import Job, Shift
from matcher.service_day import ServiceCalendar
from matcher.world import JobColumns
from matcher.worker_table import WorkerTable
from tests.builders import CENTRE, HOUR, at, make_order, make_worker
from tests.reference_insertion import best_insertion

RULES = DayRules(TravelModel(1.3, 25.0), ServiceCalendar("Asia/Shanghai"), 600)


def insert(worker, jobs, order, now=0) -> Insertion | Refusal:
    """The production path for one pair: ``insert_many`` over a one-row table."""
    table = WorkerTable([worker])
    columns = JobColumns(table, {worker.worker_id: jobs}).take(np.array([0]))
    days = Days(table.lat, table.lon, table.shifts, table.max_jobs,
                table.max_minutes(RULES.default_max_minutes), columns["start"],
                columns["end"], columns["lat"], columns["lon"])
    slots = insert_many(OrderColumns(*(np.array([v]) for v in (
        order.lat, order.lon, order.earliest_start, order.latest_start, order.duration))),
        days, now, RULES)
    if slots.code[0]:
        return REFUSAL_CODES[slots.code[0]]
    start = int(slots.start[0])
    return Insertion(int(slots.position[0]), start, start + order.duration,
                     int(slots.travel_s[0]), float(slots.travel_km[0]), int(slots.added_s[0]),
                     float(slots.added_km[0]), float(slots.day_minutes[0]))


def job(order_id, start_h, end_h, dlat=0.0):
    return Job(order_id, "c9", "cleaning", CENTRE[0] + dlat, CENTRE[1], at(start_h), at(end_h))


def test_first_job_starts_after_travel_from_home():
    order = make_order(earliest_start=at(8), latest_start=at(10))
    found = insert(make_worker(), [], order)
    travel, _ = RULES.leg(CENTRE[0], CENTRE[1], order.lat, order.lon)
    assert isinstance(found, Insertion)
    assert (found.start, found.travel_s, found.added_travel_s) == (at(8) + travel, travel, travel)


def test_the_gap_with_least_added_travel_wins():
    # the order lies south: joining the southern job adds less travel than going between
    jobs = [job("north", 8, 9, dlat=0.05), job("south", 11, 12, dlat=-0.05)]
    order = make_order(lat=CENTRE[0] - 0.05, earliest_start=at(9), latest_start=at(14),
                       duration=HOUR)
    found = insert(make_worker(), jobs, order)
    assert found.position == 2 and found.start >= at(12)
    assert found.added_travel_s == RULES.leg(CENTRE[0] - 0.05, CENTRE[1], order.lat,
                                             order.lon)[0]


def test_travel_to_the_next_job_must_fit():
    jobs = [job("next", 11, 12, dlat=0.05)]  # ~5.6 km away: ~18 min by the model
    tight = make_order(earliest_start=at(9), latest_start=at(9), duration=2 * HOUR - 600,
                       lat=CENTRE[0], lon=CENTRE[1])
    assert insert(make_worker(), jobs, tight) is Refusal.DAY_PLAN
    loose = make_order(earliest_start=at(8) + 600, latest_start=at(8) + 600, lat=CENTRE[0],
                       lon=CENTRE[1], duration=2 * HOUR - 1800)
    found = insert(make_worker(), jobs, loose)
    assert isinstance(found, Insertion) and found.position == 0


def test_the_job_ends_inside_its_shift():
    order = make_order(earliest_start=at(16), latest_start=at(16) + 1200, duration=2 * HOUR)
    assert isinstance(insert(make_worker(), [], order), Insertion)
    late = make_order(earliest_start=at(16) + 1200, latest_start=at(17), duration=2 * HOUR)
    assert insert(make_worker(), [], late) is Refusal.SHIFT


def test_a_break_between_shifts_does_not_take_the_worker_home():
    # the morning job ends 13 km north at 12:00; the afternoon shift starts at 12:00 right away
    worker = make_worker(shifts=(Shift(at(8), at(12)), Shift(at(12), at(18))))
    jobs = [job("far", 10, 12, dlat=0.12)]
    leg = RULES.leg(CENTRE[0] + 0.12, CENTRE[1], CENTRE[0], CENTRE[1])[0]
    at_home = make_order(lat=CENTRE[0], lon=CENTRE[1], earliest_start=at(12),
                         latest_start=at(12) + 600, duration=HOUR)
    assert insert(worker, jobs, at_home) is Refusal.DAY_PLAN
    later = make_order(lat=CENTRE[0], lon=CENTRE[1], earliest_start=at(12),
                       latest_start=at(14), duration=HOUR)
    found = insert(worker, jobs, later)
    assert (found.position, found.start, found.travel_s) == (1, at(12) + leg, leg)


def test_the_first_job_of_a_day_starts_from_home():
    worker = make_worker(shifts=(Shift(at(8), at(18)), Shift(at(32), at(42))))
    jobs = [job("yesterday", 16, 18, dlat=0.12)]
    order = make_order(earliest_start=at(32), latest_start=at(33), duration=HOUR)
    found = insert(worker, jobs, order)
    assert found.position == 1
    assert found.travel_s == RULES.leg(CENTRE[0], CENTRE[1], order.lat, order.lon)[0]


# ---------------------------------------------------------------- against the reference

spots = st.tuples(st.floats(-0.08, 0.08), st.floats(-0.08, 0.08))
order_specs = st.tuples(spots, st.integers(6 * 60, 20 * 60), st.integers(0, 240),
                        st.integers(30, 300))


def random_day(shift_specs, booked, max_jobs, max_minutes):
    """A worker and a feasible day built by inserting ``booked`` orders with the reference."""
    shifts, t = [], 0
    for start_h, length_h in sorted(shift_specs):
        start = max(start_h, t)
        shifts.append(Shift(at(start), at(start + length_h)))
        t = start + length_h
    worker = make_worker(shifts=tuple(shifts), max_jobs_per_day=max_jobs,
                         max_work_minutes_per_day=max_minutes)
    jobs: list[Job] = []
    for k, spec in enumerate(booked):
        order = order_from(f"b{k}", spec)
        found = best_insertion(worker, jobs, order, 0, RULES)
        if isinstance(found, Insertion):
            jobs.insert(found.position, Job(order.order_id, "c9", "cleaning", order.lat,
                                            order.lon, found.start, found.end))
    return worker, jobs


def order_from(order_id, spec):
    (dlat, dlon), earliest_min, window_min, duration_min = spec
    return make_order(order_id, lat=CENTRE[0] + dlat, lon=CENTRE[1] + dlon,
                      earliest_start=at(earliest_min / 60),
                      latest_start=at((earliest_min + window_min) / 60),
                      duration=duration_min * 60)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.integers(5, 14), st.integers(1, 6)), min_size=1, max_size=3),
       st.lists(order_specs, max_size=6), order_specs, st.integers(0, 14 * 60),
       st.sampled_from([0, 2, 3]), st.sampled_from([0, 120, 300]))
def test_insert_many_agrees_with_the_reference(shift_specs, booked, spec, now_min, max_jobs,
                                               max_minutes):
    worker, jobs = random_day(shift_specs, booked, max_jobs, max_minutes)
    order = order_from("new", spec)
    now = at(now_min / 60)
    expected = best_insertion(worker, jobs, order, now, RULES)
    got = insert(worker, jobs, order, now)
    if isinstance(expected, Refusal):
        assert got is expected
    else:
        assert isinstance(got, Insertion)
        assert (got.position, got.start, got.travel_s, got.added_travel_s) == (
            expected.position, expected.start, expected.travel_s, expected.added_travel_s)
        assert got.day_minutes_before == expected.day_minutes_before
        assert abs(got.added_travel_km - expected.added_travel_km) < 1e-9
