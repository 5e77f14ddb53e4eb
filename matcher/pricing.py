"""The insertion rules of :mod:`matcher.insertion`, compiled: one loop per (order, worker) pair.

An instant order prices a few dozen pairs; written as numpy over (pair, shift, gap, start)
arrays that took some hundred numpy calls, and their fixed cost was most of the order's price.
Here each pair walks its shifts, gaps and candidate starts in order and keeps the first best,
as the rules in :mod:`matcher.insertion` say; the travel legs come in priced (numpy, as
everywhere else), so every value is the one the rules give, to the bit.

Every argument is a numpy array of one pair per row (int64 unless said): see
:func:`price_pairs`. ``NO_JOB`` pads job columns; ``-NO_JOB`` stands for "no stop before".
"""

from __future__ import annotations

import numba
import numpy as np

from geo import distance, legs
from geo.kernel_cache import cached_with
from geo.legs import leg_arcs, road
from matcher import service_day
from matcher.service_day import BUCKET_S, DAY_S

# Pads the job columns of days with fewer jobs; sorts after every real start.
NO_JOB = np.iinfo(np.int64).max // 4
# A pair's code: 0 feasible, else why no candidate is (matcher.insertion.Refusal, in order).
SHIFT, DAILY_LIMIT, DAY_PLAN, BREAK = 1, 2, 3, 4
# Ranks added travel above the start in one key (starts are below 2**33 s, year 2242).
_KEY_SHIFT = 1 << 33

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@_jit
def _holds(lo, hi, depart, travel, breaks, out):
    """``out[b]``: the gap (``lo``, ``hi``; trip from ``depart`` taking ``travel``) holds
    break b together with every break that fits its bounds."""
    taken = 0
    for b in range(breaks.shape[0]):
        begin = max(breaks[b, 0], lo)
        length = breaks[b, 2]
        fit = begin + length <= min(hi, breaks[b, 1])
        out[b] = fit
        if fit:
            taken += min(max(begin + length - depart, 0), length)
    room = taken <= hi - depart - travel
    for b in range(breaks.shape[0]):
        out[b] = out[b] and room


@_jit
def _job_departs(shifts, day_start, job_start, t_hj, count, out):
    """When the worker may leave home for each job if it is the first of its day: the start
    of the first shift of the day of the shift holding it (a job outside every shift counts
    as left just in time)."""
    for j in range(count):
        start = job_start[j]
        latest = -NO_JOB
        inside = False
        for s in range(shifts.shape[0]):
            if shifts[s, 0] <= start < shifts[s, 1]:
                inside = True
                latest = max(latest, day_start[s])
        out[j] = latest if inside else start - t_hj[j]


@_jit
def _plan_holds(job_start, job_end, job_day, depart, t_hj, t_jj, count, breaks, holds):
    """``holds[g, b]``: gap g of the current plan (after job g - 1, before job g) holds
    break b; ``holds[count + 1:]`` stays False."""
    holds[:] = False
    for g in range(count + 1):
        has_prev, has_next = g >= 1, g < count
        lo = job_end[g - 1] if has_prev else -NO_JOB
        hi = job_start[g] if has_next else NO_JOB
        same_day = has_prev and has_next and job_day[g - 1] == job_day[g]
        from_home = has_next and not same_day
        leave = depart[g] if from_home else lo
        travel = t_jj[g - 1] if same_day else (t_hj[g] if from_home else 0)
        _holds(lo, hi, leave, travel, breaks, holds[g])


@_jit
def _after_breaks(breaks, lo, depart, travel, earliest, starts):
    """``starts[k + 1]``: for each break k, the earliest start with the breaks up to k that
    can fit after the stop before (ending at ``lo``) taken first, each as early as its window
    allows, their parts after ``depart`` added to the trip; ``earliest`` where break k cannot
    come first."""
    done_last, taken = -NO_JOB, 0
    for k in range(breaks.shape[0]):
        length = breaks[k, 2]
        done = max(breaks[k, 0], lo) + length
        if done > breaks[k, 1]:
            starts[k + 1] = earliest
            continue
        taken += min(max(done - depart, 0), length)
        done_last = max(done_last, done)
        starts[k + 1] = max(earliest, max(done_last, depart + travel + taken))


