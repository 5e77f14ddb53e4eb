"""Cheapest insertion of an order into workers' days, for many (order, worker) pairs at once.

A worker's plan is a list of jobs sorted by start; every job lies inside one shift. The first job
of a service day is reached from the worker's home, leaving at the start of the day's first shift
(on duty from then, the worker may travel to a job of a later shift; so cancelling a job never
leaves the next one unreachable); every later job
of that day is reached from the job before it, whichever shift that one was in (a lunch break
between two shifts does not teleport the worker home). Planned starts of existing jobs never
move: the new job goes into a gap where it starts inside its window and not before ``now``,
travel from the previous stop fits before it, travel to the next job of the day fits after it,
it ends inside its shift, the daily job and working-minute limits still hold on its day, and
every break still fits (below). In each gap the job starts as early as it can, or right after
a break when the break must come first (below). Among the feasible candidates the one with the
least lateness wins (so an on-time start always beats a late one), then the one adding the
least travel, then the earliest start (ties: the earlier shift and position).

A zero-length job is a stop, not work: where the worker reported being at that moment (see
:mod:`matcher.engine`); trips lead from it like from a job, and it counts toward no daily limit.

Soft lateness: ``OrderColumns.max_late`` (seconds, from ``[lateness.<service_type>]``) lets a job
start up to ``latest + max_late``; that is the hard limit, and ``late_s = max(0, start -
latest)`` is reported so the score can charge it. Hard-window orders have ``max_late = 0``.

Breaks: a break is ``L`` (its duration) seconds entirely inside its window ``[ws, we]`` during
which the worker neither works nor travels; travel between two jobs may be interrupted by it
(lunch on the way). The worker's jobs, sorted by start, leave gaps: before the first job,
between consecutive jobs, after the last. A gap holds a break when:

- between jobs i and j of one service day (t = travel i -> j):
  ``max(end_i, ws) + L <= min(start_j, we)`` and ``start_j - end_i >= t + L``;
- before a job j that is the first of its service day (reached from home, leaving no earlier
  than S = the start of the first shift of j's day; t = travel home -> j), with ``b = max(ws, end_i)`` for the
  job i before it on an earlier day (``b = ws`` before the worker's first job):
  ``b + L <= min(start_j, we)`` and ``start_j - S >= t + max(0, min(L, b + L - S))`` (the part
  of the break after S comes out of the time for the trip); a job outside every shift counts
  as left just in time (S = start_j - t);
- after the worker's last job k: ``max(end_k, ws) + L <= we``;
- a worker without jobs holds every break (its window is long enough by validation).

The gap between one day's last job and the next day's first job is both "after the last job"
and "before the first job"; it needs both conditions. Read day by day, that is the same rule
for every break whose window opens after the previous day's last job ends and closes its break
before the next day's first trip; it is stricter only for windows reaching across a night,
where the day-by-day reading would let a break overlap a job of the neighbouring day.

Breaks can compete: two breaks in one gap take their time out of the same trip. So the rule is
conservative: a gap holds a break only together with every break that fits its bounds, i.e.
the parts they take out of the trip add up to at most ``start_j - end_i - t`` (between jobs)
or ``start_j - S - t`` (first job of a day). A plan is valid when every break is held by some
gap (breaks may share a gap). Inserting a job at a start in gap q splits gap q in two; the
insertion is refused (``break``) unless every break some gap of the current plan
holds is still held by another gap or by one of the two halves. A break that no gap of the
current plan holds (only when a worker's breaks change under jobs that had already started,
which stay) does not block further jobs.

Besides its earliest start, each gap offers one start per break k: the earliest with the
breaks up to k that can fit after the stop before (each as early as its window allows) taken
first, their parts after the departure added to the trip. So a job free at 11:05 but with
lunch due by 12:30 starts after lunch instead of being refused. Each start is checked by every
rule above; starts other than these are not tried.

The legs are priced here, in numpy, every leg a rule may read in one call; then
:func:`matcher.pricing.price_pairs`, compiled, walks each pair's (shift, gap, start) candidates
in that order with these rules. ``tests/reference_insertion.py`` holds the same rules as a plain
Python loop, and the tests check that both agree.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

import numpy as np

from geo import TravelModel, haversine_km
from geo.matrix import PointMatrix
from matcher.pricing import (BREAK, DAILY_LIMIT, DAY_PLAN, NO_JOB, SHIFT, leg_grid, price_pairs,
                             price_rows, rooms, row_leg_arcs)
from matcher.service_day import ServiceCalendar


class Refusal(enum.Enum):
    """Why no gap of a worker's day takes the order; names match ExplainOrder's constraints."""

    SHIFT = "shift"
    DAILY_LIMIT = "daily_limit"
    DAY_PLAN = "day_plan"
    BREAK = "break"


# Codes of :class:`Slots` ``code``: 0 = feasible, then the refusals (SHIFT = 1, ...).
REFUSAL_CODES = (None, Refusal.SHIFT, Refusal.DAILY_LIMIT, Refusal.DAY_PLAN, Refusal.BREAK)
assert [REFUSAL_CODES.index(r) for r in Refusal] == [SHIFT, DAILY_LIMIT, DAY_PLAN, BREAK]


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
    late_s: int = 0        # seconds after the order's latest start (soft windows only)


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
        if all(type(x) is np.ndarray and x.ndim == 1 for x in (lat1, lon1, lat2, lon2)):
            return self.travel.legs(lat1, lon1, lat2, lon2)  # a block's legs: compiled
        road_km = haversine_km(lat1, lon1, lat2, lon2) * self.travel.detour_factor
        return self.travel.seconds_for_km(road_km), road_km


@dataclass(frozen=True, slots=True)
class Days:
    """Per pair: the worker's home, shifts (P, S, 2; padding (0, 0)), limits, jobs (P, J;
    padding starts at NO_JOB) and breaks (P, B, 3: window start, window end, duration; padding
    has duration 0)."""

    home_lat: np.ndarray
    home_lon: np.ndarray
    shifts: np.ndarray
    max_jobs: np.ndarray     # 0 = no limit
    max_minutes: np.ndarray
    job_start: np.ndarray
    job_end: np.ndarray
    job_lat: np.ndarray
    job_lon: np.ndarray
    breaks: np.ndarray
    # (P, S) per shift: its service day and the start of its day's first shift, as
    # :func:`shift_days` gives them (what the shifts alone decide: a caller with a worker
    # table computes them once per table; None: worked out here)
    shift_days: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(slots=True)  # (not frozen: made per order, and frozen, __init__ costs 3x)
class OrderColumns:
    """Per pair (P,): the order's place (``lat``, ``lon``: views of ``floats``), start window
    and duration, and ``max_late`` seconds a start may come after ``latest`` (0 for a hard
    window): views of ``ints``, so that joining or taking pairs is one call per kind."""

    floats: np.ndarray   # (2, P): lat, lon
    ints: np.ndarray     # (4, P): earliest, latest, duration, max_late

    lat = property(lambda self: self.floats[0])
    lon = property(lambda self: self.floats[1])
    earliest = property(lambda self: self.ints[0])
    latest = property(lambda self: self.ints[1])
    duration = property(lambda self: self.ints[2])
    max_late = property(lambda self: self.ints[3])

    @classmethod
    def of(cls, lat, lon, earliest, latest, duration, max_late) -> "OrderColumns":
        return cls(np.array([lat, lon], dtype=np.float64),
                   np.array([earliest, latest, duration, max_late], dtype=np.int64))

    def joined(self, *more: "OrderColumns") -> "OrderColumns":
        """These pairs, then those of ``more``."""
        if not more:
            return self
        return OrderColumns(np.concatenate([self.floats, *(m.floats for m in more)], axis=1),
                            np.concatenate([self.ints, *(m.ints for m in more)], axis=1))

    def taken(self, mask: np.ndarray) -> "OrderColumns":
        """The pairs ``mask`` selects."""
        return OrderColumns(self.floats.compress(mask, axis=1), self.ints.compress(mask, axis=1))


# The int64 and float64 fields of Slots, each kind packed in one array in this order (the
# candidate search stores them so, and takes them whole); FIELDS: every field, in the order
# the pricing kernel writes them.
SLOT_INTS = ("start", "travel_s", "added_s", "position", "late_s")
SLOT_FLOATS = ("travel_km", "added_km", "day_minutes")


@dataclass(slots=True)  # (not frozen: made per order, and frozen, __init__ costs 3x)
class Slots:
    """The best insertion per pair (P,); ``code`` 0 where feasible, else a refusal code. The
    other fields are views of ``ints`` (SLOT_INTS) and ``floats`` (SLOT_FLOATS)."""

    code: np.ndarray
    ints: np.ndarray      # (len(SLOT_INTS), P)
    floats: np.ndarray    # (len(SLOT_FLOATS), P)

    FIELDS = ("code", "position", "start", "travel_s", "travel_km", "added_s", "added_km",
              "day_minutes", "late_s")
    start = property(lambda self: self.ints[0])
    travel_s = property(lambda self: self.ints[1])
    added_s = property(lambda self: self.ints[2])
    position = property(lambda self: self.ints[3])
    late_s = property(lambda self: self.ints[4])
    travel_km = property(lambda self: self.floats[0])
    added_km = property(lambda self: self.floats[1])
    day_minutes = property(lambda self: self.floats[2])

    @classmethod
    def blank(cls, n: int) -> "Slots":
        return cls(np.zeros(n, dtype=np.int8), np.zeros((len(SLOT_INTS), n), dtype=np.int64),
                   np.zeros((len(SLOT_FLOATS), n)))


def insert_many(order: OrderColumns, days: Days, now: int, rules: DayRules) -> Slots:
    """The cheapest feasible insertion of each pair's order into its worker's day."""
    slots = Slots.blank(len(order.lat))
    if not len(order.lat):
        return slots
    shift_day, day_start = days.shift_days or shift_days(days.shifts, rules.calendar)
    hard_latest = order.latest + order.max_late
    real = days.job_start < NO_JOB
    # the service days read: of every candidate start (between its order's earliest, or now,
    # and its hard latest start) and of every job
    first = int(np.maximum(order.earliest, now).min())
    last = int(hard_latest.max())
    if real.any():
        first = min(first, int(days.job_start.min()))
        last = max(last, int(days.job_start.max(where=real, initial=0)))
    first_bucket, offsets = rules.calendar.offset_table(first, last)
    columns = tuple(map(_ints, (order.earliest, order.latest, hard_latest, order.duration,
                                days.shifts, shift_day, day_start, days.max_jobs,
                                days.max_minutes, days.job_start, days.job_end, days.breaks)))
    # a pair without room for the order even with no travel fits nowhere: its legs are not
    # priced (in a busy day that is most pairs of a batch round)
    room = np.empty(len(order.lat), dtype=bool)
    rooms(now, *(columns[i] for i in (0, 2, 3, 4, 9, 10)), room)
    price_pairs(now, *columns, *_legs(order, days, real & room[:, None], rules), first_bucket,
                offsets, *(getattr(slots, name) for name in Slots.FIELDS))
    return slots


@dataclass(slots=True)  # (not frozen: made per order, and frozen, __init__ costs 3x)
class Workers:
    """What :class:`Days` holds per pair besides the jobs, per worker table row (whole
    columns: pairs name their rows)."""

    home_lat: np.ndarray
    home_lon: np.ndarray
    shifts: np.ndarray
    max_jobs: np.ndarray
    max_minutes: np.ndarray
    breaks: np.ndarray
    shift_days: tuple[np.ndarray, np.ndarray]  # as :func:`shift_days` gives them

    def days(self, rows: np.ndarray, jobs: dict[str, np.ndarray]) -> Days:
        """The :class:`Days` of pairs whose workers are ``rows`` with these job columns."""
        day, day_start = self.shift_days
        return Days(self.home_lat[rows], self.home_lon[rows], self.shifts[rows],
                    self.max_jobs[rows], self.max_minutes[rows], jobs["start"], jobs["end"],
                    jobs["lat"], jobs["lon"], self.breaks[rows], (day[rows], day_start[rows]))


def insert_rows(order: OrderColumns, rows: np.ndarray, workers: Workers,
                jobs: dict[str, np.ndarray], now: int, rules: DayRules) -> Slots:
    """:func:`insert_many` of the pairs (order ``i``, worker ``rows[i]``) whose planned jobs
    are ``jobs`` (columns (P, J), as :meth:`~matcher.world.World.job_columns` gives them).
    The same slots to the bit; on the small blocks of an instant order (great-circle legs,
    only those pricing reads: :func:`~matcher.pricing.read_legs`) in four calls, gathering
    included, rather than some fifty: their fixed cost was most of the work."""
    job_start = _ints(jobs["start"])
    if rules.matrix is not None or job_start.size > _DENSE_GRID:
        return insert_many(order, workers.days(rows, jobs), now, rules)
    slots = Slots.blank(len(rows))
    if not len(rows):
        return slots
    hard_latest = order.latest + order.max_late
    arcs, first, last, place = row_leg_arcs(
        now, rows, order.earliest, hard_latest, workers.home_lat, workers.home_lon, job_start,
        _floats(jobs["lat"]), _floats(jobs["lon"]), order.lat, order.lon)
    day, day_start = workers.shift_days
    if not price_rows(now, rows, order.earliest, order.latest, hard_latest, order.duration,
                      workers.shifts, day, day_start, workers.max_jobs, workers.max_minutes,
                      workers.breaks, job_start, _ints(jobs["end"]), arcs, place,
                      *rules.travel.road_terms, *rules.calendar.offset_table(first, last),
                      *(getattr(slots, name) for name in Slots.FIELDS)):
        raise ValueError("road_km must be finite and non-negative")
    return slots


def warm_up(rules: DayRules) -> None:
    """Load the compiled kernels now (numba's cache; compiled on a first run) rather than in
    the first dispatch: a pair of one worker without jobs, as a real block prices it."""
    one = np.ones(1)
    ints = np.ones(1, dtype=np.int64)
    order = OrderColumns.of(one, one, ints, ints, ints, np.zeros(1, dtype=np.int64))
    shifts = np.array([[[0, 7200]]])
    workers = Workers(one, one, shifts, np.zeros(1, dtype=np.int64), ints,
                      np.zeros((1, 0, 3), dtype=np.int64), shift_days(shifts, rules.calendar))
    jobs = {"start": np.full((1, 1), NO_JOB), "end": np.full((1, 1), NO_JOB),
            "lat": np.zeros((1, 1)), "lon": np.zeros((1, 1))}
    insert_many(order, workers.days(ints * 0, jobs), 0, rules)
    insert_rows(order, ints * 0, workers, jobs, 0, rules)


# the compiled kernel takes C-ordered int64 and float64 arrays (one compiled version)
_ints = functools.partial(np.ascontiguousarray, dtype=np.int64)
_floats = functools.partial(np.ascontiguousarray, dtype=np.float64)


def _legs(order: OrderColumns, days: Days, need: np.ndarray, rules: DayRules) -> list:
    """Seconds and km of the legs :func:`~matcher.pricing.price_pairs` reads: home -> order
    (P,), and per job (P, J) job -> order, order -> job, home -> job and job -> next job, each
    as seconds then km; ``need`` (P, J) marks the jobs whose legs are read (real jobs of pairs
    with room), the others may hold anything. Priced in one call: over every pair's whole
    grid of stops for a small or dense block (numpy's cost is per call there, not per leg; a
    padding job stands at the home, so a travel matrix knows the point), else only where
    needed."""
    if _sparse(need):
        return _needed_legs(order, days, need, rules)
    n_pairs, n_jobs = days.job_lat.shape
    points = leg_grid(*map(_floats, (days.home_lat, days.home_lon, days.job_lat, days.job_lon)),
                      _ints(days.job_start), _floats(order.lat), _floats(order.lon))
    seconds, km = rules.leg(*points)
    grid = n_pairs * n_jobs
    cuts = (n_pairs, n_pairs + grid, n_pairs + 2 * grid, len(seconds))
    to_order, home_job, job_job = ([_ints(seconds[lo:hi]), _floats(km[lo:hi])]
                                   for lo, hi in zip(cuts, cuts[1:]))
    if rules.matrix is None:  # great-circle legs are the same both ways, to the bit
        from_order = to_order
    else:  # order -> job: the legs job -> order, backwards
        at = slice(n_pairs, n_pairs + grid)
        from_order = [_ints(v) for v in rules.leg(points[2][at], points[3][at], points[0][at],
                                                  points[1][at])]
        from_order[1] = _floats(from_order[1])
    shapes = ((n_pairs, n_jobs),) * 3 + ((n_pairs, max(n_jobs - 1, 0)),)
    return [_ints(seconds[:n_pairs]), _floats(km[:n_pairs]),
            *(leg.reshape(shape) for pair, shape in zip((to_order, from_order, home_job,
                                                          job_job), shapes) for leg in pair)]


# (pair, job) cells above which a block whose legs are mostly not needed prices only the
# needed ones (a batch round over busy days: most pairs have no room, plans differ in length)
_DENSE_GRID = 2048


def _sparse(need: np.ndarray) -> bool:
    return need.size > _DENSE_GRID and 2 * np.count_nonzero(need) < need.size


def _needed_legs(order: OrderColumns, days: Days, need: np.ndarray, rules: DayRules) -> list:
    """:func:`_legs` priced only where ``need`` marks (zero elsewhere)."""
    n_pairs, n_jobs = need.shape
    pair, job = np.nonzero(need)
    later = job >= 1
    p2, j2 = pair[later], job[later]
    job_lat, job_lon = days.job_lat, days.job_lon
    seconds, km = rules.leg(
        np.concatenate((days.home_lat, job_lat[pair, job], days.home_lat[pair],
                        job_lat[p2, j2 - 1])),
        np.concatenate((days.home_lon, job_lon[pair, job], days.home_lon[pair],
                        job_lon[p2, j2 - 1])),
        np.concatenate((order.lat, order.lat[pair], job_lat[pair, job], job_lat[p2, j2])),
        np.concatenate((order.lon, order.lon[pair], job_lon[pair, job], job_lon[p2, j2])))
    n = len(pair)
    cuts = (n_pairs, n_pairs + n, n_pairs + 2 * n, len(seconds))

    def spread(values: np.ndarray, rows, columns, width: int) -> np.ndarray:
        full = np.zeros((n_pairs, width), dtype=values.dtype)
        full[rows, columns] = values
        return full

    to_order, home_job, job_job = (
        [spread(v[lo:hi], *at) for v in (seconds, km)]
        for (lo, hi), at in zip(zip(cuts, cuts[1:]), ((pair, job, n_jobs), (pair, job, n_jobs),
                                                      (p2, j2 - 1, max(n_jobs - 1, 0)))))
    if rules.matrix is None:  # great-circle legs are the same both ways, to the bit
        from_order = to_order
    else:
        out = rules.leg(order.lat[pair], order.lon[pair], job_lat[pair, job], job_lon[pair, job])
        from_order = [spread(v, pair, job, n_jobs) for v in out]
    return [_ints(seconds[:n_pairs]), _floats(km[:n_pairs]),
            *(_ints(s) if i == 0 else _floats(s) for legs in (to_order, from_order, home_job,
                                                               job_job)
              for i, s in enumerate(legs))]


def shift_days(shifts: np.ndarray, calendar: ServiceCalendar) -> tuple[np.ndarray, np.ndarray]:
    """(P, S) each: for each shift, its service day and the start of the first shift on that
    day. The worker may leave home for the day's first job from then on: being on duty since
    that shift, it can reach a job of a later shift of the day from home as it could from an
    earlier job. This keeps a day valid when one of its jobs is cancelled."""
    start = shifts[..., 0]
    day = calendar.days(start)
    same = day[:, :, None] == day[:, None, :]
    return day, np.where(same, start[:, None, :], NO_JOB).min(axis=-1)
