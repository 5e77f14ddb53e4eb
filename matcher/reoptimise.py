"""Re-optimising day plans with the routing solver: what ``OptimizePlans`` runs.

Batch rounds place orders one at a time, each into the best free slot of the moment, so by
mid-morning the plans are far from the best ones. Here the jobs not yet started and not locked
(with any pending orders the caller adds) are handed to :mod:`matcher.routing` as one problem:

- a vehicle per worker and service day, leaving home at the day's first shift (not before
  ``now``, unless the day's first job is locked and the worker must have set out for it
  already); the gaps between shifts of a day are off duty (no job then, but the worker may
  drive) and the worker's breaks are breaks of the vehicle; the daily job and minute limits
  are its capacities; the way home and the way to a started job take no time (a day's last
  job must end within the shift, not the drive home; a started job may have been reached from
  a live location), though their travel still costs;
- only the workers whose plans can change: those planned for a movable job (or one linked to
  it) and the movable jobs' candidates; every other worker's plan is all fixed jobs and stays
  as it is;
- a visit per job (a team job: one per worker, starting together), allowed on the worker-days
  that pass the static hard constraints and whose shifts can hold it, among the nearest
  ``optimizer.candidates_per_order`` workers and the ones planned for it now; a job stays with
  its worker when that worker is the customer's preferred or known one (continuity), or when a
  same-worker link ties it;
- started and locked jobs as fixed visits; follow-ups as start gaps; soft windows as lateness
  costs; planned jobs may not be dropped, pending orders may, at their unassigned penalty (a
  pending team that too few allowed workers can do is left out).

The solver starts from the current plans. Its answer is checked against the domain rules again
(the same insertion code that dispatch uses) and priced with :func:`plan_cost`; the current
plans are kept unless the new ones pass and cost less. Objective, in score units: travel hours
x ``weights.travel`` (with each day's trip home when ``optimizer.return_home``) + late minutes x the type's ``penalty_per_minute`` x ``weights.lateness`` +
the unassigned penalty of each pending order left out.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from geo import haversine_km
from matcher.coupled import with_lateness
from matcher.eligibility import StaticRules
from matcher.errors import FailedPrecondition
from matcher.model import Assignment, Job, LinkType, Order, Worker, WorkerStatus
from matcher.order_batch import OrderBatch
from matcher.planner import Planner
from matcher.routing import (BreakWindow, Locked, RoutingProblem, RoutingSolution, StartGap,
                             Vehicle, Visit, solve)
from matcher.scoring import score_terms, unassigned_penalty
from matcher.worker_table import WorkerTable
from matcher.world import World

# A planned job is never dropped: its drop cost dwarfs every other cost of the problem.
KEEP = 1 << 36
# Distinct homes and job locations one run takes at most (the travel matrix is their square).
MAX_POINTS = 4000
# Points reached without travel time (see _Build._travel): a worker's way home, a started job.
ARRIVAL, STARTED = "arrival", "started"


@dataclass(frozen=True, slots=True)
class PlanScope:
    """What one re-optimisation may change: the plans of ``workers``, from ``now`` on."""

    workers: list[Worker]
    plans: dict[str, list[Job]]         # worker id -> jobs sorted by start
    orders: dict[str, Order]            # every planned job's order and every pending one
    pending: tuple[str, ...] = ()       # orders the optimiser may add to the plans
    locked: frozenset[str] = frozenset()  # orders whose jobs stay exactly as they are
    blocked: dict[str, frozenset[str]] | None = None
    now: int = 0


@dataclass(frozen=True, slots=True)
class PlanCost:
    travel_s: int
    travel_km: float
    late_s: int
    unplaced: int
    total: float                        # in score units, lower is better


@dataclass(frozen=True, slots=True)
class Reoptimised:
    plans: dict[str, list[Job]]         # every scope worker's whole plan
    placed: tuple[str, ...]             # pending orders that are now planned
    moved: int                          # planned jobs with a new worker or start
    before: PlanCost
    after: PlanCost
    improved: bool                      # False: ``plans`` are the current plans
    note: str = ""
    first_plan_s: float = 0.0           # until a whole plan with the pending orders existed


class Reoptimiser:
    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.config = planner.config

    def run(self, scope: PlanScope, time_limit_s: float, solution_limit: int = 0
            ) -> Reoptimised:
        """The cheapest of three plans that pass the domain rules: the current one, the current
        one with the pending orders dispatched into it (the solver's warm start: a whole plan
        at once, never a search from nothing), and the solver's answer from there."""
        began = time.perf_counter()
        before = plan_cost(self.planner, scope, scope.plans)
        seeded = self._seed(scope)
        first_plan_s = time.perf_counter() - began
        best, note = (scope.plans, before), "nothing to move"
        seed_cost = plan_cost(self.planner, scope, seeded.plans)
        if seeded.plans is not scope.plans and seed_cost.total < before.total:
            best, note = (seeded.plans, seed_cost), "pending orders dispatched"
        build = _Build(self, seeded, frozenset(scope.pending))
        if build.problem.visits:
            solution = solve(build.problem, time_limit_s, initial=build.initial,
                             solution_limit=solution_limit)
            plans, problems = build.plans(solution)
            problems = problems or check_scope(self.planner, scope, plans)
            cost = plan_cost(self.planner, scope, plans) if not problems else None
            if problems:
                note = f"kept the {'seeded' if best[0] is seeded.plans else 'current'} " \
                       f"plans: {problems[0]}"
            elif cost.total < best[1].total:
                best, note = (plans, cost), ""
            else:
                note = note if best[0] is seeded.plans else "no cheaper plan found"
        plans, after = best
        if plans is scope.plans:
            return Reoptimised(scope.plans, (), 0, before, before, False, note, first_plan_s)
        placed = tuple(sorted(o for o in scope.pending if any(
            j.order_id == o for jobs in plans.values() for j in jobs)))
        return Reoptimised(plans, placed, _moved(scope.plans, plans), before, after, True, note,
                           first_plan_s)

    def _seed(self, scope: PlanScope) -> PlanScope:
        """``scope`` with its pending orders dispatched into the plans by the batch rounds."""
        if not scope.pending:
            return scope
        workers = sorted(scope.workers, key=lambda w: w.worker_id)
        world = World(WorkerTable(workers), dict(scope.plans), scope.blocked or {})
        result = self.planner.dispatch([scope.orders[o] for o in scope.pending], world,
                                       scope.now)
        if not result.assignments:
            return scope
        placed = {a.order_id for a in result.assignments}
        return replace(scope, plans={**scope.plans, **result.plans},
                       pending=tuple(o for o in scope.pending if o not in placed))


