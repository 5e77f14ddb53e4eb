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

Every pair is priced over all its (shift, gap, start) candidates in numpy, in the shifts that
can hold the order (others hold no candidate); a pair whose plan has no room for the order even
without travel is refused before any leg is priced. ``tests/reference_insertion.py`` holds the
same rules as a plain loop, and the tests check that both agree.
"""

from __future__ import annotations

import enum
import functools
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
    BREAK = "break"


# Codes of :class:`Slots` ``code``: 0 = feasible, then the refusals.
REFUSAL_CODES = (None, Refusal.SHIFT, Refusal.DAILY_LIMIT, Refusal.DAY_PLAN, Refusal.BREAK)
SHIFT, DAILY_LIMIT, DAY_PLAN, BREAK = 1, 2, 3, 4
# Pads the job arrays of days with fewer jobs; sorts after every real start.
NO_JOB = np.iinfo(np.int64).max // 4
# A service day no job has (padding jobs have day -1).
OTHER_DAY = -3


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
    # (P,) each pair's worker (table row): what is the worker's alone (the legs between its
    # jobs, their service days) is then worked out once per worker, not once per pair
    rows: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class OrderColumns:
    """Per pair (P,): the order's place, start window and duration; ``max_late`` seconds a
    start may come after ``latest`` (0 for a hard window)."""

    lat: np.ndarray
    lon: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    duration: np.ndarray
    max_late: np.ndarray


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
    late_s: np.ndarray


def insert_many(order: OrderColumns, days: Days, now: int, rules: DayRules) -> Slots:
    """The cheapest feasible insertion of each pair's order into its worker's day.

    Pairs where no gap of the plan has room for the order even without travel are refused
    (``day_plan``, or ``shift`` when no shift can hold the order) before anything else is
    worked out: in a busy day that is most pairs, and pricing their legs cost the most."""
    if len(order.lat) == 0:
        return _blank_slots(0)
    covered, room = _room(order, days, now)
    if room.all():
        return _priced(order, days, now, rules)
    slots = _blank_slots(len(room))
    slots.code[:] = np.where(covered, DAY_PLAN, SHIFT)
    if room.any():
        priced = _priced(OrderColumns(*(getattr(order, name)[room]
                                        for name in OrderColumns.__slots__)),
                         _take_days(days, room), now, rules)
        for name in Slots.__slots__:
            getattr(slots, name)[room] = getattr(priced, name)
    return slots


def _blank_slots(n_pairs: int) -> Slots:
    return Slots(*(np.zeros(n_pairs, dtype=t) for t in (np.int8, np.int64, np.int64, np.int64,
                                                         float, np.int64, float, float,
                                                         np.int64)))


def _take_days(days: Days, mask: np.ndarray) -> Days:
    """The ``days`` of the pairs ``mask`` selects."""
    shift_days = days.shift_days
    return Days(*(getattr(days, name)[mask] for name in Days.__slots__[:-2]),
                None if shift_days is None else (shift_days[0][mask], shift_days[1][mask]),
                None if days.rows is None else days.rows[mask])


def _room(order: OrderColumns, days: Days, now: int) -> tuple[np.ndarray, np.ndarray]:
    """(P,) each: some shift can hold the order (start window, shift and ``now`` alone), and
    some gap of the plan inside such a shift has room for it even with no travel at all. A
    candidate starts no earlier than that (its shift's bound, ``now``, its window and the end
    of the job before the gap) and ends before the job after the gap, so without such room
    no candidate fits."""
    covered, lo, end_s = _shift_bounds(order, days, now)
    q, prev, nxt = _gap_ends(days.job_start.shape[1])
    count = (days.job_start < NO_JOB).sum(axis=1)[:, None]
    after = np.where(q >= 1, days.job_end[:, prev], -NO_JOB)[:, None]
    until = np.where(q < count, days.job_start[:, nxt], NO_JOB)[:, None]
    begin = np.maximum(lo[..., None], after)
    end = begin + order.duration[:, None, None]
    room = ((covered[..., None] & (q <= count)[:, None])
            & (begin <= (order.latest + order.max_late)[:, None, None])
            & (end <= end_s[..., None]) & (end <= until))
    return covered.any(axis=1), room.any(axis=(1, 2))


def _shift_bounds(order: OrderColumns, days: Days, now: int,
                  *more: np.ndarray) -> tuple[np.ndarray, ...]:
    """(P, S) each: whether the shift can hold the order (a start in its window, not before
    ``now``, inside the shift, its duration too), the earliest such start, the shift's end,
    and the ``more`` arrays (P, S) given. Only the shifts that can hold the order are kept
    (:func:`_covering`): most workers have shifts on several days, an order fits one."""
    start_s, end_s = days.shifts[..., 0], days.shifts[..., 1]
    lo = np.maximum(np.maximum(start_s, now), order.earliest[:, None])
    covered = (lo <= (order.latest + order.max_late)[:, None]) & (lo + order.duration[:, None]
                                                                   <= end_s)
    kept = _covering(covered)
    if kept is None:
        return (covered, lo, end_s, *more)
    pair = np.arange(len(kept))[:, None]
    return tuple(a[pair, kept] for a in (covered, lo, end_s, *more))


def _priced(order: OrderColumns, days: Days, now: int, rules: DayRules) -> Slots:
    """:func:`insert_many` of pairs each priced in full."""
    g = _Gaps(order, days, now, rules)
    fits = g.fits()
    limited = fits & g.within_limits(fits)
    ok = limited & g.keeps_breaks()
    best = _best(ok, g.late, g.added_s[..., None], g.start)
    every = (1, 2, 3)
    code = np.where(~g.covered.any(axis=1), SHIFT,
                    np.where(~fits.any(axis=every), DAY_PLAN,
                             np.where(~limited.any(axis=every), DAILY_LIMIT,
                                      np.where(~ok.any(axis=every), BREAK, 0))))

    # (pair, shift, gap, start) of each pair's best candidate
    at = (np.arange(len(best)), *np.unravel_index(best, g.start.shape[1:]))

    def pick(values: np.ndarray) -> np.ndarray:
        """The best candidate's value; per-gap arrays (P, S, Q) count for all its starts."""
        return values[at[:values.ndim]]

    q = at[2]
    return Slots(code.astype(np.int8), q, pick(g.start), pick(g.travel_in), pick(g.km_in),
                 pick(g.added_s), pick(g.added_km), pick(g.day_seconds) / 60.0, pick(g.late))


