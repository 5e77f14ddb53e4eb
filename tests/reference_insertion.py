"""The insertion rules of :mod:`matcher.insertion` as a plain loop over one worker's day.

This is the exact reference the vectorised ``insert_many`` is checked against: same rules,
written the obvious way (shift by shift, gap by gap), sharing only the travel arithmetic.
"""

from __future__ import annotations

from matcher.insertion import DayRules, Insertion, Refusal
from matcher.model import Job, Order, Worker


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
        for position in range(len(jobs) + 1):
            found = _try_gap(worker, jobs, order, now, rules, shift, position, lo)
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


def _try_gap(worker, jobs, order, now, rules, shift, position, lo):
    day = rules.calendar.day(shift.start)
    prev = jobs[position - 1] if position > 0 else None
    if prev is not None and rules.calendar.day(prev.start) == day:
        prev_lat, prev_lon, free_at = prev.lat, prev.lon, max(prev.end, now)
    else:  # the first job of the day leaves from home
        prev_lat, prev_lon, free_at = worker.home_lat, worker.home_lon, max(shift.start, now)
    travel_in, km_in = rules.leg(prev_lat, prev_lon, order.lat, order.lon)
    start = max(lo, free_at + travel_in)
    end = start + order.duration
    if start > order.latest_start or end > shift.end:
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
    return Insertion(position, start, end, travel_in, km_in,
                     travel_in + travel_out - travel_skip, km_in + km_out - km_skip,
                     seconds / 60.0)