class _Build:
    """The routing problem of a scope, and the way back from its solution to day plans."""

    def __init__(self, owner: Reoptimiser, scope: PlanScope,
                 droppable: frozenset[str] = frozenset()) -> None:
        """``droppable``: orders the solver may leave out at their unassigned penalty (the
        pending ones, dispatched into ``scope.plans`` or not); every other planned job stays
        planned."""
        self.owner, self.scope, self.droppable = owner, scope, droppable
        self.planner, self.config = owner.planner, owner.config
        self.calendar = self.planner.day_rules.calendar
        self.today = self.calendar.day(scope.now)
        self.workers = [w for w in scope.workers if w.status == WorkerStatus.ONLINE]
        self.table = WorkerTable(self.workers)
        # (lat, lon, "") a place; (lat, lon, ARRIVAL) or (lat, lon, STARTED) the same place
        # reached in no time (its travel still costs)
        self.points: dict[tuple[float, float, str], int] = {}
        self.vehicles: list[Vehicle] = []
        self.vehicle_of: dict[tuple[str, int], int] = {}    # (worker, day) -> vehicle
        self.vehicle_key: list[tuple[str, int]] = []
        self.visits: list[Visit] = []
        self.visit_order: list[str] = []                    # visit -> order id
        self.visits_of: dict[str, list[int]] = defaultdict(list)
        self.locked: list[Locked] = []
        self.gaps: list[StartGap] = []
        self.initial: list[list[int]] = []
        self.kept: dict[str, list[Job]] = {}               # jobs outside the problem
        # an order's worker; a team's first member (by id), the one a same-worker follower
        # goes with, as in dispatch (World.placed)
        self.worker_of: dict[str, str] = {}
        for w, jobs in sorted(scope.plans.items()):
            for j in jobs:
                self.worker_of.setdefault(j.order_id, w)
        self.same_worker_firsts = {o.link.order_id for o in scope.orders.values()
                                   if o.link is not None and o.link.kind == LinkType.SAME_WORKER}
        self.rows_of: dict[str, list[int]] = defaultdict(list)  # order -> rows planned for it
        for worker_id, jobs in sorted(scope.plans.items()):
            for j in jobs:
                if worker_id in self.table.row:
                    self.rows_of[j.order_id].append(self.table.row[worker_id])
        self.nearest = {order_id: self._nearest(scope.orders[order_id])
                        for order_id in self._movable()}
        self._add_vehicles(self._relevant_rows())
        self._add_jobs()
        self._add_pending()
        self._add_links()
        self._check_size()
        travel, cost = self._travel()
        self.problem = RoutingProblem(travel, self.visits, self.vehicles, cost=cost,
                                      gaps=self.gaps, locked=self.locked)

    # ------------------------------------------------------------------ points and travel

    def _point(self, lat: float, lon: float, reached: str = "") -> int:
        return self.points.setdefault((lat, lon, reached), len(self.points))

    def _travel(self) -> tuple[np.ndarray, np.ndarray]:
        """The travel seconds between the points as the time dimension reads them, and as
        the cost reads them (the real ones). Time reads no travel into two kinds of point,
        where dispatch's day has none either: the way home (``ARRIVAL``: a day's last job
        must end within the shift, the way home may pass its end) and a started job
        (``STARTED``: the worker may have set out from a live location, not from home)."""
        coords = np.array([(lat, lon) for lat, lon, _ in self.points] or [(0.0, 0.0)])
        lat, lon = coords[:, 0], coords[:, 1]
        seconds, _ = self.planner.day_rules.leg(lat[:, None], lon[:, None], lat[None, :],
                                                lon[None, :])
        cost = np.asarray(seconds, dtype=np.int64)
        travel = cost.copy()
        travel[:, [i for (_, _, reached), i in self.points.items() if reached]] = 0
        return travel, cost

    def _check_size(self) -> None:
        if len(self.points) > MAX_POINTS:
            raise FailedPrecondition(
                f"{len(self.points)} homes and job locations are more than one re-optimisation "
                f"takes ({MAX_POINTS}); name fewer worker_ids")

    # ------------------------------------------------------------------ workers and vehicles

    def _movable(self) -> list[str]:
        """Planned orders whose jobs may move (from today on, not started, not locked), then
        the pending ones."""
        scope, out = self.scope, []
        for jobs in scope.plans.values():
            out += [j.order_id for j in jobs if j.start >= scope.now
                    and j.order_id not in scope.locked
                    and self.calendar.day(j.start) >= self.today]
        return sorted(set(out)) + [o for o in scope.pending if o not in out]

    def _nearest(self, order: Order) -> np.ndarray:
        """Rows of the nearest workers (``optimizer.candidates_per_order``) that pass the
        static hard constraints for ``order``, and of those planned for it that pass them."""
        rows = np.arange(len(self.table), dtype=np.int64)
        km = np.asarray(haversine_km(self.table.lat, self.table.lon, order.lat, order.lon),
                        dtype=np.float64).reshape(-1)
        blocked = order.blocked_worker_ids | (self.scope.blocked or {}).get(order.customer_id,
                                                                             frozenset())
        batch = OrderBatch.of([order], self.calendar,
                              self.config.lateness_for(order.service_type).max_late_minutes * 60)
        ok = StaticRules.of(self.config).passing(batch, self.table, rows[None, :],
                                                      km[None, :], [blocked])[0]
        nearest = rows[ok][np.argsort(km[ok], kind="stable")]
        nearest = nearest[:self.config.optimizer.candidates_per_order].tolist()
        # The workers planned for it now stay allowed (while they pass), so that the plans in
        # force are a valid warm start: one job outside its nearest would void the whole start.
        held = [r for r in self.rows_of.get(order.order_id, ()) if ok[r] and r not in nearest]
        return np.array(nearest + held, dtype=np.int64)

    def _relevant_rows(self) -> list[int]:
        """The workers whose plans the problem can change: those planned for a movable order
        or for one tied to it by a link (either way), and every movable order's nearest
        candidates. Every other worker's jobs are all fixed and none may go to it, so its
        plan stays as it is: it stays out of the model (on a busy day nearly every worker
        has a day of locked jobs; they would make the model far bigger and slower, and one
        day the routing model cannot express voids the whole problem)."""
        movable = set(self.nearest)
        tied = set(movable)
        for order in self.scope.orders.values():
            link = order.link
            if link is not None and (order.order_id in movable or link.order_id in movable):
                tied.update((order.order_id, link.order_id))
        rows = {row for order_id in tied for row in self.rows_of.get(order_id, ())}
        for nearest in self.nearest.values():
            rows.update(nearest.tolist())
        return sorted(rows)

    def _add_vehicles(self, rows: list[int]) -> None:
        horizon = self._last_day()
        max_minutes = self.table.max_minutes(self.planner.day_rules.default_max_minutes)
        started = {(w, self.calendar.day(j.start)) for w, jobs in self.scope.plans.items()
                   for j in jobs if j.start < self.scope.now}
        first_fixed = self._first_fixed_jobs()
        for row in rows:
            worker = self.workers[row]
            days: dict[int, list] = defaultdict(list)
            for shift in worker.shifts:
                day = self.calendar.day(shift.start)
                if self.today <= day <= horizon:
                    days[day].append(shift)
            for day, shifts in sorted(days.items()):
                # a day already under way starts from its first shift; otherwise not before now
                leave = (shifts[0].start if (worker.worker_id, day) in started
                         else max(shifts[0].start, self.scope.now))
                first = first_fixed.get((worker.worker_id, day))
                if first is not None:  # the worker may have set out for it already
                    travel_s, _ = self.planner.day_rules.leg(worker.home_lat, worker.home_lon,
                                                             first.lat, first.lon)
                    leave = min(leave, first.start - int(travel_s))
                if leave < shifts[-1].end:
                    self._add_vehicle(worker, day, shifts, leave, int(max_minutes[row]))

    def _first_fixed_jobs(self) -> dict[tuple[str, int], Job]:
        """Per (worker, day), the day's first job when it is locked and not started."""
        out: dict[tuple[str, int], Job] = {}
        for worker_id, jobs in self.scope.plans.items():
            for job in jobs:
                key = (worker_id, self.calendar.day(job.start))
                if key not in out:
                    out[key] = job
        return {key: job for key, job in out.items()
                if job.start >= self.scope.now and job.order_id in self.scope.locked}

    def _last_day(self) -> int:
        ends = [j.start for jobs in self.scope.plans.values() for j in jobs]
        ends += [self.scope.orders[o].latest_start for o in self.scope.pending]
        return max((self.calendar.day(t) for t in ends), default=self.today)

    def _add_vehicle(self, worker: Worker, day: int, shifts: list, leave: int,
                     max_minutes: int) -> None:
        """A worker-day; the time between its shifts is off duty (no job then, but travel
        may be), the worker's breaks are its breaks (a break already past is left out, one
        under way keeps what is left of its window)."""
        last = shifts[-1].end
        off_duty = tuple((max(a.end, leave), b.start) for a, b in zip(shifts, shifts[1:])
                         if b.start > max(a.end, leave))
        breaks = []
        windows = [(p.start, p.end, p.duration) for p in worker.breaks
                   if p.start < last and p.end > shifts[0].start]
        for start, end, duration in windows:
            start = max(start, leave)
            if end - start >= duration:
                breaks.append(BreakWindow(start, end - duration, duration))
            elif start < end:
                return  # a break that can no longer be taken: leave the day as it is
        home = self._point(worker.home_lat, worker.home_lon)
        self.vehicle_of[(worker.worker_id, day)] = len(self.vehicles)
        self.vehicle_key.append((worker.worker_id, day))
        end = (self._point(worker.home_lat, worker.home_lon, ARRIVAL)
               if self.config.optimizer.return_home else None)
        self.vehicles.append(Vehicle(home, end, leave, last, capacity=worker.max_jobs_per_day,
                                     max_service=max_minutes * 60,
                                     breaks=tuple(sorted(breaks, key=lambda b: b.earliest)),
                                     off_duty=off_duty))
        self.initial.append([])

    # ------------------------------------------------------------------ visits

    def _add_jobs(self) -> None:
        scope = self.scope
        for worker in scope.workers:
            for job in scope.plans.get(worker.worker_id, []):
                vehicle = self.vehicle_of.get((worker.worker_id, self.calendar.day(job.start)))
                if vehicle is None:
                    self.kept.setdefault(worker.worker_id, []).append(job)
                    continue
                fixed = job.start < scope.now or job.order_id in scope.locked
                order = scope.orders[job.order_id]
                drop = (self._cost(unassigned_penalty(order, self.config.unassigned))
                        if order.order_id in self.droppable else KEEP)
                visit = self._add_visit(order, drop, fixed_at=job.start if fixed else None,
                                        started=job.start < scope.now)
                if fixed:
                    self.locked.append(Locked(visit, vehicle, job.start))
                self.initial[vehicle].append(visit)

    def _add_pending(self) -> None:
        for order_id in self.scope.pending:
            order = self.scope.orders[order_id]
            if order.link is not None and not self._link_placeable(order):
                continue
            if order.workers_needed > 1 and not self._team_placeable(order):
                continue
            penalty = unassigned_penalty(order, self.config.unassigned)
            for _ in range(order.workers_needed):
                self._add_visit(order, self._cost(penalty))

    def _team_placeable(self, order: Order) -> bool:
        """Whether some service day has as many allowed workers as the team needs (a team no
        set of workers can do is left out: beside locked visits, OR-Tools' first solution
        fails on its visits, and the whole search with it)."""
        workers_on: dict[int, set[str]] = defaultdict(set)
        for vehicle in self._allowed(order):
            worker_id, day = self.vehicle_key[vehicle]
            workers_on[day].add(worker_id)
        return any(len(w) >= order.workers_needed for w in workers_on.values())

    def _link_placeable(self, order: Order) -> bool:
        """A follow-up needs its first order among the visits; a same-worker order needs it
        planned, so that the worker is known."""
        if order.link.kind == LinkType.SAME_WORKER:
            first = order.link.order_id
            team = self.scope.orders[first].workers_needed if first in self.scope.orders else 1
            # (with a member outside the scope, the team's first member may not be known)
            return first in self.worker_of and sum(
                j.order_id == first for jobs in self.scope.plans.values() for j in jobs) == team
        return order.link.order_id in self.visits_of

    def _add_visit(self, order: Order, drop_cost: int, fixed_at: int | None = None,
                   started: bool = False) -> int:
        soft = self.config.lateness_for(order.service_type)
        late_cost = self._cost(soft.penalty_per_minute * self.config.weights.lateness / 60)
        earliest = fixed_at if fixed_at is not None else max(order.earliest_start,
                                                             self.scope.now)
        latest = fixed_at if fixed_at is not None else order.latest_start
        limit = fixed_at if fixed_at is not None else order.latest_start + (
            soft.max_late_minutes * 60)
        vehicles = None if fixed_at is not None else self._allowed(order)
        index = len(self.visits)
        point = self._point(order.lat, order.lon, STARTED if started else "")
        self.visits.append(Visit(point, order.duration,
                                 min(earliest, limit), latest, late_limit=limit,
                                 late_cost=late_cost if limit > latest else 0,
                                 vehicles=vehicles, drop_cost=drop_cost))
        self.visit_order.append(order.order_id)
        self.visits_of[order.order_id].append(index)
        return index

    def _cost(self, score_units: float) -> int:
        """Score units as integer costs: one unit is one second of travel at the travel weight
        (one score unit per hour when that weight is 0)."""
        per_second = (self.config.weights.travel or 1.0) / 3600
        return max(0, round(score_units / per_second))

    def _allowed(self, order: Order) -> tuple[int, ...]:
        """Vehicles (worker-days) that may take ``order``: its nearest eligible workers (or
        the one it must stay with) on the days whose shifts can hold it."""
        keep = self._kept_worker(order)
        if keep is not None:
            rows = [self.table.row[keep]] if keep in self.table.row else []
        else:
            rows = self.nearest.get(order.order_id, np.zeros(0, dtype=np.int64)).tolist()
        last = order.latest_start + self.config.lateness_for(
            order.service_type).max_late_minutes * 60
        out = set()
        for row in rows:
            worker = self.workers[row]
            for shift in worker.shifts:
                start = max(shift.start, order.earliest_start, self.scope.now)
                vehicle = self.vehicle_of.get((worker.worker_id, self.calendar.day(shift.start)))
                if vehicle is not None and start <= last and start + order.duration <= shift.end:
                    out.add(vehicle)
        return tuple(sorted(out))

    def _kept_worker(self, order: Order) -> str | None:
        """The worker a job must stay with: continuity (the customer's preferred worker, or
        one with another job of the customer) or a same-worker link."""
        current = self.worker_of.get(order.order_id)
        if order.link is not None and order.link.kind == LinkType.SAME_WORKER:
            return self.worker_of.get(order.link.order_id) or current
        if current is None or order.workers_needed > 1:
            return None
        if current in order.preferred_worker_ids or order.order_id in self.same_worker_firsts \
                or any(j.customer_id == order.customer_id and j.order_id != order.order_id
                       for j in self.scope.plans.get(current, [])):
            return current
        return None

    def _add_links(self) -> None:
        for order_id, visits in self.visits_of.items():
            for other in visits[1:]:
                self.gaps.append(StartGap(visits[0], other, 0, 0, together=True))
            link = self.scope.orders[order_id].link
            if link is None or link.kind != LinkType.START_GAP:
                continue
            first = self.visits_of.get(link.order_id)
            if first:
                self.gaps.append(StartGap(first[0], visits[0], link.min_gap, link.max_gap,
                                          together=False))

    # ------------------------------------------------------------------ back to plans

    def plans(self, solution: RoutingSolution) -> tuple[dict[str, list[Job]], list[str]]:
        if not solution.found:
            return self.scope.plans, ["the solver found no plan"]
        lost = [self.visit_order[i] for i in solution.dropped if self.visits[i].drop_cost == KEEP]
        if lost:
            return self.scope.plans, [f"the solver dropped planned order {lost[0]}"]
        plans = {w.worker_id: list(self.kept.get(w.worker_id, [])) for w in self.scope.workers}
        for route in solution.routes:
            worker_id, _ = self.vehicle_key[route.vehicle]
            for visit, start in zip(route.visits, route.starts):
                order = self.scope.orders[self.visit_order[visit]]
                plans[worker_id].append(Job(order.order_id, order.customer_id,
                                            order.service_type, order.lat, order.lon, start,
                                            start + order.duration))
        return {w: sorted(jobs, key=lambda j: j.start) for w, jobs in plans.items()}, []


