"""The insertion rules of :mod:`matcher.insertion` as a plain loop over one worker's day.

This is the exact reference the vectorised ``insert_many`` is checked against: same rules,
written the obvious way (shift by shift, gap by gap; for breaks, the whole plan before and after
the insertion, gap by gap), sharing only the travel arithmetic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matcher.insertion import DayRules, Insertion, Refusal
from matcher.model import Break, Job, Order, Worker


def best_insertion(worker: Worker, jobs: list[Job], order: Order, now: int,
                   rules: DayRules, max_late: int = 0) -> Insertion | Refusal:
    """The best feasible insertion of ``order`` into ``jobs`` (sorted by start), or why not:
    the least lateness, then the least added travel, then the earliest start; the first shift
    and position among ties. ``max_late`` is the order's soft lateness in seconds."""
    best: Insertion | None = None
    covered = limited = broken = False
    for shift in worker.shifts:
        lo = max(order.earliest_start, shift.start, now)
        if lo > order.latest_start + max_late or lo + order.duration > shift.end:
            continue
        covered = True
        for position in range(len(jobs) + 1):
            for found in _try_gap(worker, jobs, order, now, rules, shift, position, lo,
                                  max_late):
                if found is Refusal.DAILY_LIMIT:
                    limited = True
                elif found is Refusal.BREAK:
                    broken = True
                elif isinstance(found, Insertion) and (best is None
                                                       or _rank(found) < _rank(best)):
                    best = found
    if best is not None:
        return best
    if not covered:
        return Refusal.SHIFT
    if broken:
        return Refusal.BREAK
    return Refusal.DAILY_LIMIT if limited else Refusal.DAY_PLAN


def _rank(found: Insertion) -> tuple[int, int, int]:
    return found.late_s, found.added_travel_s, found.start


def _try_gap(worker, jobs, order, now, rules, shift, position, lo, max_late):
    """The outcome of each candidate start in the gap before ``jobs[position]``: as early as
    the job can, then right after each break (see :func:`_after_breaks`)."""
    day = rules.calendar.day(shift.start)
    prev = jobs[position - 1] if position > 0 else None
    after = prev.end if prev is not None else -math.inf
    if prev is not None and rules.calendar.day(prev.start) == day:
        prev_lat, prev_lon, free_at = prev.lat, prev.lon, max(prev.end, now)
        depart = prev.end
    else:  # the first job of the day leaves from home
        depart = _day_start(worker, shift, rules)
        prev_lat, prev_lon, free_at = worker.home_lat, worker.home_lon, max(depart, now)
    travel_in, km_in = rules.leg(prev_lat, prev_lon, order.lat, order.lon)
    earliest = max(lo, free_at + travel_in)
    for start in [earliest] + _after_breaks(worker, after, depart, travel_in, earliest):
        if start < after:  # the gap after a later day's job is no way into an earlier day
            yield None
            continue
        yield _try_start(worker, jobs, order, rules, shift, position, max_late, day, start,
                         (prev_lat, prev_lon, travel_in, km_in))


def _after_breaks(worker: Worker, after: float, depart: int, travel_in: int,
                  earliest: int) -> list[int]:
    """For each break k, the earliest start with the breaks up to k that can fit between
    ``after`` (the stop before) and the job taken first: each as early as it can, the parts
    after ``depart`` added to the trip; ``earliest`` where break k cannot come first."""
    starts, done_last, taken = [], -math.inf, 0
    for pause in worker.breaks:
        done = max(pause.start, after) + pause.duration
        if done > pause.end:
            starts.append(earliest)
            continue
        done_last = max(done_last, done)
        taken += min(max(done - depart, 0), pause.duration)
        starts.append(max(earliest, done_last, depart + travel_in + taken))
    return starts


