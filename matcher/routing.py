"""Routing re-optimisation with the OR-Tools routing solver (``pywrapcp``).

A :class:`RoutingProblem` is plain data over integer node indices into a travel-time matrix:
visits with start windows (hard, or soft with a cost per late second up to a hard limit), the
vehicles allowed to do each one, loads; vehicles with a start node, an optional end node, a time
span, a load capacity, a cap on service seconds, break windows and off-duty times; start-gap links between two
visits (a simultaneous pair is a gap of exactly 0) and same-vehicle links; visits locked to a
vehicle and start. Every visit may be optional with a drop cost, so the first solution never
dead-ends on tight windows. :func:`solve` returns routes with start times and the cost split
into its parts; it is used by ``OptimizePlans`` and by the public benchmarks alike. A problem with
start gaps (and no breaks or same-vehicle links) is searched by OR-Tools and by the large
neighbourhood search of :mod:`matcher.lns` in turns, since OR-Tools' moves of one visit at a
time rarely find a place for a visit that must start with another; so is a plain one (no gaps,
e.g. VRPTW; ``LNS_PLAIN``), where the search's string ruins reshape long routes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from matcher import lns


@dataclass(frozen=True, slots=True)
class Visit:
    node: int                  # row and column of the travel matrix
    duration: int              # service time
    earliest: int              # start window
    latest: int                # latest start without a lateness cost
    late_limit: int | None = None  # latest start at all (None: ``latest``, a hard window)
    late_cost: int = 0         # cost per unit of time started after ``latest``
    vehicles: tuple[int, ...] | None = None  # vehicles allowed (None: every vehicle)
    load: int = 1              # against the vehicle's capacity
    drop_cost: int | None = None  # cost of leaving the visit out (None: mandatory)

    @property
    def hard_latest(self) -> int:
        return self.latest if self.late_limit is None else self.late_limit


@dataclass(frozen=True, slots=True)
class BreakWindow:
    """A break of ``duration`` that starts in ``[earliest, latest]``; visits never overlap it
    and travel around it takes longer by its length."""

    earliest: int
    latest: int
    duration: int


@dataclass(frozen=True, slots=True)
class Vehicle:
    start_node: int
    end_node: int | None       # None: the route ends at its last visit (open route)
    start: int                 # earliest departure
    end: int                   # latest end of the route (last service or arrival at the end)
    capacity: int = 0          # total load; 0 = no limit
    max_service: int = 0       # total service time; 0 = no limit
    breaks: tuple[BreakWindow, ...] = ()
    # (begin, end) times off duty: no service overlaps one, but travel may (a gap between
    # shifts, where a worker may drive to the next shift's first job)
    off_duty: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class StartGap:
    """``start(second) - start(first)`` in ``[min_gap, max_gap]`` when both are served. With
    ``together`` both are served or both dropped (a team); otherwise ``second`` is served only
    with ``first`` (a follow-up). A gap of exactly 0 is a simultaneous visit; the two go to
    different vehicles whenever their durations are positive."""

    first: int
    second: int
    min_gap: int
    max_gap: int
    together: bool = True


@dataclass(frozen=True, slots=True)
class SameVehicle:
    """Both visits on one vehicle, ``first`` before ``second``, or both dropped."""

    first: int
    second: int


@dataclass(frozen=True, slots=True)
class Locked:
    """A visit that must stay on ``vehicle`` and start exactly at ``start``."""

    visit: int
    vehicle: int
    start: int


@dataclass(slots=True)
class RoutingProblem:
    travel: np.ndarray                  # (nodes, nodes) travel time, integer
    visits: list[Visit]
    vehicles: list[Vehicle]
    cost: np.ndarray | None = None      # (nodes, nodes) arc cost; None: the travel time
    gaps: list[StartGap] = field(default_factory=list)
    same_vehicle: list[SameVehicle] = field(default_factory=list)
    locked: list[Locked] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Route:
    vehicle: int
    visits: tuple[int, ...]            # visit indices in order
    starts: tuple[int, ...]            # service start of each


@dataclass(frozen=True, slots=True)
class RoutingSolution:
    routes: tuple[Route, ...]          # one per vehicle, possibly empty
    dropped: tuple[int, ...]
    arc_cost: int                      # sum of arc costs over the routes
    lateness_cost: int
    drop_cost: int
    found: bool                        # False: no solution at all (nothing else is meaningful)
    first_solution_s: float | None = None  # search time until the first solution

    @property
    def cost(self) -> int:
        return self.arc_cost + self.lateness_cost + self.drop_cost


# Drop costs and soft-bound costs beyond this would overflow OR-Tools' int64 objective sums.
MAX_COST = 1 << 40
# Vehicles starting (ending) at the same matrix node share one routing node. With one node per
# vehicle, OR-Tools put every vehicle in its own class and tried each empty route separately;
# sharing, at 5 s on one core (CPU-time limit, PARALLEL_CHEAPEST_INSERTION + GLS): R101 +2.02% ->
# +1.28%, RC201 +15.6% -> +3.2%, RC1_2_1 +10.1% -> +5.5%, R1_4_1 +25.3% -> +21.6% (RC101 +5.4%
# -> +9.5%, undone by the iterated local search below), first solution on R1_4_1 0.5-1.0 s ->
# 0.2-0.3 s. False restores one node per vehicle (for comparisons only).
SHARE_DEPOTS = True
# Problems with start gaps (and no breaks or same-vehicle links): OR-Tools from the warm start,
# then LNS_ROUNDS rounds of the large neighbourhood search over linked visits (matcher.lns)
# and OR-Tools again from its answer (kept only if cheaper); the time limit is split by these
# weights. LNS_ROUNDS = 0 leaves them to OR-Tools alone.
FIRST_WEIGHT, LNS_WEIGHT, POLISH_WEIGHT = 0.6, 2.0, 1.0
LNS_ROUNDS = 2
# Plain problems (no start gaps, e.g. VRPTW) take the same turns when True.
LNS_PLAIN = True


def solve(problem: RoutingProblem, time_limit_s: float, *,
          initial: list[list[int]] | None = None, solution_limit: int = 0,
          first_solution: str = "PARALLEL_CHEAPEST_INSERTION", seed: int = 0
          ) -> RoutingSolution:
    """Optimise ``problem`` within ``time_limit_s`` seconds of search.

    ``initial`` (visit indices per vehicle) warm-starts the search when it is feasible; it is
    ignored otherwise. ``solution_limit`` > 0 stops after that many improving solutions, which
    makes the result independent of the machine's speed (the time limit still caps it).

    With start gaps (and no breaks or same-vehicle links), OR-Tools and :mod:`matcher.lns`
    (seeded with ``seed``) take turns, each from the other's answer (see ``LNS_ROUNDS``).
    """
    if not problem.vehicles:
        return _without_vehicles(problem)
    if LNS_ROUNDS and (lns.applicable(problem) or (LNS_PLAIN and lns.handles(problem))):
        began = time.perf_counter()
        weights = [FIRST_WEIGHT] + [LNS_WEIGHT, POLISH_WEIGHT] * LNS_ROUNDS
        shares = np.cumsum(weights) / sum(weights)
        found = _solve_ortools(problem, time_limit_s * shares[0], initial, solution_limit,
                               first_solution)
        if not found.found:  # nothing to start from yet: OR-Tools keeps the rest of the time
            left = time_limit_s - (time.perf_counter() - began)
            return _solve_ortools(problem, max(0.01, left), initial, solution_limit,
                                  first_solution)
        for step, until in enumerate(shares[1:], start=1):
            left = time_limit_s * until - (time.perf_counter() - began)
            if step % 2:
                found = lns.improve(problem, found, max(0.0, left), seed + step // 2,
                                    max_improvements=solution_limit)
            elif left > 0.05:
                polished = _solve_ortools(problem, left, [list(r.visits) for r in found.routes],
                                          solution_limit, first_solution)
                if polished.found and polished.cost < found.cost:
                    found = polished
        return found
    return _solve_ortools(problem, time_limit_s, initial, solution_limit, first_solution)


def _solve_ortools(problem: RoutingProblem, time_limit_s: float,
                   initial: list[list[int]] | None, solution_limit: int,
                   first_solution: str) -> RoutingSolution:
    model = _Model(problem)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(
        routing_enums_pb2.FirstSolutionStrategy, first_solution)
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    # Iterated local search around GLS, ruining 10 visits along a random walk then reinserting
    # them (local cheapest insertion, OR-Tools' default recreate). Measured at 5 s on one core
    # (R101, RC101, RC201, RC1_2_1, R1_4_1; CPU-time limit): mean gap +8.2% -> +6.7% (RC101
    # +9.5% -> +4.4%, R1_4_1 +21.6% -> +19.1%, the others unchanged); SISR or spatially close
    # routes ruins did as well or a little worse (+6.7..+8.1%); identical results at 30 s.
    # With greedy descent instead of GLS it stopped after 0.2-0.4 s on 100 customers.
    params.use_iterated_local_search = True
    params.iterated_local_search_parameters.ruin_recreate_parameters.ruin_strategies.add(
        ).random_walk.num_removed_visits = 10
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    if solution_limit:
        params.solution_limit = solution_limit
    began = time.perf_counter()
    # The callback must not refer to ``model``: OR-Tools holds it from C++, where Python's
    # collector cannot see the cycle model -> routing -> callback -> model, and every model
    # (its matrices, its solver) would live as long as the process.
    first: list[float] = []
    model.routing.AddAtSolutionCallback(
        lambda: first or first.append(time.perf_counter() - began))
    start = model.read_routes(initial) if initial is not None else None
    if start is not None:
        # a search stopped before its first step still has the (feasible) warm start
        found = model.routing.SolveFromAssignmentWithParameters(start, params) or start
    else:
        found = model.routing.SolveWithParameters(params)
    model.first_solution_at = first[0] if first else None
    return model.solution(found)


def _without_vehicles(problem: RoutingProblem) -> RoutingSolution:
    """Every visit dropped (OR-Tools aborts the process on a model without vehicles)."""
    if any(v.drop_cost is None for v in problem.visits):
        return RoutingSolution((), (), 0, 0, 0, False)
    return RoutingSolution((), tuple(range(len(problem.visits))), 0, 0,
                           sum(v.drop_cost for v in problem.visits), True)


class _Model:
    """The pywrapcp model of a problem. Routing nodes: visits ``0..n-1``, then one node per
    distinct vehicle start, then one per distinct vehicle end (open routes end at a node that
    costs nothing to reach). Vehicles that start (end) at the same place share a node, so
    OR-Tools sees identical vehicles as one vehicle class and skips equivalent empty routes."""

    def __init__(self, problem: RoutingProblem) -> None:
        self.problem = problem
        visits, vehicles = problem.visits, problem.vehicles
        n, m = len(visits), len(vehicles)
        self.t0 = min([v.start for v in vehicles] + [v.earliest for v in visits], default=0)
        places = ([("start", v.start_node) for v in vehicles]
                  + [("end", -1 if v.end_node is None else v.end_node) for v in vehicles])
        keys = places if SHARE_DEPOTS else list(enumerate(places))
        node_of = {key: n + j for j, key in enumerate(dict.fromkeys(keys))}
        starts = [node_of[key] for key in keys[:m]]
        ends = [node_of[key] for key in keys[m:]]
        depot_nodes = list(dict(zip(keys, places)).values())
        self.manager = pywrapcp.RoutingIndexManager(n + len(node_of), m, starts, ends)
        self.routing = pywrapcp.RoutingModel(self.manager)
        self.first_solution_at: float | None = None
        self._matrix_node = np.array([v.node for v in visits] + [p[1] for p in depot_nodes],
                                     dtype=np.int64)
        self._service = np.array([v.duration for v in visits] + [0] * len(node_of),
                                 dtype=np.int64)
        self._add_costs()
        self._add_time()
        self._add_capacities()
        self._add_visits()
        self._add_links()

    # -------------------------------------------------------------- model building

    def _node_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """``matrix`` between routing nodes; 0 into an open route's end."""
        nodes = self._matrix_node
        safe = np.where(nodes < 0, 0, nodes)
        out = np.asarray(matrix, dtype=np.int64)[safe[:, None], safe[None, :]]
        out[:, nodes < 0] = 0
        return out

    def _add_costs(self) -> None:
        cost = self.problem.travel if self.problem.cost is None else self.problem.cost
        callback = self.routing.RegisterTransitMatrix(self._node_matrix(cost).tolist())
        self.routing.SetArcCostEvaluatorOfAllVehicles(callback)

    def _add_time(self) -> None:
        problem, routing, t0 = self.problem, self.routing, self.t0
        transit = self._node_matrix(problem.travel) + self._service[:, None]
        callback = routing.RegisterTransitMatrix(transit.tolist())
        horizon = max([v.end for v in problem.vehicles]
                      + [v.hard_latest + v.duration for v in problem.visits]) - t0
        routing.AddDimension(callback, horizon, horizon, False, "time")
        self.time = routing.GetDimensionOrDie("time")
        for k, vehicle in enumerate(problem.vehicles):
            self.time.CumulVar(routing.Start(k)).SetRange(vehicle.start - t0, vehicle.end - t0)
            self.time.CumulVar(routing.End(k)).SetRange(vehicle.start - t0, vehicle.end - t0)
            # minimise each route's end, so the routes are tight and waiting is not invented
            routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(routing.End(k)))
        self._add_breaks()
        self._add_off_duty()

    def _add_breaks(self) -> None:
        problem, routing, solver = self.problem, self.routing, self.routing.solver()
        if not any(v.breaks for v in problem.vehicles):
            return
        visit_transit = [int(self._service[self.manager.IndexToNode(i)])
                         for i in range(routing.Size())]
        for k, vehicle in enumerate(problem.vehicles):
            intervals = [solver.FixedDurationIntervalVar(
                b.earliest - self.t0, b.latest - self.t0, b.duration, False, f"break {k}.{j}")
                for j, b in enumerate(vehicle.breaks)]
            if intervals:
                self.time.SetBreakIntervalsOfVehicle(intervals, k, visit_transit)

    def _add_off_duty(self) -> None:
        """A visit on a vehicle ends before each of its off-duty times or starts after it
        (locked visits are where they are; a visit whose window cannot meet the time is not
        bound by it)."""
        problem, routing, t0 = self.problem, self.routing, self.t0
        if not any(v.off_duty for v in problem.vehicles):
            return
        solver, locked = routing.solver(), {lock.visit for lock in problem.locked}
        for i, visit in enumerate(problem.visits):
            if i in locked:
                continue
            index = self.manager.NodeToIndex(i)
            cumul, vehicle_var = self.time.CumulVar(index), routing.VehicleVar(index)
            allowed = (range(len(problem.vehicles)) if visit.vehicles is None
                       else visit.vehicles)
            for k in allowed:
                for begin, end in problem.vehicles[k].off_duty:
                    if (visit.hard_latest + visit.duration <= begin or visit.earliest >= end):
                        continue
                    before = solver.IsLessOrEqualCstVar(cumul, begin - visit.duration - t0)
                    after = solver.IsGreaterOrEqualCstVar(cumul, end - t0)
                    solver.Add(solver.IsEqualCstVar(vehicle_var, k) <= before + after)

    def _add_capacities(self) -> None:
        problem, routing = self.problem, self.routing
        for name, per_visit, limit in (
                ("load", [v.load for v in problem.visits], [v.capacity for v in problem.vehicles]),
                ("service", [v.duration for v in problem.visits],
                 [v.max_service for v in problem.vehicles])):
            if not any(limit):
                continue
            values = per_visit + [0] * (self.manager.GetNumberOfNodes() - len(per_visit))
            callback = routing.RegisterUnaryTransitVector(values)
            total = sum(per_visit) + 1
            routing.AddDimensionWithVehicleCapacity(
                callback, 0, [c if c > 0 else total for c in limit], True, name)

    def _add_visits(self) -> None:
        problem, routing, t0 = self.problem, self.routing, self.t0
        locked = {lock.visit: lock for lock in problem.locked}
        for i, visit in enumerate(problem.visits):
            index = self.manager.NodeToIndex(i)
            cumul = self.time.CumulVar(index)
            lock = locked.get(i)
            if lock is not None:
                cumul.SetValue(lock.start - t0)
                routing.VehicleVar(index).SetValue(lock.vehicle)
                continue
            cumul.SetRange(visit.earliest - t0, visit.hard_latest - t0)
            if visit.late_cost and visit.hard_latest > visit.latest:
                self.time.SetCumulVarSoftUpperBound(index, visit.latest - t0, visit.late_cost)
            if visit.drop_cost is not None:
                routing.AddDisjunction([index], min(visit.drop_cost, MAX_COST))
            if visit.vehicles is not None:
                optional = [-1] if visit.drop_cost is not None else []
                routing.VehicleVar(index).SetValues(optional + list(visit.vehicles))

    def _add_links(self) -> None:
        routing, solver = self.routing, self.routing.solver()
        index = self.manager.NodeToIndex
        for gap in self.problem.gaps:
            a, b = index(gap.first), index(gap.second)
            active_a, active_b = routing.ActiveVar(a), routing.ActiveVar(b)
            solver.Add(active_a == active_b if gap.together else active_b <= active_a)
            delta = self.time.CumulVar(b) - self.time.CumulVar(a)
            solver.Add(active_b * (delta - gap.min_gap) >= 0)
            solver.Add(active_b * (gap.max_gap - delta) >= 0)
        for link in self.problem.same_vehicle:
            # as a pickup and delivery, so that insertions and moves take the pair together
            a, b = index(link.first), index(link.second)
            routing.AddPickupAndDelivery(a, b)
            solver.Add(routing.ActiveVar(a) == routing.ActiveVar(b))
            solver.Add(routing.VehicleVar(a) == routing.VehicleVar(b))
            solver.Add(self.time.CumulVar(a) <= self.time.CumulVar(b))

    # -------------------------------------------------------------- solutions

    def read_routes(self, routes: list[list[int]]):
        """An assignment from visit indices per vehicle, or None when it is infeasible."""
        as_indices = [[self.manager.NodeToIndex(i) for i in route] for route in routes]
        return self.routing.ReadAssignmentFromRoutes(as_indices, True)

    def solution(self, found) -> RoutingSolution:
        if found is None:
            return RoutingSolution((), (), 0, 0, 0, False)
        routing, problem = self.routing, self.problem
        cost = self._node_matrix(problem.travel if problem.cost is None else problem.cost)
        routes, served, arc_cost, late = [], set(), 0, 0
        for k in range(len(problem.vehicles)):
            index, visits, starts = routing.Start(k), [], []
            while not routing.IsEnd(index):
                nxt = found.Value(routing.NextVar(index))
                arc_cost += int(cost[self.manager.IndexToNode(index),
                                     self.manager.IndexToNode(nxt)])
                index = nxt
                if not routing.IsEnd(index):
                    i = self.manager.IndexToNode(index)
                    start = found.Value(self.time.CumulVar(index)) + self.t0
                    visits.append(i)
                    starts.append(start)
                    served.add(i)
                    visit = problem.visits[i]
                    late += visit.late_cost * max(0, start - visit.latest)
            routes.append(Route(k, tuple(visits), tuple(starts)))
        dropped = tuple(i for i in range(len(problem.visits)) if i not in served)
        drop = sum(problem.visits[i].drop_cost or 0 for i in dropped)
        return RoutingSolution(tuple(routes), dropped, arc_cost, late, drop, True,
                               self.first_solution_at)