def check_scope(planner: Planner, scope: PlanScope, plans: dict[str, list[Job]]) -> list[str]:
    """Every domain rule the new ``plans`` break, through the same insertion code that dispatch
    uses (each job re-inserted at its planned start after the jobs before it), plus the team
    and link rules."""
    workers = {w.worker_id: w for w in scope.workers}
    table = WorkerTable(scope.workers)
    problems: list[str] = []
    starts: dict[str, list[tuple[int, str]]] = defaultdict(list)
    # a locked job stays valid only while the job before it is the same one
    before = {(w, j.order_id): jobs[i - 1].order_id if i else None
              for w, jobs in scope.plans.items() for i, j in enumerate(jobs)}
    for worker_id, jobs in plans.items():
        kept: list[Job] = []
        for job in jobs:
            order = scope.orders[job.order_id]
            starts[job.order_id].append((job.start, worker_id))
            world = World(table, {worker_id: kept}, scope.blocked or {})
            locked = job.order_id in scope.locked
            same_before = before.get((worker_id, job.order_id), "") == (
                kept[-1].order_id if kept else None)
            if job.start >= scope.now and not (locked and same_before) and not (
                    (locked or _in_window(planner, order, job.start))
                    and planner.still_fits(order, job, workers[worker_id], world)):
                problems.append(f"{worker_id}/{job.order_id} does not fit at {job.start}")
            kept.append(job)
    for order_id, placed in starts.items():
        # a locked order is tied to jobs outside the scope and left as it was: its team is
        # whole outside; its link still binds what the new plans did with its first order
        locked = order_id in scope.locked
        order = scope.orders[order_id]
        if not locked and (len(placed) != order.workers_needed
                           or len({s for s, _ in placed}) != 1
                           or len({w for _, w in placed}) != len(placed)):
            problems.append(f"team order {order_id}: {placed}")
        link = order.link
        first = starts.get(link.order_id) if link else None
        if link and first is None:
            if not locked:
                problems.append(f"{order_id} is planned without its linked order "
                                f"{link.order_id}")
        elif link and link.kind == LinkType.START_GAP and not (
                link.min_gap <= placed[0][0] - first[0][0] <= link.max_gap):
            problems.append(f"{order_id} starts outside its gap after {link.order_id}")
        elif link and link.kind == LinkType.SAME_WORKER and \
                placed[0][1] != min(w for _, w in first):
            problems.append(f"{order_id} is not with the worker of {link.order_id}")
    return problems