def _try_start(worker, jobs, order, rules, shift, position, max_late, day, start, leg_in):
    prev_lat, prev_lon, travel_in, km_in = leg_in
    end = start + order.duration
    if start > order.latest_start + max_late or end > shift.end:
        return None
    travel_out, km_out, travel_skip, km_skip = 0, 0.0, 0, 0.0
    if position < len(jobs):
        nxt = jobs[position]
        if rules.calendar.day(nxt.start) == day:
            travel_out, km_out = rules.leg(order.lat, order.lon, nxt.lat, nxt.lon)
            travel_skip, km_skip = rules.leg(prev_lat, prev_lon, nxt.lat, nxt.lon)
        if end + travel_out > nxt.start:
            return None
    job_day = rules.calendar.day(start)
    same_day = [j for j in jobs if rules.calendar.day(j.start) == job_day]
    if worker.max_jobs_per_day and len(same_day) + 1 > worker.max_jobs_per_day:
        return Refusal.DAILY_LIMIT
    seconds = sum(j.end - j.start for j in same_day)
    max_minutes = worker.max_work_minutes_per_day or rules.default_max_minutes
    if seconds + order.duration > max_minutes * 60:
        return Refusal.DAILY_LIMIT
    new = Job(order.order_id, order.customer_id, order.service_type, order.lat, order.lon,
              start, end)
    if not _keeps_breaks(worker, jobs, position, new, day, rules):
        return Refusal.BREAK
    return Insertion(position, start, end, travel_in, km_in,
                     travel_in + travel_out - travel_skip, km_in + km_out - km_skip,
                     seconds / 60.0, max(0, start - order.latest_start))


# ---------------------------------------------------------------- breaks

@dataclass(frozen=True)
class _Stop:
    job: Job
    day: int  # the service day whose legs the job follows


@dataclass(frozen=True)
class _Gap:
    lo: float      # end of the job before, or -inf
    hi: float      # start of the job after, or inf
    depart: float  # when the trip to the job after may start
    travel: int    # that trip


def _keeps_breaks(worker: Worker, jobs: list[Job], position: int, new: Job, day: int,
                  rules: DayRules) -> bool:
    """Every break some gap of the plan holds is still held once ``new`` is in (the new job
    follows the legs of its shift's ``day``)."""
    old = [_Stop(j, rules.calendar.day(j.start)) for j in jobs]
    before = _held(worker, old, rules)
    after = _held(worker, old[:position] + [_Stop(new, day)] + old[position:], rules)
    return all(a or not b for b, a in zip(before, after))


def _held(worker: Worker, stops: list[_Stop], rules: DayRules) -> list[bool]:
    gaps = [_gap(worker, stops, g, rules) for g in range(len(stops) + 1)]
    return [any(_holds(gap, k, worker.breaks) for gap in gaps)
            for k in range(len(worker.breaks))]


def _gap(worker: Worker, stops: list[_Stop], g: int, rules: DayRules) -> _Gap:
    """The gap before stop ``g`` (after stop ``g - 1``)."""
    prev = stops[g - 1] if g > 0 else None
    nxt = stops[g] if g < len(stops) else None
    lo = prev.job.end if prev is not None else -math.inf
    if nxt is None:
        return _Gap(lo, math.inf, lo, 0)
    if prev is not None and prev.day == nxt.day:
        travel = rules.leg(prev.job.lat, prev.job.lon, nxt.job.lat, nxt.job.lon)[0]
        return _Gap(lo, nxt.job.start, lo, travel)
    travel = rules.leg(worker.home_lat, worker.home_lon, nxt.job.lat, nxt.job.lon)[0]
    shift = next((s for s in worker.shifts if s.start <= nxt.job.start < s.end), None)
    depart = _day_start(worker, shift, rules) if shift is not None else nxt.job.start - travel
    return _Gap(lo, nxt.job.start, depart, travel)


def _day_start(worker: Worker, shift, rules: DayRules) -> int:
    """The start of the first shift on ``shift``'s service day: the worker may leave home
    for the day's first job from then on."""
    day = rules.calendar.day(shift.start)
    return min(s.start for s in worker.shifts if rules.calendar.day(s.start) == day)


def _holds(gap: _Gap, k: int, breaks: tuple[Break, ...]) -> bool:
    """Gap ``gap`` holds break ``k`` together with every break that fits its bounds."""
    def begin(b: Break) -> float:
        return max(b.start, gap.lo)

    fitting = [i for i, b in enumerate(breaks)
               if begin(b) + b.duration <= min(gap.hi, b.end)]
    if k not in fitting:
        return False
    taken = sum(min(max(begin(breaks[i]) + breaks[i].duration - gap.depart, 0),
                    breaks[i].duration) for i in fitting)
    return taken <= gap.hi - gap.depart - gap.travel
