"""Cheapest insertion of an order into workers' days, for many (order, worker) pairs at once.

A worker's plan is a list of jobs sorted by start; every job lies inside one shift. The first job
of a service day is reached from the worker's home, leaving at its shift's start; every later job
of that day is reached from the job before it, whichever shift that one was in (a lunch break
between two shifts does not teleport the worker home). Planned starts of existing jobs never
move: the new job goes into a gap where it starts inside its window and not before ``now``,
travel from the previous stop fits before it, travel to the next job of the day fits after it,
it ends inside its shift, and the daily job and working-minute limits still hold on its day.
Among the feasible gaps the one adding the least travel wins (ties: the earlier start, then the
earlier shift and position), and the job starts as early as it can there.

Every pair is priced over all (shift, gap) combinations in numpy; ``tests/reference_insertion.py``
holds the same rules as a plain loop, and the tests check that both agree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from geo import TravelModel, haversine_km
from geo.matrix import PointMatrix
from matcher.service_day import ServiceCalendar


class Refusal(enum.Enum):
    """Why no gap of a worker's day takes the order; names match ExplainOrder's constraints."""

    SHIFT = "shift"
    DAILY_LIMIT = "daily_limit"
    DAY_PLAN = "day_plan"


# Codes of :class:`Slots` ``code``: 0 = feasible, then the refusals.
REFUSAL_CODES = (None, Refusal.SHIFT, Refusal.DAILY_LIMIT, Refusal.DAY_PLAN)
SHIFT, DAILY_LIMIT, DAY_PLAN = 1, 2, 3
# Pads the job arrays of days with fewer jobs; sorts after every real start.
NO_JOB = np.iinfo(np.int64).max // 4


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
    matrix: PointMatrix | None = None  # when set, travel comes from it instead of ``travel``

    def leg(self, lat1, lon1, lat2, lon2):
        """Travel seconds and road km between points (scalars or arrays)."""
        if self.matrix is not None:
            return self.matrix.leg(lat1, lon1, lat2, lon2)
        road_km = haversine_km(lat1, lon1, lat2, lon2) * self.travel.detour_factor
        return self.travel.seconds_for_km(road_km), road_km


@dataclass(frozen=True, slots=True)
class Days:
    """Per pair: the worker's home, shifts (P, S, 2; padding (0, 0)), limits and jobs (P, J;
    padding starts at NO_JOB), and the order's columns (P,)."""

    home_lat: np.ndarray
    home_lon: np.ndarray
    shifts: np.ndarray
    max_jobs: np.ndarray     # 0 = no limit
    max_minutes: np.ndarray
    job_start: np.ndarray
    job_end: np.ndarray
    job_lat: np.ndarray
    job_lon: np.ndarray


@dataclass(frozen=True, slots=True)
class OrderColumns:
    lat: np.ndarray
    lon: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    duration: np.ndarray


@dataclass(frozen=True, slots=True)
class Slots:
    """The best insertion per pair (P,); ``code`` 0 where feasible, else a refusal code."""

    code: np.ndarray
    position: np.ndarray
    start: np.ndarray
    travel_s: np.ndarray
    travel_km: np.ndarray
    added_s: np.ndarray
    added_km: np.ndarray
    day_minutes: np.ndarray


def insert_many(order: OrderColumns, days: Days, now: int, rules: DayRules) -> Slots:
    """The cheapest feasible insertion of each pair's order into its worker's day."""
    if len(order.lat) == 0:
        return Slots(*(np.zeros(0, dtype=t) for t in (np.int8, np.int64, np.int64, np.int64,
                                                      float, np.int64, float, float)))
    g = _Gaps(order, days, now, rules)
    fits = g.fits()
    ok = fits & g.within_limits(fits)
    # lexicographic (added travel, start); argmin keeps the first (shift, gap) among ties
    key = np.where(ok, g.added_s * (1 << 33) + g.start, np.iinfo(np.int64).max)
    best = np.argmin(key.reshape(len(key), -1), axis=1)
    code = np.where(~g.covered.any(axis=1), SHIFT,
                    np.where(~fits.any(axis=(1, 2)), DAY_PLAN,
                             np.where(~ok.any(axis=(1, 2)), DAILY_LIMIT, 0)))

    def pick(values: np.ndarray) -> np.ndarray:
        return values.reshape(len(values), -1)[np.arange(len(values)), best]

    q = best % g.start.shape[2]
    return Slots(code.astype(np.int8), q, pick(g.start), pick(g.travel_in), pick(g.km_in),
                 pick(g.added_s), pick(g.added_km), pick(g.day_seconds) / 60.0)