def _in_window(planner: Planner, order: Order, start: int) -> bool:
    soft = planner.config.lateness_for(order.service_type)
    return order.earliest_start <= start <= order.latest_start + soft.max_late_minutes * 60


def plan_cost(planner: Planner, scope: PlanScope, plans: dict[str, list[Job]]) -> PlanCost:
    """The re-optimisation objective of ``plans`` from the scope's service day on."""
    config, rules = planner.config, planner.day_rules
    workers = {w.worker_id: w for w in scope.workers}
    today = rules.calendar.day(scope.now)
    day = rules.calendar.day
    travel_s, km, late_s, late_score, placed = 0, 0.0, 0, 0.0, set()
    for worker_id, jobs in plans.items():
        worker, prev = workers[worker_id], None
        home = (worker.home_lat, worker.home_lon)
        for k, job in enumerate(jobs):
            placed.add(job.order_id)
            if day(job.start) < today:
                prev = job
                continue
            same_day = prev is not None and day(prev.start) == day(job.start)
            legs = [((prev.lat, prev.lon) if same_day else home, (job.lat, job.lon))]
            last_of_day = k + 1 == len(jobs) or day(jobs[k + 1].start) != day(job.start)
            if last_of_day and config.optimizer.return_home:
                legs.append(((job.lat, job.lon), home))
            for origin, target in legs:
                seconds, leg_km = rules.leg(*origin, *target)
                travel_s, km = travel_s + int(seconds), km + float(leg_km)
            order = scope.orders[job.order_id]
            late = max(0, job.start - order.latest_start)
            late_s += late
            late_score += late / 60 * config.lateness_for(order.service_type).penalty_per_minute
            prev = job
    unplaced = [o for o in scope.pending if o not in placed]
    total = (travel_s / 3600 * config.weights.travel + late_score * config.weights.lateness
             + sum(unassigned_penalty(scope.orders[o], config.unassigned) for o in unplaced))
    return PlanCost(travel_s, km, late_s, len(unplaced), total)


