"""An independent checker of day plans and assignments.

It re-derives every hard constraint from the raw inputs with its own arithmetic (plain ``math``,
no code from ``matcher`` or ``geo``), so a bug in the engine cannot hide behind the same bug here.
Travel times come from its own haversine model, or from ``travel(lat1, lon1, lat2, lon2) ->
seconds`` when the caller gives one (a benchmark with its own travel matrix).
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Callable
from functools import partial

from matcher.config import DispatchConfig
from matcher.model import Break, Job, LinkType, Order, Worker, WorkerStatus

Travel = Callable[[float, float, float, float], int]


def _travel_s(config: DispatchConfig, lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    km = 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a))) * config.travel.detour_factor
    return math.ceil(km / config.travel.speed_kmh * 3600 - 1e-6)


def _local_day(config: DispatchConfig, ts: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts, zoneinfo.ZoneInfo(config.service.timezone)).date()


def _day_end(config: DispatchConfig, ts: int) -> int:
    zone = zoneinfo.ZoneInfo(config.service.timezone)
    nxt = _local_day(config, ts) + dt.timedelta(days=1)
    return int(dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).timestamp())


def check_worker_day(config: DispatchConfig, worker: Worker, jobs: list[Job],
                     orders: dict[str, Order], blocked: dict[str, set[str]] | None = None,
                     travel: Travel | None = None) -> list[str]:
    """Every hard-constraint violation in one worker's planned jobs, as readable lines.
    ``travel(lat1, lon1, lat2, lon2)`` (seconds) replaces the built-in travel model."""
    problems: list[str] = []
    blocked = blocked or {}
    travel = travel or partial(_travel_s, config)
    jobs = sorted(jobs, key=lambda j: j.start)
    for job in jobs:
        order = orders[job.order_id]
        problems += [f"{worker.worker_id}/{job.order_id}: {p}"
                     for p in _check_job(config, worker, job, order, blocked)]
    problems += _check_sequence(config, worker, jobs, travel)
    problems += _check_daily(config, worker, jobs)
    problems += _check_breaks(config, worker, jobs, travel)
    return problems


def _credit_floor(config: DispatchConfig, service_type: str) -> float:
    """The global floor, the service type's own and the lowest tier that takes orders."""
    floors = [config.limits.min_credit_score]
    floors += [f.min_credit_score for name, f in config.credit_floor if name == service_type]
    taking = [t.min_score for _, t in config.tiers if not t.excluded]
    if config.tiers:
        floors.append(min(taking) if taking else math.inf)
    return max(floors)


def _check_job(config: DispatchConfig, worker: Worker, job: Job, order: Order,
               blocked: dict[str, set[str]]) -> list[str]:
    out = []
    if worker.status != WorkerStatus.ONLINE:
        out.append(f"worker status {worker.status.name}")
    skill = next((s for s in worker.skills if s.service_type == order.service_type), None)
    if skill is None:
        out.append(f"no skill {order.service_type}")
    else:
        if skill.level < max(order.min_skill_level, 1):
            out.append(f"level {skill.level} < {order.min_skill_level}")
        if skill.certified_until < _day_end(config, job.end - 1) - 1:
            out.append("certificate expires before the end of the service day")
    if worker.credit_score < _credit_floor(config, order.service_type):
        out.append(f"credit {worker.credit_score} below floor")
    if worker.worker_id in order.blocked_worker_ids | blocked.get(order.customer_id, set()):
        out.append("worker blocked by customer")
    if not order.required_tags <= worker.tags:
        out.append(f"missing tags {sorted(order.required_tags - worker.tags)}")
    # a service type with a [lateness.<type>] table may start up to max_late_minutes late
    grace = dict(config.lateness).get(order.service_type)
    latest = order.latest_start + (grace.max_late_minutes * 60 if grace else 0)
    if not order.earliest_start <= job.start <= latest:
        off = max(order.earliest_start - job.start, job.start - latest)
        out.append(f"start outside the window (by {off} s)")
    if job.end - job.start != order.duration:
        out.append("planned duration differs from the order's")
    if not any(s.start <= job.start and job.end <= s.end for s in worker.shifts):
        out.append("no shift covers the job")
    p1, p2 = math.radians(worker.home_lat), math.radians(order.lat)
    if 6371.0088 * math.acos(min(1.0, math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2)
                                 * math.cos(math.radians(order.lon - worker.home_lon)))) \
            > config.limits.service_radius_km + 1e-6:
        out.append("order outside the worker's service radius")
    return out


