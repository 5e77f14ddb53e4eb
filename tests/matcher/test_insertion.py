"""Insertion into a day plan: gaps, travel, existing jobs fixed, and the vectorised first-job
path agreeing with the general one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import TravelModel, haversine_km
from matcher.insertion import (REFUSAL_CODES, DayRules, Insertion, Refusal, best_insertion,
                               first_job_insertion)
from matcher.model import Job, Shift
from matcher.service_day import ServiceCalendar
from tests.builders import CENTRE, HOUR, at, make_order, make_worker

RULES = DayRules(TravelModel(1.3, 25.0), ServiceCalendar("Asia/Shanghai"), 600)


def job(order_id, start_h, end_h, dlat=0.0):
    return Job(order_id, "c9", "cleaning", CENTRE[0] + dlat, CENTRE[1], at(start_h), at(end_h))


def test_first_job_starts_after_travel_from_home():
    order = make_order(earliest_start=at(8), latest_start=at(10))
    found = best_insertion(make_worker(), [], order, 0, RULES)
    travel, _ = RULES.leg(CENTRE[0], CENTRE[1], order.lat, order.lon)
    assert isinstance(found, Insertion)
    assert (found.start, found.travel_s, found.added_travel_s) == (at(8) + travel, travel, travel)


def test_the_gap_with_least_added_travel_wins():
    # two gaps: between a far-north job and a far-south one, or after the far-south one next to
    # the order; the order lies south, so joining the southern job adds less travel
    jobs = [job("north", 8, 9, dlat=0.05), job("south", 11, 12, dlat=-0.05)]
    order = make_order(lat=CENTRE[0] - 0.05, earliest_start=at(9), latest_start=at(14),
                       duration=HOUR)
    found = best_insertion(make_worker(), jobs, order, 0, RULES)
    assert found.position == 2 and found.start >= at(12)


def test_travel_to_the_next_job_must_fit():
    jobs = [job("next", 11, 12, dlat=0.05)]  # ~5.6 km away: ~18 min by the model
    tight = make_order(earliest_start=at(9), latest_start=at(9), duration=2 * HOUR - 600,
                       lat=CENTRE[0], lon=CENTRE[1])
    assert best_insertion(make_worker(), jobs, tight, 0, RULES) is Refusal.DAY_PLAN
    loose = make_order(earliest_start=at(8) + 600, latest_start=at(8) + 600, lat=CENTRE[0],
                       lon=CENTRE[1], duration=2 * HOUR - 1800)
    assert isinstance(best_insertion(make_worker(), jobs, loose, 0, RULES), Insertion)


def test_the_job_ends_inside_its_shift():
    order = make_order(earliest_start=at(16), latest_start=at(16) + 1200, duration=2 * HOUR)
    assert isinstance(best_insertion(make_worker(), [], order, 0, RULES), Insertion)
    late = make_order(earliest_start=at(16) + 1200, latest_start=at(17), duration=2 * HOUR)
    assert best_insertion(make_worker(), [], late, 0, RULES) is Refusal.SHIFT


shift_starts = st.integers(5, 14)
orders = st.tuples(st.floats(-0.1, 0.1), st.floats(-0.1, 0.1), st.integers(6 * 60, 20 * 60),
                   st.integers(0, 240), st.integers(30, 300), st.integers(0, 14 * 60))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(shift_starts, st.integers(1, 6)), min_size=1, max_size=3), orders,
       st.sampled_from([0, 60, 120, 600]))
def test_vectorised_first_job_agrees_with_best_insertion(shift_specs, order_spec, max_minutes):
    shifts, t = [], 0
    for start_h, length_h in sorted(shift_specs):
        start = max(start_h, t)
        shifts.append(Shift(at(start), at(start + length_h)))
        t = start + length_h
    worker = make_worker(shifts=tuple(shifts), max_work_minutes_per_day=max_minutes)
    dlat, dlon, earliest_min, window_min, duration_min, now_min = order_spec
    order = make_order(lat=CENTRE[0] + dlat, lon=CENTRE[1] + dlon,
                       earliest_start=at(earliest_min / 60),
                       latest_start=at((earliest_min + window_min) / 60),
                       duration=duration_min * 60)
    now = at(now_min / 60)
    expected = best_insertion(worker, [], order, now, RULES)

    padded = np.zeros((1, 3, 2), dtype=np.int64)
    for k, shift in enumerate(shifts):
        padded[0, k] = shift.start, shift.end
    km = np.array([haversine_km(worker.home_lat, worker.home_lon, order.lat, order.lon)])
    got = first_job_insertion(padded, km, np.array([order.earliest_start]),
                              np.array([order.latest_start]), np.array([order.duration]),
                              np.array([max_minutes or 600]), now, RULES)
    if isinstance(expected, Refusal):
        assert REFUSAL_CODES[got.code[0]] is expected
    else:
        assert got.code[0] == 0
        assert (int(got.start[0]), int(got.travel_s[0])) == (expected.start, expected.travel_s)
