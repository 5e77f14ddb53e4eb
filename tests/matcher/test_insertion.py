"""Insertion into a day plan: gaps, travel, existing jobs fixed, and the compiled
``insert_many`` agreeing with the plain-loop reference on random days."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st

from geo import TravelModel
from matcher.insertion import (REFUSAL_CODES, DayRules, Days, Insertion, OrderColumns,
                               Refusal, Workers, insert_many, insert_rows, shift_days)
from matcher.model import Break, Job, Shift
from matcher.service_day import ServiceCalendar
from matcher.world import JobColumns
from matcher.worker_table import WorkerTable
from tests.builders import CENTRE, HOUR, at, make_order, make_worker
from tests.reference_insertion import best_insertion

RULES = DayRules(TravelModel(1.3, 25.0), ServiceCalendar("Asia/Shanghai"), 600)


def insert(worker, jobs, order, now=0, max_late=0) -> Insertion | Refusal:
    """The production path for one pair: ``insert_many`` over a one-row table."""
    table = WorkerTable([worker])
    columns = JobColumns(table, {worker.worker_id: jobs}).take(np.array([0]))
    days = Days(table.lat, table.lon, table.shifts, table.max_jobs,
                table.max_minutes(RULES.default_max_minutes), columns["start"],
                columns["end"], columns["lat"], columns["lon"], table.breaks)
    slots = insert_many(OrderColumns.of(*(np.array([v]) for v in (
        order.lat, order.lon, order.earliest_start, order.latest_start, order.duration,
        max_late))), days, now, RULES)
    if slots.code[0]:
        return REFUSAL_CODES[slots.code[0]]
    start = int(slots.start[0])
    return Insertion(int(slots.position[0]), start, start + order.duration,
                     int(slots.travel_s[0]), float(slots.travel_km[0]), int(slots.added_s[0]),
                     float(slots.added_km[0]), float(slots.day_minutes[0]),
                     int(slots.late_s[0]))


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


# ---------------------------------------------------------------- breaks

LUNCH = Break(at(11), at(12.5), HOUR)  # an hour off between 11:00 and 12:30


def test_lunch_on_the_way_fits_between_two_jobs_when_the_trip_leaves_room():
    # the job before ends at 11:00 next door; the new job is 4.6 min away and starts 12:30
    jobs = [job("before", 9, 11)]
    order = make_order(earliest_start=at(12.5), latest_start=at(13), duration=HOUR)
    found = insert(make_worker(breaks=(LUNCH,)), jobs, order)
    assert (found.position, found.start) == (1, at(12.5))  # 90 min >= 4.6 min + 60 min


def test_lunch_that_leaves_no_room_for_the_trip_refuses_the_gap():
    # starting at 12:00 leaves 60 min between the jobs: the lunch or the trip, not both
    jobs = [job("before", 9, 11)]
    order = make_order(earliest_start=at(12), latest_start=at(12), duration=HOUR)
    assert isinstance(insert(make_worker(), jobs, order), Insertion)
    assert insert(make_worker(breaks=(LUNCH,)), jobs, order) is Refusal.BREAK


def test_a_job_waits_for_a_break_that_must_come_first():
    # free from 11:00, the job could start at 11:05, but lunch (by 12:30) must come first:
    # it starts after lunch and the trip, at 12:05
    jobs = [job("before", 9, 11)]
    order = make_order(earliest_start=at(11), latest_start=at(13), duration=2 * HOUR)
    travel = RULES.leg(CENTRE[0], CENTRE[1], order.lat, order.lon)[0]
    assert insert(make_worker(), jobs, order).start == at(11) + travel
    found = insert(make_worker(breaks=(LUNCH,)), jobs, order)
    assert (found.position, found.start) == (1, at(12) + travel)


def test_a_break_after_the_last_job_only_needs_its_window():
    order = make_order(earliest_start=at(9), latest_start=at(9), duration=2 * HOUR)
    assert isinstance(insert(make_worker(breaks=(Break(at(11), at(12), HOUR),)), [], order),
                      Insertion)  # 11:00-12:00 right after the job ends at 11:00
    late_lunch = Break(at(10.5), at(11.5), HOUR)
    assert insert(make_worker(breaks=(late_lunch,)), [], order) is Refusal.BREAK


def test_a_break_before_the_first_job_may_start_before_the_shift():
    # 4.6 min from home, the shift at 08:00; the break sits in 07:00-09:00
    order = make_order(earliest_start=at(8), latest_start=at(10), duration=HOUR)
    early = insert(make_worker(breaks=(Break(at(7), at(9), HOUR),)), [], order)
    assert early.start == at(8) + RULES.leg(CENTRE[0], CENTRE[1], order.lat, order.lon)[0]
    # 07:30-08:30 at the earliest: the job waits for it; its second half comes out of the
    # trip, which then ends at 08:34.6
    later = Break(at(7.5), at(9.5), HOUR)
    found = insert(make_worker(breaks=(later,)), [], order)
    assert found.start == at(8.5) + RULES.leg(CENTRE[0], CENTRE[1], order.lat, order.lon)[0]
    # a job that must start by 08:20 cannot wait, and after it (09:05) the window has closed
    tight = make_order(earliest_start=at(8), latest_start=at(8) + 1200, duration=HOUR)
    assert insert(make_worker(breaks=(later,)), [], tight) is Refusal.BREAK


def test_the_part_of_a_break_after_the_shift_start_comes_out_of_the_trip():
    travel = RULES.leg(CENTRE[0], CENTRE[1], CENTRE[0] + 0.01, CENTRE[1] + 0.01)[0]
    pause = Break(at(7.5), at(8.5), HOUR)  # 30 min of it after the 08:00 shift start

    def starting_at(start):
        order = make_order(earliest_start=start, latest_start=start, duration=HOUR)
        return insert(make_worker(breaks=(pause,)), [], order)

    assert isinstance(starting_at(at(8.5) + travel), Insertion)
    assert starting_at(at(8.5) + travel - 60) is Refusal.BREAK


def test_breaks_sharing_a_gap_share_its_trip():
    # 11:00-12:00 and 12:00-13:00 off; the new job 17 min north of the one ending at 11:00
    two = (Break(at(11), at(12), HOUR), Break(at(12), at(13), HOUR))
    jobs = [job("before", 9, 11)]
    order = make_order(lat=CENTRE[0] + 0.05, lon=CENTRE[1], duration=HOUR,
                       earliest_start=at(13.25), latest_start=at(13.25))
    # either break alone leaves 75 min for 17 min of travel; both leave 15 min
    assert isinstance(insert(make_worker(breaks=two[:1]), jobs, order), Insertion)
    assert isinstance(insert(make_worker(breaks=two[1:]), jobs, order), Insertion)
    assert insert(make_worker(breaks=two), jobs, order) is Refusal.BREAK


def test_a_break_another_gap_holds_does_not_bind():
    # lunch fits after the morning job; a job in the afternoon leaves it where it is
    jobs = [job("morning", 8.5, 10.5)]
    order = make_order(earliest_start=at(13), latest_start=at(14), duration=HOUR)
    found = insert(make_worker(breaks=(LUNCH,)), jobs, order)
    assert (found.position, found.start) == (1, at(13))


def test_a_break_already_missed_does_not_block_other_jobs():
    # a started job kept over a new break: the break fits nowhere, later jobs still come in
    jobs = [job("started", 10.5, 12.5)]
    order = make_order(earliest_start=at(14), latest_start=at(15), duration=HOUR)
    assert isinstance(insert(make_worker(breaks=(LUNCH,)), jobs, order), Insertion)


# ---------------------------------------------------------------- soft lateness

def test_a_soft_window_allows_a_late_start_up_to_its_limit():
    jobs = [job("busy", 8.5, 11)]  # next door until 11:00
    order = make_order(earliest_start=at(9), latest_start=at(10), duration=HOUR)
    travel = RULES.leg(CENTRE[0], CENTRE[1], order.lat, order.lon)[0]
    assert insert(make_worker(), jobs, order) is Refusal.DAY_PLAN
    assert insert(make_worker(), jobs, order, max_late=HOUR) is Refusal.DAY_PLAN
    found = insert(make_worker(), jobs, order, max_late=HOUR + travel)
    assert (found.start, found.late_s) == (at(11) + travel, HOUR + travel)


def test_a_soft_window_counts_for_the_shift_check():
    order = make_order(earliest_start=at(6), latest_start=at(7), duration=HOUR)
    assert insert(make_worker(), [], order) is Refusal.SHIFT
    found = insert(make_worker(), [], order, max_late=2 * HOUR)
    assert found.late_s == found.start - at(7) > HOUR


def test_an_on_time_gap_beats_a_late_gap_that_adds_less_travel():
    jobs = [job("home", 9 + 1 / 6, 12)]  # at home, 09:10-12:00
    order = make_order(lat=CENTRE[0] + 0.05, lon=CENTRE[1], earliest_start=at(8),
                       latest_start=at(8.5), duration=HOUR // 2)
    leg = RULES.leg(CENTRE[0], CENTRE[1], order.lat, order.lon)[0]
    # before the job: on time at 08:17, the trip there and back (2 legs); after it: 12:17,
    # one leg
    found = insert(make_worker(), jobs, order, max_late=4 * HOUR)
    assert (found.position, found.start, found.late_s, found.added_travel_s) == (
        0, at(8) + leg, 0, 2 * leg)
    # when both are late, the less late wins
    earlier = make_order(lat=order.lat, lon=order.lon, earliest_start=at(8),
                         latest_start=at(8) + 600, duration=HOUR // 2)
    found = insert(make_worker(), jobs, earlier, max_late=4 * HOUR)
    assert (found.position, found.late_s) == (0, leg - 600)


# ---------------------------------------------------------------- against the reference

spots = st.tuples(st.floats(-0.08, 0.08), st.floats(-0.08, 0.08))
MINUTE = 60


@st.composite
def shift_lists(draw):
    """One or two days, each with one shift or two (a lunch gap between them)."""
    shifts, start = [], 0
    for day in draw(st.sampled_from([(0,), (0,), (0, 1)])):
        start = max(start, day * 24 * 60 + draw(st.integers(5 * 60, 12 * 60)))
        for _ in range(draw(st.integers(1, 2))):
            length = draw(st.integers(2 * 60, 10 * 60))
            shifts.append(Shift(at(start / 60), at((start + length) / 60)))
            start += length + draw(st.integers(0, 120))
    return tuple(shifts)


@st.composite
def order_specs(draw, anchors):
    """((dlat, dlon), earliest, window, duration), minutes; mostly starting inside one of the
    ``anchors`` (shifts and break windows)."""
    shift = draw(st.sampled_from(anchors))
    duration = draw(st.integers(30, 240))
    lo = (shift.start - at(0)) // MINUTE - 20
    hi = max(lo, (shift.end - at(0)) // MINUTE - duration)
    earliest = draw(st.one_of(st.integers(lo, hi), st.integers(lo, hi),
                              st.integers(6 * 60, 44 * 60)))
    return (draw(spots), earliest, draw(st.integers(0, 240)), duration)


@st.composite
def break_lists(draw, shifts):
    """Break windows in time order, each starting no earlier than the previous one ends; most
    near a shift, some reaching across its start or across midnight."""
    breaks, t = [], 0
    anchors = sorted(draw(st.lists(st.sampled_from(shifts), min_size=draw(st.sampled_from(
        [0, 1, 1])), max_size=3)), key=lambda s: s.start)
    for shift in anchors:
        offset = draw(st.integers(-2 * 60, (shift.end - shift.start) // MINUTE))
        start = max(shift.start + offset * MINUTE, t)
        duration = draw(st.integers(15, 90)) * MINUTE
        slack = draw(st.one_of(st.integers(0, 60), st.integers(0, 600))) * MINUTE
        breaks.append(Break(start, start + duration + slack, duration))
        t = breaks[-1].end
    return tuple(breaks)


@st.composite
def scenarios(draw):
    shifts = draw(shift_lists())
    breaks = draw(break_lists(shifts))
    return dict(shifts=shifts, breaks=breaks,
                booked=draw(st.lists(order_specs(shifts + breaks), max_size=8)),
                spec=draw(order_specs(shifts + breaks)))


def random_day(shifts, booked, max_jobs, max_minutes, breaks=(), max_late=0):
    """A worker and a feasible day built by inserting ``booked`` orders with the reference."""
    worker = make_worker(shifts=shifts, max_jobs_per_day=max_jobs,
                         max_work_minutes_per_day=max_minutes, breaks=breaks)
    jobs: list[Job] = []
    for k, spec in enumerate(booked):
        order = order_from(f"b{k}", spec)
        found = best_insertion(worker, jobs, order, 0, RULES, max_late)
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


@settings(max_examples=600, deadline=None)
@given(scenarios(), st.one_of(st.just(0), st.integers(0, 14 * 60)), st.sampled_from([0, 0, 2, 3]),
       st.sampled_from([0, 0, 120, 300]), st.sampled_from([0, 0, 1800, 3 * HOUR]))
def test_insert_many_agrees_with_the_reference(scenario, now_min, max_jobs, max_minutes,
                                               max_late):
    worker, jobs = random_day(scenario["shifts"], scenario["booked"], max_jobs, max_minutes,
                              scenario["breaks"], max_late)
    order = order_from("new", scenario["spec"])
    now = at(now_min / 60)
    expected = best_insertion(worker, jobs, order, now, RULES, max_late)
    got = insert(worker, jobs, order, now, max_late)
    event(f"{len(jobs)} jobs, {len(worker.breaks)} breaks: "
          + (expected.name if isinstance(expected, Refusal)
             else "late" if expected.late_s else "placed"))
    if isinstance(expected, Refusal):
        assert got is expected
    else:
        assert isinstance(got, Insertion)
        assert (got.position, got.start, got.travel_s, got.added_travel_s, got.late_s) == (
            expected.position, expected.start, expected.travel_s, expected.added_travel_s,
            expected.late_s)
        assert got.day_minutes_before == expected.day_minutes_before
        assert abs(got.added_travel_km - expected.added_travel_km) < 1e-9


def test_service_days_of_arrays_match_the_day_of_each_second():
    """The one-UTC-day table and the general path agree with :meth:`ServiceCalendar.day`,
    across daylight-saving changes too."""
    from matcher.service_day import ServiceCalendar
    rng = np.random.default_rng(3)
    for timezone in ("Asia/Shanghai", "Europe/Berlin", "America/New_York"):
        calendar = ServiceCalendar(timezone)
        for span in (3600, 86_400, 400_000):
            ts = 1_711_800_000 + rng.integers(0, span, size=(4, 6))
            assert calendar.days(ts).tolist() == [[calendar.day(int(t)) for t in row]
                                                  for row in ts]
        around_change = 1_711_846_800 + np.arange(-7200, 7200, 600)  # Berlin, 2024-03-31
        assert calendar.days(around_change).tolist() == [calendar.day(int(t))
                                                         for t in around_change]


def test_a_gap_after_a_later_days_job_does_not_open_an_earlier_slot():
    """A plan with jobs on two days: the gap after the later day's job is not a way into the
    earlier day (the simulator found such jobs overlapping the earlier day's job)."""
    day3 = 2 * 24 * HOUR
    worker = make_worker(shifts=(Shift(at(8), at(18)), Shift(at(8) + day3, at(18) + day3)))
    jobs = [Job("a", "c0", "cleaning", CENTRE[0], CENTRE[1], at(9), at(12)),
            Job("b", "c0", "cleaning", CENTRE[0], CENTRE[1], at(9) + day3, at(12) + day3)]
    clash = make_order(earliest_start=at(9), latest_start=at(10), duration=HOUR)
    assert isinstance(insert(worker, jobs, clash), Refusal)
    later = insert(worker, jobs, make_order(earliest_start=at(13), latest_start=at(14),
                                            duration=HOUR))
    assert later.position == 1 and later.start >= at(12)


def every_pair(days, breaks):
    """Workers with the random ``days`` (their breaks only with ``breaks``), an order per
    day, and the block of every order with every worker: (workers, plans, orders, rows,
    order of each pair, OrderColumns, Days)."""
    workers, plans = [], {}
    for i, scenario in enumerate(days):
        worker, jobs = random_day(scenario["shifts"], scenario["booked"], 0, 0,
                                  scenario["breaks"] if breaks else ())
        workers.append(dataclasses.replace(worker, worker_id=f"w{i}"))
        plans[f"w{i}"] = jobs
    orders = [order_from(f"n{i}", s["spec"]) for i, s in enumerate(days)]
    table = WorkerTable(workers)
    rows = np.array([r for _ in orders for r in range(len(workers))])
    order_of = np.array([o for o in range(len(orders)) for _ in workers])
    columns = JobColumns(table, plans).take(rows)
    order = OrderColumns.of(*(np.array([getattr(orders[o], name) for o in order_of]) for name in
                              ("lat", "lon", "earliest_start", "latest_start", "duration")),
                            np.zeros(len(rows), dtype=np.int64))
    day_plans = Days(table.lat[rows], table.lon[rows], table.shifts[rows], table.max_jobs[rows],
                     table.max_minutes(RULES.default_max_minutes)[rows], columns["start"],
                     columns["end"], columns["lat"], columns["lon"], table.breaks[rows])
    return workers, plans, orders, rows, order_of, order, day_plans


@settings(max_examples=150, deadline=None)
@given(st.lists(scenarios(), min_size=2, max_size=4), st.integers(0, 14 * 60), st.booleans())
def test_a_block_of_pairs_prices_each_pair_as_alone(days, now_min, breaks):
    """A block of pairs (workers with more shifts, jobs and breaks than others pad the
    block's columns) prices every pair as it is priced alone, with and without breaks."""
    workers, plans, orders, rows, order_of, order, day_plans = every_pair(days, breaks)
    pairs = (order, day_plans, at(now_min / 60), RULES)
    block = insert_many(*pairs)
    for i, (r, o) in enumerate(zip(rows.tolist(), order_of.tolist())):
        alone = insert(workers[r], plans[workers[r].worker_id], orders[o], at(now_min / 60))
        if isinstance(alone, Refusal):
            assert REFUSAL_CODES[block.code[i]] is alone
        else:
            assert block.code[i] == 0
            assert (block.position[i], block.start[i], block.travel_s[i], block.travel_km[i],
                    block.added_s[i], block.added_km[i], block.day_minutes[i],
                    block.late_s[i]) == (
                alone.position, alone.start, alone.travel_s, alone.travel_km,
                alone.added_travel_s, alone.added_travel_km, alone.day_minutes_before,
                alone.late_s)


@settings(max_examples=150, deadline=None)
@given(st.lists(scenarios(), min_size=2, max_size=4), st.integers(0, 14 * 60), st.booleans(),
       st.integers(0, 10 ** 6))
def test_pairs_given_as_rows_price_as_gathered_days(days, now_min, breaks, seed):
    """``insert_rows`` (the pairs name their workers' table rows, in any order and with
    repeats) gives the slots ``insert_many`` gives for the same pairs' days, to the bit."""
    workers, plans, orders, _, _, _, _ = every_pair(days, breaks)
    rng = np.random.default_rng(seed)
    table = WorkerTable(workers)
    rows = rng.integers(0, len(workers), size=rng.integers(1, 3 * len(workers)))
    picked = [orders[o] for o in rng.integers(0, len(orders), size=len(rows))]
    order = OrderColumns.of(*(np.array([getattr(o, name) for o in picked]) for name in
                              ("lat", "lon", "earliest_start", "latest_start", "duration")),
                            rng.integers(0, 2, size=len(rows)) * 1800)
    everyone = Workers(table.lat, table.lon, table.shifts, table.max_jobs,
                       table.max_minutes(RULES.default_max_minutes), table.breaks,
                       shift_days(table.shifts, RULES.calendar))
    jobs = JobColumns(table, plans).take(rows)
    now = at(now_min / 60)
    by_rows = insert_rows(order, rows, everyone, jobs, now, RULES)
    gathered = insert_many(order, everyone.days(rows, jobs), now, RULES)
    assert by_rows.code.tolist() == gathered.code.tolist()
    feasible = gathered.code == 0
    assert by_rows.ints[:, feasible].tolist() == gathered.ints[:, feasible].tolist()
    assert by_rows.floats[:, feasible].tolist() == gathered.floats[:, feasible].tolist()


def test_pairs_given_as_rows_take_the_gathered_path_for_a_matrix_or_a_large_block():
    """With a travel matrix, or a block too large to price every leg of, ``insert_rows``
    prices the gathered days (the matrix's own legs; only the needed legs)."""
    import matcher.insertion as insertion
    from geo.matrix import PointMatrix
    worker = make_worker()
    table = WorkerTable([worker])
    plan = [job("a", 9, 10, dlat=0.02), job("b", 13, 14, dlat=0.03)]
    everyone = Workers(table.lat, table.lon, table.shifts, table.max_jobs,
                       table.max_minutes(600), table.breaks,
                       shift_days(table.shifts, RULES.calendar))
    order = make_order(earliest_start=at(10), latest_start=at(12), duration=HOUR)
    points = [(worker.home_lat, worker.home_lon), (order.lat, order.lon)] + \
        [(j.lat, j.lon) for j in plan]
    seconds = np.full((len(points), len(points)), 600)
    np.fill_diagonal(seconds, 0)
    matrix = PointMatrix([p[0] for p in points], [p[1] for p in points], seconds,
                         seconds / 100.0)
    for rules, pairs in ((dataclasses.replace(RULES, matrix=matrix), 1),
                         (RULES, insertion._DENSE_GRID // len(plan) + 1)):
        rows = np.zeros(pairs, dtype=np.int64)
        columns = OrderColumns.of(*(np.full(pairs, getattr(order, name)) for name in
                                    ("lat", "lon", "earliest_start", "latest_start",
                                     "duration")), np.zeros(pairs, dtype=np.int64))
        jobs = JobColumns(table, {worker.worker_id: plan}).take(rows)
        by_rows = insert_rows(columns, rows, everyone, jobs, at(7), rules)
        gathered = insert_many(columns, everyone.days(rows, jobs), at(7), rules)
        assert set(by_rows.code.tolist()) == {0}
        assert by_rows.ints.tolist() == gathered.ints.tolist()
        assert by_rows.floats.tolist() == gathered.floats.tolist()
        if rules.matrix is not None:  # the leg from the stop before, as the matrix has it
            assert by_rows.travel_s.tolist() == [600]


def test_warm_up_compiles_the_kernel_for_the_types_a_real_block_passes():
    """The server loads the kernel before serving: a real pair after ``warm_up`` needs no
    other compiled version (one would be compiled in the first order's answer)."""
    from geo import legs
    from matcher.insertion import warm_up
    from matcher.pricing import leg_grid, price_pairs, rooms
    kernels = (price_pairs, rooms, leg_grid, legs.leg_arcs, legs.road, legs.legs)
    warm_up(RULES)
    compiled = [list(kernel.signatures) for kernel in kernels]
    insert(make_worker(), [job("a", 9, 10)], make_order(), now=at(7))
    assert [list(kernel.signatures) for kernel in kernels] == compiled


@settings(max_examples=100, deadline=None)
@given(st.lists(scenarios(), min_size=2, max_size=4), st.integers(0, 14 * 60), st.booleans())
def test_legs_priced_only_where_needed_are_those_of_the_whole_grid(days, now_min, breaks):
    """A large block whose legs are mostly not needed (busy days, plans of unequal length)
    prices only the needed ones: the same values there as pricing the whole grid, and the
    same outcome for every pair."""
    import matcher.insertion as insertion
    _, _, _, rows, _, order, day_plans = every_pair(days, breaks)
    need = (day_plans.job_start < insertion.NO_JOB) & (np.arange(len(rows)) % 2 == 0)[:, None]
    grid = insertion._legs(order, day_plans, np.ones_like(need), RULES)
    needed = insertion._needed_legs(order, day_plans, need, RULES)
    assert grid[0].tolist() == needed[0].tolist() and grid[1].tolist() == needed[1].tolist()
    job_job = need[:, 1:] & need[:, :-1]
    for i, (full, sparse) in enumerate(zip(grid[2:], needed[2:])):
        cells = job_job if i >= 6 else need
        assert full[cells].tolist() == sparse[cells].tolist()
    now = at(now_min / 60)
    dense = insert_many(order, day_plans, now, RULES)
    sparse_rule, insertion._sparse = insertion._sparse, lambda need: True
    try:
        priced = insert_many(order, day_plans, now, RULES)
    finally:
        insertion._sparse = sparse_rule
    for name in dense.FIELDS:
        assert getattr(dense, name)[dense.code == 0].tolist() == \
            getattr(priced, name)[dense.code == 0].tolist(), name
    assert dense.code.tolist() == priced.code.tolist()


@settings(max_examples=100, deadline=None)
@given(st.lists(scenarios(), min_size=2, max_size=4), st.integers(0, 14 * 60), st.booleans())
def test_pricing_never_reads_a_padding_jobs_legs(days, now_min, breaks):
    """The legs of a padding job (and from the last real job to one) are never read: filled
    with garbage (huge seconds, NaN km) they change no slot. Both the instant path
    (``read_legs`` leaves them out) and the sparse one (``_needed_legs``) rest on this."""
    import matcher.insertion as insertion
    _, _, _, _, _, order, day_plans = every_pair(days, breaks)
    real = day_plans.job_start < insertion.NO_JOB
    now = at(now_min / 60)
    clean = insert_many(order, day_plans, now, RULES)
    priced = insertion._legs

    def garbled(order, days, need, rules):
        legs = [leg.copy() for leg in priced(order, days, need, rules)]
        for i, leg in enumerate(legs[2:]):
            unread = ~(real[:, 1:] & real[:, :-1]) if i >= 6 else ~real
            leg[unread] = 10 ** 12 + 7 if leg.dtype == np.int64 else np.nan
        return legs

    insertion._legs = garbled
    try:
        dirty = insert_many(order, day_plans, now, RULES)
    finally:
        insertion._legs = priced
    assert dirty.code.tolist() == clean.code.tolist()
    assert dirty.ints.tolist() == clean.ints.tolist()
    assert np.array_equal(dirty.floats, clean.floats, equal_nan=True)


def test_the_legs_pricing_reads_sit_where_the_whole_grid_has_them():
    """``read_legs`` gives every leg of ``leg_grid`` that touches no padding job, at its place
    in the grid, with the grid's very points; the rest it leaves out."""
    from matcher.pricing import NO_JOB, leg_grid, read_legs
    rng = np.random.default_rng(5)
    for _ in range(300):
        n_pairs, n_jobs = int(rng.integers(1, 6)), int(rng.integers(0, 7))
        counts = rng.integers(0, n_jobs + 1, size=n_pairs)
        job_start = np.full((n_pairs, n_jobs), NO_JOB, dtype=np.int64)
        for p, count in enumerate(counts):
            job_start[p, :count] = np.sort(rng.integers(0, 10 ** 6, count))
        points = (rng.uniform(30, 32, n_pairs), rng.uniform(120, 122, n_pairs),
                  rng.uniform(30, 32, (n_pairs, n_jobs)), rng.uniform(120, 122, (n_pairs, n_jobs)))
        order = rng.uniform(30, 32, n_pairs), rng.uniform(120, 122, n_pairs)
        grid = leg_grid(*points, job_start, *order)
        *read, place = read_legs(*points, job_start, *order)
        assert len(set(place.tolist())) == len(place)
        for whole, some in zip(grid, read):
            assert whole[place].tolist() == some.tolist()
        cells = n_pairs * n_jobs
        touching_padding = [at for at in range(len(grid[0])) if at >= n_pairs and (
            divmod((at - n_pairs) % cells, n_jobs)[1] >= counts[divmod((at - n_pairs) % cells,
                                                                       n_jobs)[0]]
            if at < n_pairs + 2 * cells else
            divmod(at - n_pairs - 2 * cells, n_jobs - 1)[1] + 1
            >= counts[divmod(at - n_pairs - 2 * cells, n_jobs - 1)[0]])]
        assert sorted(place.tolist()) == sorted(set(range(len(grid[0]))) - set(touching_padding))