def _check_sequence(config: DispatchConfig, worker: Worker, jobs: list[Job],
                    travel: Travel) -> list[str]:
    """Travel between consecutive jobs: the first job of a local day from home, leaving at the
    start of the day's first shift, every later job of that day from the job before it (even
    across shifts)."""
    out, prev = [], None
    for job in jobs:
        if prev is not None and job.start < prev.end:
            out.append(f"{worker.worker_id}/{job.order_id}: overlaps {prev.order_id}")
        if prev is not None and _local_day(config, prev.start) == _local_day(config, job.start):
            arrive = prev.end + travel(prev.lat, prev.lon, job.lat, job.lon)
        else:
            shift = next((s for s in worker.shifts if s.start <= job.start < s.end), None)
            if shift is None:
                prev = job
                continue  # reported by the shift check
            arrive = _day_start(config, worker, shift) + travel(worker.home_lat, worker.home_lon,
                                                                job.lat, job.lon)
        if job.start < arrive:
            out.append(f"{worker.worker_id}/{job.order_id}: starts {arrive - job.start} s "
                       "before the worker can arrive")
        prev = job
    return out


def _check_breaks(config: DispatchConfig, worker: Worker, jobs: list[Job],
                  travel: Travel) -> list[str]:
    """Every break must sit in a gap of the sorted jobs where the worker neither works nor
    travels: L seconds inside its window, the trip of the gap around it. A gap before a job j
    (after job i, or from the start) with trip t, leaving no earlier than ``depart``:

    - j is not the first job of its local day: depart = end_i, t = travel i -> j;
    - j is the first of its day: depart = the start of the first shift of j's shift's day (j's start - t without one),
      t = travel home -> j; the part of the break before depart costs the trip nothing;
    - after the last job: no trip, no end.

    The break starts at b = max(window start, end_i) and must end by min(start_j, window end);
    together with every other break that fits the same gap, the parts after ``depart`` must
    leave the trip its time: sum <= start_j - depart - t.
    """
    gaps = [_gap(config, worker, jobs, g, travel) for g in range(len(jobs) + 1)]
    out = []
    for k, pause in enumerate(worker.breaks):
        if not any(pause in _breaks_in(gap, worker.breaks) for gap in gaps):
            out.append(f"{worker.worker_id}: break {k} ({pause.duration} s between "
                       f"{pause.start} and {pause.end}) fits in no gap of the day plan")
    return out


def _gap(config: DispatchConfig, worker: Worker, jobs: list[Job], g: int,
         travel: Travel) -> tuple[float, float, float, int]:
    """(end of the job before, start of the job after, departure, trip) of the gap before job
    ``g``; -inf and inf where there is no job."""
    before = jobs[g - 1] if g > 0 else None
    after = jobs[g] if g < len(jobs) else None
    lo = before.end if before else -math.inf
    if after is None:
        return lo, math.inf, lo, 0
    if before and _local_day(config, before.start) == _local_day(config, after.start):
        return lo, after.start, lo, travel(before.lat, before.lon, after.lat, after.lon)
    trip = travel(worker.home_lat, worker.home_lon, after.lat, after.lon)
    shift = next((s for s in worker.shifts if s.start <= after.start < s.end), None)
    return lo, after.start, _day_start(config, worker, shift) if shift else after.start - trip, trip


def _day_start(config: DispatchConfig, worker: Worker, shift) -> int:
    """The start of the first shift on the local day on which ``shift`` starts."""
    day = _local_day(config, shift.start)
    return min(s.start for s in worker.shifts if _local_day(config, s.start) == day)


