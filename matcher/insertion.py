"""Cheapest insertion of an order into one worker's day.

A worker's day is a list of jobs sorted by start; every job lies inside one shift, and each shift
starts from the worker's home at the shift's start. Planned starts of existing jobs never move:
the new job goes into a gap where it starts inside its window, travel from the previous stop (or
home) fits before it, travel to the next stop fits after it, it ends inside the shift, and the
daily job and working-minute limits still hold. Among the feasible gaps the one adding the least
travel wins (ties: the earlier start), and the job starts as early as it can.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from geo import TravelModel, haversine_km
from matcher.model import Job, Order, Worker
from matcher.service_day import ServiceCalendar


class Refusal(enum.Enum):
    """Why no gap of a worker's day takes the order; names match ExplainOrder's constraints."""

    SHIFT = "shift"
    DAILY_LIMIT = "daily_limit"
    DAY_PLAN = "day_plan"


# Codes of :func:`first_job_insertion`'s outcome array: 0 = feasible, then the refusals.
REFUSAL_CODES = (None, Refusal.SHIFT, Refusal.DAILY_LIMIT, Refusal.DAY_PLAN)


@dataclass(frozen=True, slots=True)
class Insertion:
    """Where and when an order fits a worker's day, and what travel it costs."""

    position: int          # index in the worker's job list the new job takes
    start: int
    end: int
    travel_s: int          # leg from the previous stop (or home)
    travel_km: float
    added_travel_s: int    # travel the day gains by the insertion
    added_travel_km: float
    day_minutes_before: float  # working minutes already planned on the job's service day


@dataclass(frozen=True, slots=True)
class DayRules:
    """What insertion needs besides the worker and the order."""

    travel: TravelModel
    calendar: ServiceCalendar
    default_max_minutes: int

    def leg(self, lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[int, float]:
        """Travel seconds and road km between two points."""
        km = haversine_km(float(lat1), float(lon1), float(lat2), float(lon2))
        road_km = km * self.travel.detour_factor
        return self.travel.seconds_for_km(road_km), road_km

    def max_minutes(self, worker: Worker) -> int:
        return worker.max_work_minutes_per_day or self.default_max_minutes


def best_insertion(worker: Worker, jobs: list[Job], order: Order, now: int,
                   rules: DayRules) -> Insertion | Refusal:
    """The cheapest feasible insertion of ``order`` into ``jobs`` (sorted by start), or why not."""
    best: Insertion | None = None
    covered = limited = False
    for shift in worker.shifts:
        lo = max(order.earliest_start, shift.start, now)
        if lo > order.latest_start or lo + order.duration > shift.end:
            continue
        covered = True
        first = next((i for i, j in enumerate(jobs) if j.start >= shift.start), len(jobs))
        last = next((i for i, j in enumerate(jobs) if j.start >= shift.end), len(jobs))
        for position in range(first, last + 1):
            found = _try_gap(worker, jobs, order, now, rules, shift.start, shift.end,
                             position, first, last, lo)
            if found is Refusal.DAILY_LIMIT:
                limited = True
            elif isinstance(found, Insertion) and (
                    best is None
                    or (found.added_travel_s, found.start) < (best.added_travel_s, best.start)):
                best = found
    if best is not None:
        return best
    if not covered:
        return Refusal.SHIFT
    return Refusal.DAILY_LIMIT if limited else Refusal.DAY_PLAN


def _try_gap(worker: Worker, jobs: list[Job], order: Order, now: int, rules: DayRules,
             shift_start: int, shift_end: int, position: int, first: int, last: int,
             lo: int) -> Insertion | Refusal | None:
    if position == first:
        prev_lat, prev_lon, free_at = worker.home_lat, worker.home_lon, max(shift_start, now)
    else:
        prev = jobs[position - 1]
        prev_lat, prev_lon, free_at = prev.lat, prev.lon, max(prev.end, now)
    if free_at > order.latest_start:
        return None
    travel_in, km_in = rules.leg(prev_lat, prev_lon, order.lat, order.lon)
    start = max(lo, free_at + travel_in)
    end = start + order.duration
    if start > order.latest_start or end > shift_end:
        return None
    travel_out, km_out, travel_skip, km_skip = 0, 0.0, 0, 0.0
    if position < last:
        nxt = jobs[position]
        travel_out, km_out = rules.leg(order.lat, order.lon, nxt.lat, nxt.lon)
        if end + travel_out > nxt.start:
            return None
        travel_skip, km_skip = rules.leg(prev_lat, prev_lon, nxt.lat, nxt.lon)
    day_minutes = _day_load(jobs, start, worker, order, rules)
    if day_minutes is None:
        return Refusal.DAILY_LIMIT
    return Insertion(position, start, end, travel_in, km_in,
                     travel_in + travel_out - travel_skip, km_in + km_out - km_skip, day_minutes)


def _day_load(jobs: list[Job], start: int, worker: Worker, order: Order,
              rules: DayRules) -> float | None:
    """Minutes already planned on the job's service day, or None if a daily limit would break."""
    day = rules.calendar.day(start)
    same_day = [j for j in jobs if rules.calendar.day(j.start) == day]
    if worker.max_jobs_per_day and len(same_day) + 1 > worker.max_jobs_per_day:
        return None
    minutes = sum(j.end - j.start for j in same_day) / 60.0
    if minutes + order.duration / 60.0 > rules.max_minutes(worker):
        return None
    return minutes


@dataclass(frozen=True, slots=True)
class FirstJobs:
    """Vectorised insertion outcome over pairs whose worker has an empty day."""

    code: np.ndarray      # int8 index into REFUSAL_CODES (0 = feasible)
    start: np.ndarray     # int64 planned start where feasible
    travel_s: np.ndarray  # int64 leg from home
    travel_km: np.ndarray


def first_job_insertion(shifts: np.ndarray, home_km: np.ndarray, earliest: np.ndarray,
                        latest: np.ndarray, duration: np.ndarray, max_minutes: np.ndarray,
                        now: int, rules: DayRules) -> FirstJobs:
    """:func:`best_insertion` for workers with no job yet, over many pairs at once.

    ``shifts`` is (..., S, 2) per pair (padding shifts are (0, 0)), ``home_km`` the great-circle
    km from each worker's home to its order; order columns broadcast against the pairs. With an
    empty day the only gap of a shift starts at home, so the added travel is the leg from home
    for every shift and the earliest feasible shift wins.
    """
    travel_km = home_km * rules.travel.detour_factor
    travel_s = np.asarray(rules.travel.seconds_for_km(travel_km), dtype=np.int64)
    shift_start, shift_end = shifts[..., 0], shifts[..., 1]
    lo = np.maximum(np.maximum(shift_start, now), earliest[..., None])
    covered = (lo <= latest[..., None]) & (lo + duration[..., None] <= shift_end)
    start = np.maximum(lo, np.maximum(shift_start, now) + travel_s[..., None])
    fits = covered & (start <= latest[..., None]) & (start + duration[..., None] <= shift_end)
    first_fit = np.argmax(fits, axis=-1)
    within_limit = duration <= max_minutes * 60
    code = np.where(~covered.any(axis=-1), 1,
                    np.where(~fits.any(axis=-1), 3, np.where(within_limit, 0, 2)))
    chosen = np.take_along_axis(start, first_fit[..., None], axis=-1)[..., 0]
    return FirstJobs(code.astype(np.int8), chosen, travel_s, travel_km)