class _Gaps:
    """Every (pair, shift, gap) combination: gap q sits before job q (after job q - 1)."""

    def __init__(self, order: OrderColumns, days: Days, now: int, rules: DayRules) -> None:
        self.order, self.days, self.rules = order, days, rules
        n_jobs = days.job_start.shape[1]
        q = np.arange(n_jobs + 1)
        prev, nxt = np.clip(q - 1, 0, n_jobs - 1), np.clip(q, 0, n_jobs - 1)
        start_s, end_s = days.shifts[..., 0], days.shifts[..., 1]
        self.real = days.job_start < NO_JOB
        calendar = rules.calendar
        self.job_day = np.where(self.real, calendar.days(np.where(self.real, days.job_start, 0)),
                                -1)
        shift_day = calendar.days(start_s)[..., None]
        count = self.real.sum(axis=1)[:, None, None]
        self.valid = q <= count
        # the previous stop is job q-1 when it is on the shift's day, else home
        at_first = (q == 0) | (self.job_day[:, prev][:, None, :] != shift_day)
        self.has_next = q < count
        linked_next = self.has_next & (self.job_day[:, nxt][:, None, :] == shift_day)
        # legs: home -> order, job k -> order, home -> job k, job k-1 -> job k
        t_home, k_home = rules.leg(days.home_lat, days.home_lon, order.lat, order.lon)
        t_job, k_job = rules.leg(days.job_lat, days.job_lon, order.lat[:, None],
                                 order.lon[:, None])
        t_hj, k_hj = rules.leg(days.home_lat[:, None], days.home_lon[:, None], days.job_lat,
                               days.job_lon)
        t_jj, k_jj = rules.leg(np.roll(days.job_lat, 1, axis=1),
                               np.roll(days.job_lon, 1, axis=1), days.job_lat, days.job_lon)
        depart = np.maximum(start_s, now)[..., None]
        self.free = np.where(at_first, depart, np.maximum(days.job_end[:, prev], now)[:, None])
        self.travel_in = np.where(at_first, t_home[:, None, None], t_job[:, prev][:, None])
        self.km_in = np.where(at_first, k_home[:, None, None], k_job[:, prev][:, None])
        out_s = np.where(linked_next, t_job[:, nxt][:, None], 0)
        out_km = np.where(linked_next, k_job[:, nxt][:, None], 0.0)
        skip_s = np.where(linked_next, np.where(at_first, t_hj[:, nxt][:, None],
                                                t_jj[:, nxt][:, None]), 0)
        skip_km = np.where(linked_next, np.where(at_first, k_hj[:, nxt][:, None],
                                                 k_jj[:, nxt][:, None]), 0.0)
        self.out_s, self.next_start = out_s, days.job_start[:, nxt][:, None]
        self.added_s = self.travel_in + out_s - skip_s
        self.added_km = self.km_in + out_km - skip_km
        lo = np.maximum(np.maximum(start_s, now), order.earliest[:, None])
        self.covered = (lo <= order.latest[:, None]) & (lo + order.duration[:, None] <= end_s)
        self.start = np.maximum(lo[..., None], self.free + self.travel_in)
        self.end = self.start + order.duration[:, None, None]
        self.shift_end = end_s[..., None]

    def fits(self) -> np.ndarray:
        """Gaps where the job fits its window, its shift and the travel around it."""
        return (self.valid & self.covered[..., None]
                & (self.start <= self.order.latest[:, None, None])
                & (self.end <= self.shift_end)
                & (~self.has_next | (self.end + self.out_s <= self.next_start)))

    def within_limits(self, fits: np.ndarray) -> np.ndarray:
        """Gaps whose service day still has room for one more job of this length (worked out
        where the job ``fits``; elsewhere no job shares the day)."""
        days, calendar, real, job_day = self.days, self.rules.calendar, self.real, self.job_day
        start_day = np.full(self.start.shape, -2, dtype=np.int64)
        start_day[fits] = calendar.days(self.start[fits])
        same = job_day[:, None, None, :] == start_day[..., None]
        lengths = np.where(real, days.job_end - days.job_start, 0)
        self.day_seconds = (same * lengths[:, None, None, :]).sum(axis=-1)
        count = same.sum(axis=-1)
        max_jobs = days.max_jobs[:, None, None]
        return (((max_jobs == 0) | (count + 1 <= max_jobs))
                & (self.day_seconds + self.order.duration[:, None, None]
                   <= days.max_minutes[:, None, None] * 60))