def _moved(before: dict[str, list[Job]], after: dict[str, list[Job]]) -> int:
    was = {(j.order_id, w, j.start) for w, jobs in before.items() for j in jobs}
    planned = {j.order_id for jobs in before.values() for j in jobs}
    return sum(1 for w, jobs in after.items() for j in jobs
               if j.order_id in planned and (j.order_id, w, j.start) not in was)


def assignment_at(planner: Planner, order: Order, job: Job, worker: Worker,
                  world: World) -> Assignment:
    """The assignment record of ``job`` in its new plan (``world`` holds the worker's other
    jobs): travel legs and score terms as dispatch reports them, lateness from the window."""
    pinned = replace(order, earliest_start=job.start, latest_start=job.start)
    batch = OrderBatch.of([pinned], planner.day_rules.calendar)
    rows = np.array([[world.table.row[worker.worker_id]]], dtype=np.int64)
    km = np.array([[haversine_km(worker.home_lat, worker.home_lon, order.lat, order.lon)]])
    found = planner.search.search_rows(batch, rows, km, world, 0)
    ins = found.insertion(0)
    late_s = max(0, job.start - order.latest_start)
    terms = with_lateness(score_terms(found.values[0], planner.config.weights), late_s,
                          planner.config.lateness_for(order.service_type).penalty_per_minute)
    return Assignment(order.order_id, worker.worker_id, job.start, job.end, ins.travel_s,
                      ins.travel_km, ins.added_travel_s, ins.added_travel_km, terms,
                      planner.config_hash, late_s)
