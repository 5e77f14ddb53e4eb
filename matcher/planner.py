"""The pure, synchronous planner: batch rounds, instant placement, explanations.

It takes ``now`` as an argument, reads nothing but its inputs and returns new day plans instead
of writing anywhere, so the server (wall clock) and the simulator (simulated clock) drive the same
code, and the same inputs always give the same assignments.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from geo import TravelModel, haversine_km
from geo.matrix import PointMatrix
from matcher.candidates import FEASIBLE, CandidateSearch, Candidates, Priced
from matcher.config import DispatchConfig
from matcher.credit import Tiers
from matcher.coupled import CoupledPlacer, Searches, is_coupled
from matcher.eligibility import ALL_CHECKS, SLOT_CHECKS, StaticRules
from matcher.insertion import DayRules, Insertion
from matcher.matching import SCALE, Edges, heaviest_per_order, solve_round
from matcher.model import (Assignment, Job, LinkType, Order, ScoreTerm, Unassigned,
                           UnassignedReason, Worker)
from matcher.order_batch import OrderBatch
from matcher.scoring import score_terms, unassigned_penalty, weight_vector
from matcher.service_day import ServiceCalendar
from matcher.world import World

# Nearest certified workers examined first per order; widened while too few are feasible.
FIRST_POOL = 48


@dataclass(frozen=True, slots=True)
class Candidate:
    worker_id: str
    insertion: Insertion
    terms: tuple[ScoreTerm, ...]

    @property
    def score(self) -> float:
        return sum(t.contribution for t in self.terms)


@dataclass(frozen=True, slots=True)
class DispatchResult:
    assignments: list[Assignment]
    unassigned: list[Unassigned]
    plans: dict[str, list[Job]]  # the day plans that changed, whole
    rounds: int
    solve_seconds: float
    # unplaced orders found without any feasible worker (searched to the service radius), not
    # merely outbid: what :mod:`matcher.infeasible_memo` may remember
    exhausted: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Explanation:
    total_workers: int
    ruled_out: dict[str, int]    # every check in ALL_CHECKS order
    candidates: list[Candidate]  # every feasible worker, best score first


class Planner:
    """Dispatch decisions under one config."""

    def __init__(self, config: DispatchConfig, matrix: PointMatrix | None = None) -> None:
        self.config = config
        self.config_hash = config.hash
        calendar = ServiceCalendar(config.service.timezone)
        travel = TravelModel(config.travel.detour_factor, config.travel.speed_kmh)
        self.day_rules = DayRules(travel, calendar, config.limits.max_work_minutes_per_day,
                                  matrix)
        self._weights = weight_vector(config.weights)
        self.tiers = Tiers(config)
        self.search = CandidateSearch(StaticRules.of(config), self.day_rules, self._weights,
                                      dict(config.lateness), self.tiers.bonus)
        self.coupled = CoupledPlacer(self)

    def dispatch(self, orders: Sequence[Order], world: World, now: int,
                 first: Candidates | None = None) -> DispatchResult:
        """Batch rounds over ``orders`` until a round places nothing (at most
        ``solver.max_rounds``).

        Each round is an exact max-weight matching (one order per worker per round). An order
        without any feasible worker leaves the loop at once: a fuller day never opens a slot.
        ``orders`` are pending ones, in no plan of ``world``. ``first``: round 1's candidates
        when already found (what the search of round 1 would give: see :meth:`dispatch_each`).
        """
        if (len(orders) == 1 and not is_coupled(orders[0])
                and self._hard_latest(orders[0]) >= now and self.config.solver.max_rounds > 0):
            # one plain order (an instant one): round 1 without the rounds' bookkeeping
            if first is None:
                first = self.search.search(list(orders), world, now,
                                           self.config.solver.candidates_per_order, FIRST_POOL)
            started = time.perf_counter()
            pick = int(self._picks([orders[0]], first)[0])
            result = self._found_alone(orders[0], world, first, 0, pick,
                                       time.perf_counter() - started)
            if result is not None:
                return result
        return self._rounds(orders, world, now, first)

    def _rounds(self, orders: Sequence[Order], world: World, now: int,
                first: Candidates | None) -> DispatchResult:
        """:meth:`dispatch` as its rounds run it (what it does for any orders)."""
        live = world.copy()
        live_orders = [o for o in orders if self._hard_latest(o) >= now]
        # an order that others follow by a start gap is placed with them, not in the matching
        firsts = {o.link.order_id for o in live_orders
                  if o.link is not None and o.link.kind == LinkType.START_GAP}
        pending = [o for o in live_orders if not is_coupled(o) and o.order_id not in firsts]
        coupled = [o for o in live_orders if is_coupled(o) or o.order_id in firsts]
        verdicts: dict[str, Unassigned] = {}
        exhausted: set[str] = set()
        ever_feasible: set[str] = set()
        assignments: list[Assignment] = []
        changed: set[str] = set()
        rounds, solve_seconds = 0, 0.0
        searches = self.coupled.searches(live, now)
        while (pending or coupled) and rounds < self.config.solver.max_rounds:
            rounds += 1
            found = first if rounds == 1 and first is not None else self.search.search(
                pending, live, now, self.config.solver.candidates_per_order, FIRST_POOL)
            started = time.perf_counter()
            picks = self._match(pending, found)
            solve_seconds += time.perf_counter() - started
            for e, insertion in zip(picks.tolist(), found.insertions(picks)):
                assignments.append(self._commit(pending[found.order[e]], found, e, insertion,
                                                live))
                changed.add(assignments[-1].worker_id)
            has_any = np.bincount(found.order, minlength=len(pending)) > 0
            placed = set(found.order[picks].tolist())
            for i, order in enumerate(pending):
                if has_any[i]:
                    ever_feasible.add(order.order_id)
                elif order.order_id not in ever_feasible:
                    verdicts[order.order_id] = self._no_worker(order, found, i)
                    exhausted.add(order.order_id)
            pending = [o for i, o in enumerate(pending) if has_any[i] and i not in placed]
            coupled, placed_coupled = self._place_coupled(coupled, live, now, assignments,
                                                          changed, verdicts, exhausted,
                                                          searches)
            if len(picks) == 0 and not placed_coupled:
                break
        else:  # no break: solver.max_rounds ran out (or nothing is left)
            self._cut_by_round_limit(pending, verdicts)
        placed_ids = {a.order_id for a in assignments}
        unassigned = [self._verdict(o, now, verdicts) for o in orders
                      if o.order_id not in placed_ids]
        return DispatchResult(assignments, unassigned, {w: live.plans[w] for w in sorted(changed)},
                              rounds, solve_seconds,
                              frozenset(exhausted & {u.order_id for u in unassigned}))

    def _found_alone(self, order: Order, world: World, found: Candidates, i: int, pick: int,
                     solve_seconds: float) -> DispatchResult | None:
        """What :meth:`dispatch` of this one plain, live ``order`` gives when ``found`` holds
        its round-1 candidates as searched order ``i`` and ``pick`` is its choice among them
        (:meth:`_picks`), without a copy of ``world`` or the rounds' bookkeeping: that
        candidate placed, or (no candidate) why not. None when it has candidates but the
        round takes none (the rounds say why)."""
        if pick >= 0:
            assignment, jobs = self._assigned(order, found, pick, found.insertion(pick),
                                              world)
            return DispatchResult([assignment], [], {assignment.worker_id: jobs}, 1,
                                  solve_seconds, frozenset())
        if i in found.order:
            return None
        return DispatchResult([], [self._no_worker(order, found, i)], {}, 1, solve_seconds,
                              frozenset({order.order_id}))

    def _picks(self, orders: list[Order], found: Candidates) -> np.ndarray:
        """Per order of ``found`` (searched in the order of ``orders``), the candidate a round
        of that order alone takes: its heaviest (-1: none worth more than leaving it out)."""
        # (float64 whatever the config's numbers: one compiled signature)
        penalties = np.array([unassigned_penalty(o, self.config.unassigned) for o in orders],
                             dtype=np.float64)
        return heaviest_per_order(found.order, found.values, self._weights, penalties, SCALE,
                                  len(orders))

    def dispatch_each(self, orders: Sequence[Order], world: World, now: int,
                      settle: Callable[[str, list[Job]], list[Job]] | None = None
                      ) -> list[DispatchResult]:
        """``dispatch([order], ...)`` of each order in turn, each in ``world`` with the plans
        the earlier ones changed (``settle(worker_id, jobs)``: what the world holds for a plan
        a result changed, when not the plan itself); ``world`` itself is not changed.

        The same results, cheaper: the first search of every order that is not a team or
        linked one is one vectorised search up front (per-call overhead dominates the search
        of one order), and an order's share of it stands for its own first search unless a
        worker it priced got a job from an earlier order meanwhile (then it is searched again
        alone).
        """
        live = world.copy()
        alone = [i for i, o in enumerate(orders)
                 if not is_coupled(o) and self._hard_latest(o) >= now]
        prefound: dict[int, int] = {}  # order position -> its position in the search
        limit = self.config.solver.candidates_per_order
        if len(alone) > 1 and self.config.solver.max_rounds > 0:
            searched: list[np.ndarray] = []
            kept: list[Priced] = []
            found = self.search.search([orders[i] for i in alone], live, now, limit,
                                       FIRST_POOL, searched, kept)
            started = time.perf_counter()
            picks = self._picks([orders[i] for i in alone], found).tolist()
            solve_seconds = (time.perf_counter() - started) / len(alone)
            prefound = {i: k for k, i in enumerate(alone)}
        results = []
        for i, order in enumerate(orders):
            result = None
            first = None
            if i in prefound:
                k = prefound[i]
                # (a set, not np.isin: its fixed cost was most of this on a few dozen rows)
                moved = set(live.moved)
                if moved and not moved.isdisjoint(searched[k].tolist()):
                    # priced a worker whose plan changed since: those pairs again (or, when
                    # its widening would now stop sooner, a search again)
                    first = self.search.refresh(kept[k], moved, live, now, limit, FIRST_POOL)
                else:
                    # its share of the search stands: its choice is the one made up front
                    result = self._found_alone(order, live, found, k, picks[k], solve_seconds)
                    first = found.of_order(k) if result is None else None
            if result is None:
                result = self.dispatch([order], live, now, first)
            for worker_id, jobs in result.plans.items():
                live.place(worker_id, jobs if settle is None else settle(worker_id, jobs))
            results.append(result)
        return results

    def _place_coupled(self, orders: list[Order], live: World, now: int,
                       assignments: list[Assignment], changed: set[str],
                       verdicts: dict[str, Unassigned], exhausted: set[str],
                       searches: Searches) -> tuple[list[Order], int]:
        """Team and linked orders, one at a time, higher priority first; the ones left to try
        in the next round and how many were placed (``exhausted`` gets the ones found without
        enough feasible workers: they leave the loop, as a fuller day never opens a slot)."""
        placed = 0
        # the orders of a dispatch are in no plan (pending) until it places them: this set,
        # not the world's index over every plan (rebuilding that costs a read of the city)
        done = {a.order_id for a in assignments}
        searches.prefetch(orders)
        for order in sorted(orders, key=lambda o: -o.priority):
            if order.order_id in done:
                continue  # went in with the order it follows
            followers = [o for o in orders if o.link is not None and o.link.kind ==
                         LinkType.START_GAP and o.link.order_id == order.order_id
                         and o.order_id not in done]
            outcome = self.coupled.place_with(order, followers, live, now, searches)
            if outcome.assignments:
                assignments += outcome.assignments
                changed.update(a.worker_id for a in outcome.assignments)
                for order_id in {a.order_id for a in outcome.assignments}:
                    verdicts.pop(order_id, None)
                    placed += 1
                done.update(a.order_id for a in outcome.assignments)
            else:
                verdicts[order.order_id] = outcome.unassigned
            if outcome.exhausted:
                exhausted.add(order.order_id)
        left = [o for o in orders if o.order_id not in done and o.order_id not in exhausted]
        return left, placed

    def _cut_by_round_limit(self, pending: list[Order], verdicts: dict[str, Unassigned]) -> None:
        """The orders with feasible workers still left when the rounds ran out: no round
        refused them, the limit did (team and linked orders keep their last attempt's
        reason)."""
        limit = self.config.solver.max_rounds
        for order in pending:
            verdicts[order.order_id] = Unassigned(
                order.order_id, UnassignedReason.ROUND_LIMIT,
                f"feasible workers remained when the dispatch stopped after {limit} rounds "
                "(solver.max_rounds); the next dispatch tries again")

    def _match(self, orders: list[Order], found: Candidates) -> np.ndarray:
        penalties = np.array([unassigned_penalty(o, self.config.unassigned) for o in orders])
        weight = found.values @ self._weights + penalties[found.order]
        return solve_round(Edges(found.order, found.row, weight))

    def _commit(self, order: Order, found: Candidates, e: int, ins: Insertion,
                world: World) -> Assignment:
        assignment, jobs = self._assigned(order, found, e, ins, world)
        world.place(assignment.worker_id, jobs)
        return assignment

    def _assigned(self, order: Order, found: Candidates, e: int, ins: Insertion,
                  world: World) -> tuple[Assignment, list[Job]]:
        """The assignment of candidate ``e`` (inserted by ``ins``) and its worker's plan with
        the job in (``world`` unchanged)."""
        worker_id = world.table.workers[found.row[e]].worker_id
        jobs = list(world.plans.get(worker_id, []))
        jobs.insert(ins.position, Job(order.order_id, order.customer_id, order.service_type,
                                      order.lat, order.lon, ins.start, ins.end))
        return Assignment(order.order_id, worker_id, ins.start, ins.end, ins.travel_s,
                          ins.travel_km, ins.added_travel_s, ins.added_travel_km,
                          score_terms(found.values[e], self.config.weights), self.config_hash,
                          ins.late_s), jobs

    def _no_worker(self, order: Order, found: Candidates, i: int) -> Unassigned:
        radius = self.config.limits.service_radius_km
        if found.eligible[i] == 0:
            return Unassigned(order.order_id, UnassignedReason.NO_ELIGIBLE_WORKER,
                              f"no worker within {radius:g} km passes the hard constraints "
                              "(status, skill, level, certificate, credit, blocks, tags); "
                              "ExplainOrder counts them")
        refused = dict(zip(SLOT_CHECKS, found.refused[i].tolist()))
        others = sum(n for name, n in refused.items() if name != "daily_limit")
        only_limits = refused["daily_limit"] > 0 and others == 0
        reason = (UnassignedReason.DAILY_LIMIT if only_limits
                  else UnassignedReason.NO_FEASIBLE_SLOT)
        detail = ", ".join(f"{name}: {n}" for name, n in refused.items() if n)
        return Unassigned(order.order_id, reason,
                          f"{found.eligible[i]} eligible workers, none with a free slot "
                          f"(refused by {detail})")

    def _hard_latest(self, order: Order) -> int:
        """The latest start allowed at all: the window's end plus the soft lateness."""
        return order.latest_start + self.search.max_late_s(order.service_type)

    def _verdict(self, order: Order, now: int, verdicts: dict[str, Unassigned]) -> Unassigned:
        if self._hard_latest(order) < now:
            return Unassigned(order.order_id, UnassignedReason.EXPIRED,
                              "the start window ended before dispatch")
        return verdicts.get(order.order_id) or Unassigned(
            order.order_id, UnassignedReason.OUTBID,
            "feasible workers went to higher-value orders in this dispatch")

    def still_fits(self, order: Order, job: Job, worker: Worker, world: World) -> bool:
        """Whether ``job`` (of ``order``) still fits at its planned start after the jobs in
        ``world.plans`` for ``worker``: the check applied when a worker's data changes."""
        return self.still_fit_many([(order, job, worker)], world)[0]

    def still_eligible(self, order: Order, job: Job, worker: Worker, world: World) -> bool:
        """Whether ``worker`` (a row of ``world``) still passes every static check for
        ``job`` (of ``order``): its status, skill and certificate, credit floor, the
        customer's blocks, tags and the radius. What a job whose planned start has passed
        but that has not started needs to stay with its worker (its slot is not checked
        again: the worker may be on the way)."""
        pinned = replace(order, earliest_start=job.start, latest_start=job.start)
        rows = np.array([[world.table.row[worker.worker_id]]], dtype=np.int64)
        km = np.array([[haversine_km(worker.home_lat, worker.home_lon, order.lat, order.lon)]])
        return bool(self.search.static.passing(OrderBatch.of([pinned], self.day_rules.calendar),
                                               world.table, rows, km,
                                               [world.blocked_for(pinned)])[0, 0])

    def still_fit_many(self, checks: Sequence[tuple[Order, Job, Worker]],
                       world: World) -> list[bool]:
        """:meth:`still_fits` of each (order, job, worker), every worker a different row of
        ``world``, priced together (each pair on its own: the answers are those of separate
        calls)."""
        by_type: dict[str, list[int]] = {}
        for i, (order, _, _) in enumerate(checks):
            by_type.setdefault(order.service_type, []).append(i)
        blocks = []
        for positions in by_type.values():
            pinned = [replace(order, earliest_start=job.start, latest_start=job.start)
                      for order, job, _ in map(checks.__getitem__, positions)]
            batch = OrderBatch.of(pinned, self.day_rules.calendar)  # pinned: no lateness
            rows = np.array([[world.table.row[checks[i][2].worker_id]] for i in positions],
                            dtype=np.int64)
            km = np.array([[haversine_km(w.home_lat, w.home_lon, o.lat, o.lon)]
                           for o, _, w in map(checks.__getitem__, positions)])
            blocks.append((batch, rows, km))
        fits = [False] * len(checks)
        for positions, pairs in zip(by_type.values(),
                                    self.search.evaluate_many(blocks, world, 0)):
            for k, i in enumerate(positions):
                fits[i] = bool(pairs.code[k, 0] == FEASIBLE
                               and pairs.start[k, 0] == checks[i][1].start)
        return fits

    def explain(self, order: Order, world: World, now: int) -> Explanation:
        """Every worker of the city through the constraint funnel; feasible ones scored."""
        table = world.table
        batch = OrderBatch.of([order], self.day_rules.calendar,
                              self.search.max_late_s(order.service_type))
        rows = np.arange(len(table), dtype=np.int64)[None, :]
        km = np.asarray(haversine_km(table.lat, table.lon, order.lat, order.lon))[None, :]
        counts, alive = self.search.static.funnel(batch, table, rows, km,
                                                  [world.blocked_for(order)])
        found = self.search.search_rows(batch, rows[alive][None, :], km[alive][None, :],
                                        world, now)
        counts.update(zip(SLOT_CHECKS, found.refused[0].tolist()))
        everyone = np.arange(len(found.row))
        candidates = [Candidate(table.workers[r].worker_id, ins,
                                score_terms(found.values[e], self.config.weights))
                      for e, (r, ins) in enumerate(zip(found.row, found.insertions(everyone)))]
        candidates.sort(key=lambda c: (-c.score, c.worker_id))
        return Explanation(len(table), {name: counts[name] for name in ALL_CHECKS}, candidates)