@_jit
def _day_of(ts, first_bucket, offsets):
    return (ts + offsets[ts // BUCKET_S - first_bucket]) // DAY_S


@_jit
def leg_grid(home_lat, home_lon, job_lat, job_lon, job_start, order_lat, order_lon):
    """The (from, to) points of every leg of a block's grid of stops, in the order
    :func:`matcher.insertion._legs` cuts them: home -> order (P), job -> order (P x J), home ->
    job (P x J), job -> next job (P x (J - 1)); a padding job (``NO_JOB`` start) stands at the
    home. Four arrays: from lat, from lon, to lat, to lon."""
    n_pairs, n_jobs = job_lat.shape
    grid = n_pairs * n_jobs
    size = n_pairs + 2 * grid + n_pairs * max(n_jobs - 1, 0)
    lat1, lon1 = np.empty(size), np.empty(size)
    lat2, lon2 = np.empty(size), np.empty(size)
    next_job = n_pairs + 2 * grid
    for p in range(n_pairs):
        lat1[p], lon1[p], lat2[p], lon2[p] = home_lat[p], home_lon[p], order_lat[p], order_lon[p]
        for j in range(n_jobs):
            real = job_start[p, j] < NO_JOB
            jlat = job_lat[p, j] if real else home_lat[p]
            jlon = job_lon[p, j] if real else home_lon[p]
            at = n_pairs + p * n_jobs + j
            lat1[at], lon1[at], lat2[at], lon2[at] = jlat, jlon, order_lat[p], order_lon[p]
            at += grid
            lat1[at], lon1[at], lat2[at], lon2[at] = home_lat[p], home_lon[p], jlat, jlon
            if j >= 1:
                at = next_job + p * (n_jobs - 1) + j - 1
                lat2[at], lon2[at] = jlat, jlon
            if j < n_jobs - 1:
                at = next_job + p * (n_jobs - 1) + j
                lat1[at], lon1[at] = jlat, jlon
    return lat1, lon1, lat2, lon2


@_jit
def read_legs(home_lat, home_lon, job_lat, job_lon, job_start, order_lat, order_lon):
    """The legs of :func:`leg_grid` that :func:`price_pairs` reads, and their places in its
    grid: every home -> order; job -> order and home -> job of each real job; job -> next job
    between two real ones. It walks a pair's real jobs only (the leading ones: padding sorts
    after them), never a padding job's legs, which are most of a block's grid when a few of
    its workers have jobs. Five arrays: from lat, from lon, to lat, to lon, place."""
    n_pairs, n_jobs = job_lat.shape
    grid = n_pairs * n_jobs
    counts = np.empty(n_pairs, dtype=np.int64)
    size = n_pairs
    for p in range(n_pairs):
        count = 0
        while count < n_jobs and job_start[p, count] < NO_JOB:
            count += 1
        counts[p] = count
        size += 2 * count + max(count - 1, 0)
    lat1, lon1 = np.empty(size), np.empty(size)
    lat2, lon2 = np.empty(size), np.empty(size)
    place = np.empty(size, dtype=np.int64)
    at = 0
    for p in range(n_pairs):
        lat1[at], lon1[at], lat2[at], lon2[at], place[at] = (
            home_lat[p], home_lon[p], order_lat[p], order_lon[p], p)
        at += 1
    for p in range(n_pairs):
        for j in range(counts[p]):
            lat1[at], lon1[at], lat2[at], lon2[at] = (
                job_lat[p, j], job_lon[p, j], order_lat[p], order_lon[p])
            place[at] = n_pairs + p * n_jobs + j
            at += 1
    for p in range(n_pairs):
        for j in range(counts[p]):
            lat1[at], lon1[at], lat2[at], lon2[at] = (
                home_lat[p], home_lon[p], job_lat[p, j], job_lon[p, j])
            place[at] = n_pairs + grid + p * n_jobs + j
            at += 1
    for p in range(n_pairs):
        for j in range(counts[p] - 1):
            lat1[at], lon1[at], lat2[at], lon2[at] = (
                job_lat[p, j], job_lon[p, j], job_lat[p, j + 1], job_lon[p, j + 1])
            place[at] = n_pairs + 2 * grid + p * (n_jobs - 1) + j
            at += 1
    return lat1, lon1, lat2, lon2, place


@_jit
def rooms(now, earliest, hard_latest, duration, shifts, job_start, job_end, room):
    """``room[p]``: some gap of pair p's plan, in a shift that can hold the order, is long
    enough for it with no travel at all. Without room no candidate of :func:`price_pairs`
    fits, whatever its legs: every candidate starts no earlier than the gap's begin."""
    n_pairs, n_jobs = job_start.shape
    for p in range(n_pairs):
        count = 0
        while count < n_jobs and job_start[p, count] < NO_JOB:
            count += 1
        room[p] = False
        for s in range(shifts.shape[1]):
            lo = max(max(shifts[p, s, 0], now), earliest[p])
            shift_end = shifts[p, s, 1]
            if lo > hard_latest[p] or lo + duration[p] > shift_end:
                continue
            for q in range(count + 1):
                begin = max(lo, job_end[p, q - 1]) if q >= 1 else lo
                end = begin + duration[p]
                if (begin <= hard_latest[p] and end <= shift_end
                        and (q == count or end <= job_start[p, q])):
                    room[p] = True
                    break
            if room[p]:
                break


@cached_with(service_day)  # (its day arithmetic reads service_day's constants)
@_jit
def price_pairs(now, earliest, latest, hard_latest, duration, shifts, shift_day, day_start,
                max_jobs, max_minutes, job_start, job_end, breaks,
                t_home, k_home, t_in, k_in, t_out, k_out, t_hj, k_hj, t_jj, k_jj,
                first_bucket, offsets,
                code, position, start, travel_s, travel_km, added_s, added_km, day_minutes,
                late_s):
    """Price every pair p: its order (``earliest``, ``latest``, ``hard_latest`` = latest plus
    the soft lateness, ``duration``) into its worker's day: ``shifts`` (P, S, 2) with each
    shift's service day and the start of that day's first shift (P, S), ``max_jobs`` (0: no
    limit) and ``max_minutes`` per day, jobs (P, J) sorted by start (padding: NO_JOB),
    ``breaks`` (P, B, 3). Legs, seconds then km: home -> order (P,); per job (P, J) job ->
    order, order -> job and home -> job; job k -> job k + 1 (P, J - 1). Service days:
    ``offsets``, the UTC offset of every quarter hour from ``first_bucket``, covering every
    job's start and every start between an order's earliest (or ``now``) and hard latest.

    Writes per pair the code (0 feasible, else the refusal) and, where feasible, the best
    candidate's position, start, leg in, added travel, minutes already on its day and
    lateness: the least lateness, then the least added travel, then the earliest start, the
    first in (shift, gap, start) order among ties."""
    n_pairs, n_jobs = job_start.shape
    n_breaks = breaks.shape[1]
    job_day = np.full(n_jobs, -1, dtype=np.int64)
    depart = np.zeros(n_jobs + 1, dtype=np.int64)
    plan = np.zeros((n_jobs + 1, n_breaks), dtype=np.bool_)
    held = np.zeros(n_breaks, dtype=np.bool_)
    first_half = np.zeros(n_breaks, dtype=np.bool_)
    second_half = np.zeros(n_breaks, dtype=np.bool_)
    starts = np.zeros(n_breaks + 1, dtype=np.int64)
    for p in range(n_pairs):
        count = 0
        while count < n_jobs and job_start[p, count] < NO_JOB:
            job_day[count] = _day_of(job_start[p, count], first_bucket, offsets)
            count += 1
        with_breaks = False
        for b in range(n_breaks):
            with_breaks = with_breaks or breaks[p, b, 2] > 0
        if with_breaks:
            _job_departs(shifts[p], day_start[p], job_start[p], t_hj[p], count, depart)
            _plan_holds(job_start[p], job_end[p], job_day, depart, t_hj[p], t_jj[p], count,
                        breaks[p], plan)
            for b in range(n_breaks):
                held[b] = False
                if breaks[p, b, 2] > 0:
                    for g in range(count + 1):
                        held[b] = held[b] or plan[g, b]
        covered = fits = limited = False
        found = False
        best_late, best_key = 0, 0
        for s in range(shifts.shape[1]):
            lo = max(max(shifts[p, s, 0], now), earliest[p])
            shift_end = shifts[p, s, 1]
            if lo > hard_latest[p] or lo + duration[p] > shift_end:
                continue
            covered = True
            day = shift_day[p, s]
            for q in range(count + 1):
                at_first = q == 0 or job_day[q - 1] != day
                has_next = q < count
                linked_next = has_next and job_day[q] == day
                stop_end = job_end[p, q - 1] if q >= 1 else -NO_JOB
                if at_first:
                    leave = day_start[p, s]
                    free = max(leave, now)
                    t_leg, k_leg = t_home[p], k_home[p]
                else:
                    leave = stop_end
                    free = max(stop_end, now)
                    t_leg, k_leg = t_in[p, q - 1], k_in[p, q - 1]
                out_s, out_km, skip_s, skip_km = 0, 0.0, 0, 0.0
                if linked_next:
                    out_s, out_km = t_out[p, q], k_out[p, q]
                    if at_first:
                        skip_s, skip_km = t_hj[p, q], k_hj[p, q]
                    else:
                        skip_s, skip_km = t_jj[p, q - 1], k_jj[p, q - 1]
                next_start = job_start[p, q] if has_next else NO_JOB
                earliest_start = max(lo, free + t_leg)
                starts[0] = earliest_start
                n_starts = 1
                if n_breaks:
                    n_starts = n_breaks + 1
                    _after_breaks(breaks[p], stop_end, leave, t_leg, earliest_start, starts)
                for c in range(n_starts):
                    st = starts[c]
                    end = st + duration[p]
                    if (st < stop_end or st > hard_latest[p] or end > shift_end
                            or (has_next and end + out_s > next_start)):
                        continue
                    fits = True
                    on_day = _day_of(st, first_bucket, offsets)
                    seconds, jobs = 0, 0
                    for j in range(count):
                        if job_day[j] == on_day:
                            length = job_end[p, j] - job_start[p, j]
                            seconds += length
                            if length > 0:
                                jobs += 1
                    if ((max_jobs[p] != 0 and jobs + 1 > max_jobs[p])
                            or seconds + duration[p] > max_minutes[p] * 60):
                        continue
                    limited = True
                    if with_breaks:
                        home_next = has_next and not linked_next
                        _holds(stop_end, st, leave, t_leg, breaks[p], first_half)
                        _holds(end, next_start, depart[q] if home_next else end,
                               t_hj[p, q] if home_next else out_s, breaks[p], second_half)
                        kept = True
                        for b in range(n_breaks):
                            if not held[b] or first_half[b] or second_half[b]:
                                continue
                            elsewhere_b = False
                            for g in range(count + 1):
                                elsewhere_b = elsewhere_b or (g != q and plan[g, b])
                            if not elsewhere_b:
                                kept = False
                                break
                        if not kept:
                            continue
                    late = max(st - latest[p], 0)
                    key = (t_leg + out_s - skip_s) * _KEY_SHIFT + st
                    if found and (late > best_late or (late == best_late and key >= best_key)):
                        continue
                    found, best_late, best_key = True, late, key
                    position[p], start[p], late_s[p] = q, st, late
                    travel_s[p], travel_km[p] = t_leg, k_leg
                    added_s[p] = t_leg + out_s - skip_s
                    added_km[p] = k_leg + out_km - skip_km
                    day_minutes[p] = seconds / 60.0
        if found:
            code[p] = 0
        elif not covered:
            code[p] = SHIFT
        elif not fits:
            code[p] = DAY_PLAN
        elif not limited:
            code[p] = DAILY_LIMIT
        else:
            code[p] = BREAK


@cached_with(legs, distance, service_day)
@_jit
def row_leg_arcs(now, rows, earliest, hard_latest, home_lat, home_lon, job_start, job_lat,
                 job_lon, order_lat, order_lon):
    """For pairs given as worker table ``rows`` (the homes are the whole table's): the arcs
    (:func:`geo.legs.leg_arcs`) of the legs of their :func:`leg_grid` that pricing reads and
    the places of those legs in it (:func:`read_legs`), and the first and last second whose service day the pricing reads
    (every candidate start and every job's start)."""
    lat1, lon1, lat2, lon2, place = read_legs(home_lat[rows], home_lon[rows], job_lat,
                                              job_lon, job_start, order_lat, order_lon)
    first, last = NO_JOB, -NO_JOB
    for p in range(rows.shape[0]):
        first = min(first, max(earliest[p], now))
        last = max(last, hard_latest[p])
        for j in range(job_start.shape[1]):
            if job_start[p, j] < NO_JOB:
                first, last = min(first, job_start[p, j]), max(last, job_start[p, j])
    return leg_arcs(lat1, lon1, lat2, lon2), first, last, place


@cached_with(legs, distance, service_day)
@_jit
def price_rows(now, rows, earliest, latest, hard_latest, duration, shifts, shift_day,
               day_start, max_jobs, max_minutes, breaks, job_start, job_end, arcs, place,
               detour, speed_kmh, keep, first_bucket, offsets, code, position, start,
               travel_s, travel_km, added_s, added_km, day_minutes, late_s):
    """:func:`price_pairs` of pairs given as worker table ``rows`` (the shifts, limits and
    breaks are the whole table's), their legs priced from the arcs of the legs
    :func:`row_leg_arcs` gives, at their ``place`` in the grid (:func:`geo.legs.road`,
    great-circle: the same both ways; the legs pricing never reads stay zero). False,
    pricing nothing, when a leg's km are not finite."""
    read_s, read_km = road(arcs, detour, speed_kmh, keep)
    for i in range(read_s.shape[0]):
        if read_s[i] < 0:
            return False
    n_pairs, n_jobs = job_start.shape
    grid = n_pairs * n_jobs
    gaps = max(n_jobs - 1, 0)
    seconds = np.zeros(n_pairs + 2 * grid + n_pairs * gaps, dtype=np.int64)
    km = np.zeros(seconds.shape[0])
    for i in range(place.shape[0]):
        seconds[place[i]], km[place[i]] = read_s[i], read_km[i]
    # cut as leg_grid lays them out: home -> order, job -> order, home -> job, job -> next
    home_job, job_job = n_pairs + grid, n_pairs + 2 * grid
    t_to = seconds[n_pairs:home_job].reshape((n_pairs, n_jobs))
    k_to = km[n_pairs:home_job].reshape((n_pairs, n_jobs))
    t_hj = seconds[home_job:job_job].reshape((n_pairs, n_jobs))
    k_hj = km[home_job:job_job].reshape((n_pairs, n_jobs))
    t_jj = seconds[job_job:].reshape((n_pairs, gaps))
    k_jj = km[job_job:].reshape((n_pairs, gaps))
    price_pairs(now, earliest, latest, hard_latest, duration, shifts[rows], shift_day[rows],
                day_start[rows], max_jobs[rows], max_minutes[rows], job_start, job_end,
                breaks[rows], seconds[:n_pairs], km[:n_pairs], t_to, k_to, t_to, k_to,
                t_hj, k_hj, t_jj, k_jj, first_bucket, offsets, code, position, start,
                travel_s, travel_km, added_s, added_km, day_minutes, late_s)
    return True