def _best(ok: np.ndarray, late: np.ndarray, added_s: np.ndarray,
          start: np.ndarray) -> np.ndarray:
    """Per pair, the flat (shift, gap, start) index of the best feasible candidate: the least
    lateness, then the least added travel, then the earliest start; argmin keeps the first
    among ties."""
    flat = len(ok), -1
    late = np.where(ok, late, NO_JOB).reshape(flat)
    on_least = ok.reshape(flat) & (late == late.min(axis=1, keepdims=True))
    key = np.where(on_least, (added_s * (1 << 33) + start).reshape(flat), np.iinfo(np.int64).max)
    return np.argmin(key, axis=1)


def _holds(lo, hi, depart, travel, breaks: np.ndarray) -> np.ndarray:
    """Whether gaps hold breaks: bounds ``lo`` (end of the job before, or -NO_JOB) and ``hi``
    (start of the job after, or NO_JOB), ``depart`` (when the trip to the job after may start:
    ``lo``, or the shift's start when it comes from home) and ``travel`` (that trip), all of
    one shape X; ``breaks`` (..., B, 3) broadcasts to X + (B, 3). Returns X + (B,)."""
    lo, hi, depart, travel = (a[..., None] for a in (lo, hi, depart, travel))
    ws, we, length = breaks[..., 0], breaks[..., 1], breaks[..., 2]
    begin = np.maximum(ws, lo)  # as early as it can: every later start only costs more
    fit = begin + length <= np.minimum(hi, we)
    # the part of each break after the worker could set off comes out of the trip's time;
    # every break that fits the gap counts, so breaks sharing a gap never overbook it
    taken = np.where(fit, np.clip(begin + length - depart, 0, length), 0)
    return fit & (taken.sum(axis=-1, keepdims=True) <= hi - depart - travel)