def _breaks_in(gap: tuple[float, float, float, int], breaks: tuple[Break, ...]) -> list[Break]:
    """The breaks the gap holds: all that fit its bounds, or none when together they leave
    the trip too little time."""
    lo, hi, depart, trip = gap
    fitting = [b for b in breaks if max(b.start, lo) + b.duration <= min(hi, b.end)]
    cost = sum(min(b.duration, max(0, max(b.start, lo) + b.duration - depart)) for b in fitting)
    return fitting if cost <= hi - depart - trip else []


def _check_daily(config: DispatchConfig, worker: Worker, jobs: list[Job]) -> list[str]:
    per_day: dict[dt.date, list[Job]] = defaultdict(list)
    for job in jobs:
        per_day[_local_day(config, job.start)].append(job)
    limit_min = worker.max_work_minutes_per_day or config.limits.max_work_minutes_per_day
    out = []
    for day, day_jobs in per_day.items():
        if worker.max_jobs_per_day and len(day_jobs) > worker.max_jobs_per_day:
            out.append(f"{worker.worker_id}: {len(day_jobs)} jobs on {day}")
        if sum(j.end - j.start for j in day_jobs) > limit_min * 60:
            out.append(f"{worker.worker_id}: over {limit_min} working minutes on {day}")
    return out


def check_plans(config: DispatchConfig, workers: dict[str, Worker],
                plans: dict[str, list[Job]], orders: dict[str, Order],
                blocked: dict[str, set[str]] | None = None,
                travel: Travel | None = None) -> list[str]:
    """Violations across all plans: each worker's day, then the orders planned on several
    days (a team job: exactly its team size, distinct workers, one start; any other order at
    most once) and the links between orders."""
    problems: list[str] = []
    placed: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for worker_id, jobs in sorted(plans.items()):
        for job in jobs:
            placed[job.order_id].append((worker_id, job.start))
        problems += check_worker_day(config, workers[worker_id], jobs, orders, blocked, travel)
    for order_id, where in placed.items():
        problems += _check_team(orders[order_id], where)
        problems += _check_link(orders[order_id], where, placed)
    return problems


def _check_team(order: Order, where: list[tuple[str, int]]) -> list[str]:
    names = sorted(w for w, _ in where)
    if len(where) == 1 and order.workers_needed == 1:
        return []
    if order.workers_needed == 1:
        return [f"{order.order_id} planned for {' and '.join(names)}"]
    out = []
    if len(where) != order.workers_needed or len(set(names)) != len(names):
        out.append(f"{order.order_id}: team of {order.workers_needed} planned as {names}")
    if len({start for _, start in where}) != 1:
        out.append(f"{order.order_id}: team members start at different times")
    return out


def _check_link(order: Order, where: list[tuple[str, int]],
                placed: dict[str, list[tuple[str, int]]]) -> list[str]:
    link = order.link
    if link is None:
        return []
    first = placed.get(link.order_id)
    if not first:
        return [f"{order.order_id}: planned while its linked order {link.order_id} is not"]
    if link.kind == LinkType.SAME_WORKER and where[0][0] != first[0][0]:
        return [f"{order.order_id}: worker {where[0][0]}, not {first[0][0]} of "
                f"{link.order_id}"]
    gap = where[0][1] - first[0][1]
    if link.kind == LinkType.START_GAP and not link.min_gap <= gap <= link.max_gap:
        return [f"{order.order_id}: starts {gap} s after {link.order_id}, outside "
                f"[{link.min_gap}, {link.max_gap}]"]
    return []


def reference_credit(config: DispatchConfig, base: float, events, now: int) -> float:
    """The credit formula of the README, written out apart from ``matcher.credit``: the base as
    a prior worth ``prior_reviews`` reviews, reviews and penalty points fading by half every
    ``half_life_days``, clamped to 0..100 and rounded to two decimals."""
    half_life = config.credit.half_life_days * 86400
    weights = [0.5 ** (max(0, now - e.time) / half_life) for e in events]
    rated = [(w, e.stars) for w, e in zip(weights, events) if e.stars]
    prior = config.credit.prior_reviews
    stars = (prior * (1 + base / 25) + sum(w * s for w, s in rated)) / (
        prior + sum(w for w, _ in rated))
    points = sum(w * e.points for w, e in zip(weights, events))
    return round(min(100.0, max(0.0, (stars - 1) * 25 - points)), 2)