class _Gaps:
    """Every (pair, shift, gap) combination: gap q sits before job q (after job q - 1)."""

    def __init__(self, order: OrderColumns, days: Days, now: int, rules: DayRules) -> None:
        self.order, self.days, self.rules = order, days, rules
        n_jobs = days.job_start.shape[1]
        q, prev, nxt = _gap_ends(n_jobs)
        self.real = days.job_start < NO_JOB
        first, inverse = _workers(days)
        self.job_day = _job_days(days.job_start[first], rules.calendar)[inverse]
        shift_day, self.all_day_start = (days.shift_days
                                         or shift_days(days.shifts, rules.calendar))
        # the shift axis holds only the shifts that can hold the order (no candidate of
        # another shift fits)
        self.hard_latest = order.latest + order.max_late
        covered, lo, end_s, shift_day, self.day_start = _shift_bounds(
            order, days, now, shift_day, self.all_day_start)
        self.covered = covered
        shift_day = shift_day[..., None]
        count = self.real.sum(axis=1)[:, None, None]
        self.valid = q <= count
        # the previous stop is job q-1 when it is on the shift's day, else home
        at_first = (q == 0) | (self.job_day[:, prev][:, None, :] != shift_day)
        self.has_next = q < count
        linked_next = self.has_next & (self.job_day[:, nxt][:, None, :] == shift_day)
        self.prev, self.nxt, self.at_first, self.linked_next = prev, nxt, at_first, linked_next
        self.shift_start = self.day_start[..., None]  # when the day's first trip may begin
        # legs: home -> order, job k -> order, order -> job k, home -> job k, job k-1 -> job k
        # (a travel matrix need not be symmetric)
        # a leg between a job and the order is only taken on a day some shift of the pair's
        # can hold the order on (else the trip comes from home or ends the day)
        near = (self.job_day[:, :, None]
                == np.where(covered, shift_day[..., 0], OTHER_DAY)[:, None, :]).any(axis=-1)
        (t_home, k_home), (t_job, k_job), (t_hj, k_hj), (t_jj, k_jj) = _legs(
            order, days, rules, first, inverse, near)
        if rules.matrix is None:  # great-circle legs are the same both ways, to the bit
            t_out, k_out = t_job, k_job
        else:
            t_out, k_out = rules.leg(order.lat[:, None], order.lon[:, None], days.job_lat,
                                     days.job_lon)
        self.t_hj, self.t_jj = t_hj, t_jj
        depart = np.maximum(self.day_start, now)[..., None]
        self.free = np.where(at_first, depart, np.maximum(days.job_end[:, prev], now)[:, None])
        self.travel_in = np.where(at_first, t_home[:, None, None], t_job[:, prev][:, None])
        self.km_in = np.where(at_first, k_home[:, None, None], k_job[:, prev][:, None])
        out_s = np.where(linked_next, t_out[:, nxt][:, None], 0)
        out_km = np.where(linked_next, k_out[:, nxt][:, None], 0.0)
        skip_s = np.where(linked_next, np.where(at_first, t_hj[:, nxt][:, None],
                                                t_jj[:, nxt][:, None]), 0)
        skip_km = np.where(linked_next, np.where(at_first, k_hj[:, nxt][:, None],
                                                 k_jj[:, nxt][:, None]), 0.0)
        self.out_s, self.next_start = out_s, days.job_start[:, nxt][:, None]
        self.added_s = self.travel_in + out_s - skip_s
        self.added_km = self.km_in + out_km - skip_km
        self.shift_end = end_s[..., None]
        earliest = np.maximum(lo[..., None], self.free + self.travel_in)
        # candidate starts per gap (last axis C): as early as the job can, then right after
        # each break, for when taking the breaks first is what lets the job into the gap
        self.before = self._before_bounds()
        if days.breaks.shape[1] == 0:  # no worker of the pairs has breaks: one start a gap
            self.start = earliest[..., None]
        else:
            self.start = np.concatenate([earliest[..., None], self._after_breaks(earliest)],
                                        axis=-1)
        self.end = self.start + order.duration[:, None, None, None]
        self.late = np.maximum(self.start - order.latest[:, None, None, None], 0)

    def _before_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(P, S, Q) end of the stop before the gap (-NO_JOB: none) and when the trip to the
        new job may start (that end, or the shift's start for the first job of a day)."""
        q = _gap_ends(self.days.job_start.shape[1])[0]
        lo = np.where(q >= 1, self.days.job_end[:, self.prev], -NO_JOB)[:, None]
        lo = np.broadcast_to(lo, self.at_first.shape)
        return lo, np.where(self.at_first, self.shift_start, lo)

    def _after_breaks(self, earliest: np.ndarray) -> np.ndarray:
        """(P, S, Q, B): for each break k, the earliest start with breaks 0..k that can fit
        before the job taken there first (each as early as its window and the stop before
        allow, their parts after the departure added to the trip); ``earliest`` where break k
        cannot come before the job."""
        breaks = self.days.breaks[:, None, None]
        lo, depart = (a[..., None] for a in self.before)
        length = breaks[..., 2]
        done = np.maximum(breaks[..., 0], lo) + length
        can = done <= breaks[..., 1]
        taken = np.where(can, np.clip(done - depart, 0, length), 0)
        after = np.maximum(np.maximum.accumulate(np.where(can, done, -NO_JOB), axis=-1),
                           depart + self.travel_in[..., None] + np.cumsum(taken, axis=-1))
        return np.where(can, np.maximum(earliest[..., None], after), earliest[..., None])

    def fits(self) -> np.ndarray:
        """Candidates where the job fits its window, its shift and the travel around it."""
        def gap(a: np.ndarray) -> np.ndarray:
            return a[..., None]

        # gap q lies after job q - 1 in time even when that job is on a later service day
        # (then the trip comes from home and the day's own checks do not see that job)
        return (gap(self.valid & self.covered[..., None])
                & (self.start >= gap(self.before[0]))
                & (self.start <= self.hard_latest[:, None, None, None])
                & (self.end <= gap(self.shift_end))
                & (gap(~self.has_next) | (self.end + gap(self.out_s) <= gap(self.next_start))))

    def within_limits(self, fits: np.ndarray) -> np.ndarray:
        """Candidates whose service day still has room for one more job of this length (worked
        out where the job ``fits``; elsewhere no job shares the day)."""
        days, calendar = self.days, self.rules.calendar
        start_day = np.full(self.start.shape, -2, dtype=np.int64)
        start_day[fits] = calendar.days(self.start[fits])
        totals = DayTotals(self.job_day, np.where(self.real, days.job_end - days.job_start, 0))
        self.day_seconds, count = totals.at(start_day)
        max_jobs = days.max_jobs[:, None, None, None]
        return (((max_jobs == 0) | (count + 1 <= max_jobs))
                & (self.day_seconds + self.order.duration[:, None, None, None]
                   <= days.max_minutes[:, None, None, None] * 60))

    def keeps_breaks(self) -> np.ndarray:
        """Candidates where, with the job in, every break the current plan holds is still
        held: by another gap of the plan, or by one of the two halves the job splits its gap
        into."""
        breaks = self.days.breaks
        if breaks.shape[1] == 0:
            return np.ones(self.start.shape, dtype=bool)
        plan = self._plan_holds()                                   # (P, G, B)
        held = plan.any(axis=1) & (breaks[..., 2] > 0)              # (P, B); padding: 0 s
        elsewhere = (plan.sum(axis=1)[:, None] - plan) > 0          # (P, G, B), G = gaps q
        before, after = self._halves()
        pauses = breaks[:, None, None, None]
        still = (elsewhere[:, None, :, None] | _holds(*before, pauses)
                 | _holds(*after, pauses))                          # (P, S, Q, C, B)
        return (still | ~held[:, None, None, None]).all(axis=-1)

    def _plan_holds(self) -> np.ndarray:
        """(P, G, B): gap g of the current plan (after job g - 1, before job g) holds break b."""
        days, n_jobs = self.days, self.days.job_start.shape[1]
        g, prev, nxt = _gap_ends(n_jobs)
        count = self.real.sum(axis=1)[:, None]
        has_prev, has_next = (g >= 1) & (g <= count), g < count
        lo = np.where(has_prev, days.job_end[:, prev], -NO_JOB)
        hi = np.where(has_next, days.job_start[:, nxt], NO_JOB)
        same_day = has_prev & has_next & (self.job_day[:, prev] == self.job_day[:, nxt])
        from_home = has_next & ~same_day
        depart = np.where(from_home, self._job_depart()[:, nxt], lo)
        travel = np.where(same_day, self.t_jj[:, nxt], np.where(from_home, self.t_hj[:, nxt], 0))
        return _holds(lo, hi, depart, travel, days.breaks[:, None]) & (g <= count)[..., None]

    def _halves(self) -> tuple[tuple, tuple]:
        """(lo, hi, depart, travel) of the gaps before and after the new job, broadcasting to
        the candidates (P, S, Q, C)."""
        lo, depart = (a[..., None] for a in self.before)
        before = (lo, self.start, depart, self.travel_in[..., None])
        from_home = (self.has_next & ~self.linked_next)[..., None]
        hi = np.where(self.has_next, self.next_start, NO_JOB)[..., None]
        after = (self.end, hi,
                 np.where(from_home, self._job_depart()[:, self.nxt][:, None, :, None],
                          self.end),
                 np.where(from_home, self.t_hj[:, self.nxt][:, None, :, None],
                          self.out_s[..., None]))
        return before, after

    def _job_depart(self) -> np.ndarray:
        """(P, J): when the worker may leave home for each job if it is the first of its day:
        the start of the first shift of the day of the shift holding it (a job outside every
        shift, kept when the shifts changed under it, counts as left just in time)."""
        start_s, end_s = self.days.shifts[:, None, :, 0], self.days.shifts[:, None, :, 1]
        job_start = self.days.job_start[..., None]
        inside = (start_s <= job_start) & (job_start < end_s)
        shift_start = np.where(inside, self.all_day_start[:, None, :], -NO_JOB).max(axis=-1)
        return np.where(inside.any(axis=-1), shift_start, self.days.job_start - self.t_hj)


def _covering(covered: np.ndarray) -> np.ndarray | None:
    """(P, K) per pair, the indexes of the shifts that can hold its order (``covered``, P x S)
    in shift order, then others as padding (marked uncovered); K is the most any pair has (at
    least one). None when that would keep every shift. Dropping shifts that hold no candidate
    changes no outcome: the best candidate is the first best in (shift, gap, start) order, and
    the kept shifts keep their order."""
    k = max(int(covered.sum(axis=1).max(initial=0)), 1)
    if k == covered.shape[1]:
        return None
    if k == 1:  # the common case: argmax is the first covering shift (0 when none), as below
        return covered.argmax(axis=1)[:, None]
    return np.argsort(~covered, axis=1, kind="stable")[:, :k]


class DayTotals:
    """Per pair and service day: the seconds of the pair's jobs on that day and how many of
    them are jobs (a zero-length stop, where a worker reported being, is none). Built once
    per pair from its (few) jobs, then looked up by any number of candidate days: comparing
    every candidate's day with every job's day cost a job axis on the largest arrays."""

    def __init__(self, job_day: np.ndarray, lengths: np.ndarray) -> None:
        """``job_day`` (P, J) each job's service day (padding: any day, with length 0),
        ``lengths`` (P, J) its seconds."""
        self.days = np.unique(job_day)  # the distinct days of the block: a handful
        n_pairs, width = len(job_day), len(self.days)
        cell = (np.arange(n_pairs)[:, None] * width
                + np.searchsorted(self.days, job_day)).ravel()
        size = n_pairs * width
        self.seconds = np.bincount(cell, weights=lengths.ravel(), minlength=size)
        self.seconds = self.seconds.astype(np.int64).reshape(n_pairs, width)
        self.count = np.bincount(cell, weights=(lengths > 0).ravel(), minlength=size)
        self.count = self.count.astype(np.int64).reshape(n_pairs, width)

    def at(self, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(seconds, count) on ``day`` (P, ...), each pair's own; 0 on a day without jobs."""
        if not self.days.size:
            zero = np.zeros(day.shape, dtype=np.int64)
            return zero, zero
        column = np.minimum(np.searchsorted(self.days, day), len(self.days) - 1)
        on = self.days[column] == day
        pair = np.arange(len(day)).reshape((-1,) + (1,) * (day.ndim - 1))
        return (np.where(on, self.seconds[pair, column], 0),
                np.where(on, self.count[pair, column], 0))


@functools.lru_cache(maxsize=256)
def _gap_ends(n_jobs: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For days of ``n_jobs`` job columns: the gaps ``q`` (0..n_jobs), the job before each
    (``q - 1``) and after it (``q``), clipped to the columns (read-only, shared)."""
    q = np.arange(n_jobs + 1)
    ends = (q, np.clip(q - 1, 0, n_jobs - 1), np.clip(q, 0, n_jobs - 1))
    for a in ends:
        a.flags.writeable = False
    return ends


def _workers(days: Days) -> tuple[slice | np.ndarray, slice | np.ndarray]:
    """Index of one pair per distinct worker, and per pair the index of its worker among
    those (``days.rows`` unknown, or a single pair: every pair its own)."""
    if days.rows is None or len(days.rows) <= 1:
        return slice(None), slice(None)
    _, first, inverse = np.unique(days.rows, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _job_days(job_start: np.ndarray, calendar: ServiceCalendar) -> np.ndarray:
    """The service day of each job (padding: -1)."""
    real = job_start < NO_JOB
    day = np.full(job_start.shape, -1, dtype=np.int64)
    # only real starts: padding far from them would take the calendar off its fast path
    day[real] = calendar.days(job_start[real])
    return day


def _legs(order: OrderColumns, days: Days, rules: DayRules, first, inverse,
          near: np.ndarray) -> list[tuple]:
    """(seconds, km) of the legs home -> order (P), job k -> order, home -> job k and job
    k - 1 -> job k (P, J each; "job -1" is the last one), priced in one call: for a few dozen
    pairs numpy's cost is per call, not per leg. The legs of a worker's own plan are priced
    once per worker (``first``, ``inverse`` as :func:`_workers` gives them). Only the legs
    that can be taken are priced, 0 stands for the others: those of the jobs ``near`` (P, J)
    marks, and every leg of a worker's own plan when some worker has breaks (the breaks'
    checks read every gap of the plan). Each leg is priced on its own, so the values are
    those of separate calls."""
    n_pairs, n_jobs = days.job_lat.shape
    before = np.arange(n_jobs) - 1  # job k - 1 (-1: the last)
    home_lat, home_lon = days.home_lat[first], days.home_lon[first]
    job_lat, job_lon = days.job_lat[first], days.job_lon[first]
    pair, job = np.nonzero(near)
    if days.breaks.shape[1]:
        mine = np.ones(job_lat.shape, dtype=bool)
    elif isinstance(inverse, slice):  # every pair its own worker
        mine = near
    else:
        mine = np.zeros(job_lat.shape, dtype=bool)
        mine[inverse[pair], job] = True
    worker, own_job = np.nonzero(mine)
    flat = (np.concatenate((days.home_lat, days.job_lat[pair, job], home_lat[worker],
                            job_lat[worker, before[own_job]])),
            np.concatenate((days.home_lon, days.job_lon[pair, job], home_lon[worker],
                            job_lon[worker, before[own_job]])),
            np.concatenate((order.lat, order.lat[pair], job_lat[worker, own_job],
                            job_lat[worker, own_job])),
            np.concatenate((order.lon, order.lon[pair], job_lon[worker, own_job],
                            job_lon[worker, own_job])))
    seconds, km = rules.leg(*flat)
    legs = [(seconds[:n_pairs], km[:n_pairs])]
    at = n_pairs
    for rows, columns, shape, spread in ((pair, job, near.shape, slice(None)),
                                         (worker, own_job, mine.shape, inverse),
                                         (worker, own_job, mine.shape, inverse)):
        leg = []
        for values in (seconds, km):
            full = np.zeros(shape, dtype=values.dtype)
            full[rows, columns] = values[at:at + len(rows)]
            leg.append(full[spread])
        legs.append(tuple(leg))
        at += len(rows)
    return legs


def shift_days(shifts: np.ndarray, calendar: ServiceCalendar) -> tuple[np.ndarray, np.ndarray]:
    """(P, S) each: for each shift, its service day and the start of the first shift on that
    day. The worker may leave home for the day's first job from then on: being on duty since
    that shift, it can reach a job of a later shift of the day from home as it could from an
    earlier job. This keeps a day valid when one of its jobs is cancelled."""
    start = shifts[..., 0]
    day = calendar.days(start)
    same = day[:, :, None] == day[:, None, :]
    return day, np.where(same, start[:, None, :], NO_JOB).min(axis=-1)
