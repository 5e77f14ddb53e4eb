"""Orders placed together with others: team jobs (several workers starting at one time) and
linked orders (the worker of another order, or a start a set time after it).

They do not fit a matching in which each order takes one worker, so every round places them one
at a time after its matching, higher priority first:

- a linked order waits until the order it is linked to has a worker. A follow-up's start window
  is then narrowed to ``[first start + min_gap, first start + max_gap]`` (inside its own window
  and soft lateness); a same-worker order is tried on that worker only.
- a team job of N workers tries, as common start times, the starts its feasible workers could
  each take; at each time it prices the order pinned to that time for every one of them, and
  takes the time where its N best-scoring workers score highest together (ties: the earlier).

Lateness is always measured against the order's own window, whatever window the search used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from geo import haversine_km
from matcher.candidates import CandidateSearch, Candidates
from matcher.eligibility import SLOT_CHECKS
from matcher.model import (Assignment, Job, LinkType, Order, ScoreTerm, Unassigned,
                           UnassignedReason)
from matcher.order_batch import OrderBatch
from matcher.scoring import TERMS, score_terms
from matcher.world import World

# Nearest certified workers examined first per order (as in the rounds).
FIRST_POOL = 48


def is_coupled(order: Order) -> bool:
    return order.workers_needed > 1 or order.link is not None


@dataclass(frozen=True, slots=True)
class Placement:
    assignments: list[Assignment]      # empty when the order was not placed
    unassigned: Unassigned | None = None
    # not placed because fewer workers than it needs have any feasible slot (a search to the
    # service radius); a linked order never is (it depends on its linked order's placement)
    exhausted: bool = False


class Searches:
    """The first searches of the team and first-of-a-pair orders of one dispatch (in the world
    the dispatch changes, at its ``now``), kept while none of the workers they priced changes
    plan: such an order is tried in every round until it is placed, and its pairs only change
    where a worker's plan did. :meth:`prefetch` searches a round's orders in one vectorised
    search, which gives each order what a search of it alone gives."""

    def __init__(self, search: CandidateSearch, world: World, now: int, limit) -> None:
        self.search, self.world, self.now, self.limit = search, world, now, limit
        # order id -> (the order, its candidates, the rows priced, len(world.moved) then)
        self._kept: dict[str, tuple[Order, Candidates, np.ndarray, int]] = {}

    def prefetch(self, orders: list[Order]) -> None:
        """Search the ``orders`` (ones with no link) whose kept search is stale, together."""
        stale = [o for o in orders if o.link is None and self._fresh(o) is None]
        for limit in sorted({self.limit(o) for o in stale}):
            self._search([o for o in stale if self.limit(o) == limit], limit)

    def of(self, order: Order) -> Candidates:
        """What ``search.search([order], world, now, limit, FIRST_POOL)`` gives now."""
        found = self._fresh(order)
        if found is None:
            found = self._search([order], self.limit(order))[0]
        return found

    def _fresh(self, order: Order) -> Candidates | None:
        kept = self._kept.get(order.order_id)
        if kept is None or kept[0] is not order:
            return None
        _, found, rows, mark = kept
        moved = self.world.moved[mark:]
        if moved and np.isin(rows, moved).any():
            return None
        return found

    def _search(self, orders: list[Order], limit: int) -> list[Candidates]:
        searched: list[np.ndarray] = []
        mark = len(self.world.moved)
        found = self.search.search(orders, self.world, self.now, limit, FIRST_POOL, searched)
        each = [found] if len(orders) == 1 else [found.of_order(i) for i in range(len(orders))]
        for order, mine, rows in zip(orders, each, searched):
            self._kept[order.order_id] = (order, mine, rows, mark)
        return each


class CoupledPlacer:
    def __init__(self, planner) -> None:
        self.planner = planner
        self.search: CandidateSearch = planner.search
        # the same search with hard windows, for orders pinned to a time or a narrowed window
        self.exact = CandidateSearch(planner.search.static, planner.day_rules,
                                     planner.search.weights,
                                     credit_bonus=planner.search.credit_bonus)

    def searches(self, world: World, now: int) -> Searches:
        """A dispatch's kept searches, for :meth:`place_with` and :meth:`place`."""
        return Searches(self.search, world, now, self._limit)

    def place(self, order: Order, world: World, now: int,
              searches: Searches | None = None) -> Placement:
        """Place ``order`` (and its whole team) into ``world``, or say why not (``searches``:
        the dispatch's kept searches in ``world`` at ``now``)."""
        link, first = order.link, []
        if link is not None:
            first = world.placed(link.order_id)
            if not first:
                return Placement([], Unassigned(
                    order.order_id, UnassignedReason.LINKED_ORDER,
                    f"waits until its linked order {link.order_id} has a worker"))
        if link is not None and link.kind == LinkType.SAME_WORKER:
            found = self._on_worker(order, first[0][0], world, now)
        elif link is not None:
            narrowed = self._narrowed(order, first[0][1].start)
            if narrowed is None:
                return Placement([], Unassigned(
                    order.order_id, UnassignedReason.NO_FEASIBLE_SLOT,
                    f"its start window and the gap after {link.order_id} do not meet"))
            found = self.exact.search([narrowed], world, now, self._limit(order), FIRST_POOL)
        else:
            found = self._first_search(order, world, now, searches)
        if order.workers_needed == 1:
            if len(found.row) == 0:
                return Placement([], self.planner._no_worker(order, found, 0), link is None)
            best = int(np.argmax(found.values @ self.search.weights))
            return Placement([self._commit(order, found, best, world)])
        return self._team(order, found, world, now)

    def _first_search(self, order: Order, world: World, now: int,
                      searches: Searches | None) -> Candidates:
        if searches is None:
            return self.search.search([order], world, now, self._limit(order), FIRST_POOL)
        return searches.of(order)

    def place_with(self, order: Order, followers: list[Order], world: World,
                   now: int, searches: Searches | None = None) -> Placement:
        """``order`` together with ``followers``, the orders of this dispatch that start a gap
        after it: placing it alone at its best slot can leave no room for them, so its start
        times are tried (its own best first, then every start at which a follower could go,
        earliest first) until all followers fit after it; failing that, it goes alone."""
        if order.workers_needed > 1 or order.link is not None or not followers:
            return self.place(order, world, now, searches)
        found = self._first_search(order, world, now, searches)
        if len(found.row) == 0:
            return Placement([], self.planner._no_worker(order, found, 0), True)
        rows = np.unique(found.row)[None, :]
        for t in self._pair_times(order, found, followers, world, now):
            pinned = replace(order, earliest_start=t, latest_start=t)
            at = self.exact.search_rows(OrderBatch.of([pinned], self.planner.day_rules.calendar),
                                        rows, self._km(order, rows, world), world, now)
            if len(at.row) == 0:
                continue
            before = dict(world.plans)
            placed = [self._commit(order, at, int(np.argmax(at.values @ self.search.weights)),
                                   world)]
            for follower in followers:
                placed += self.place(follower, world, now).assignments
            if {a.order_id for a in placed} == {order.order_id} | {f.order_id for f in followers}:
                return Placement(placed)
            for worker_id in {a.worker_id for a in placed}:
                world.place(worker_id, before.get(worker_id, []))
        return self.place(order, world, now, searches)

    def _pair_times(self, order: Order, found: Candidates, followers: list[Order],
                    world: World, now: int) -> list[int]:
        best = int(found.slot["start"][int(np.argmax(found.values @ self.search.weights))])
        hard = order.latest_start + self.search.max_late_s(order.service_type)
        times = set(found.slot["start"].tolist())
        for follower in followers:
            alone = self.search.search([replace(follower, link=None)], world, now,
                                       self._limit(follower), FIRST_POOL)
            for start in alone.slot["start"].tolist():
                times.update((start - follower.link.min_gap, start - follower.link.max_gap))
        ok = sorted(t for t in times if order.earliest_start <= t <= hard and t != best)
        return [best] + ok

    def _limit(self, order: Order) -> int:
        return max(self.planner.config.solver.candidates_per_order, 4 * order.workers_needed)

    def _narrowed(self, order: Order, first_start: int) -> Order | None:
        """The follow-up's window after its first order started at ``first_start``."""
        link = order.link
        hard = order.latest_start + self.search.max_late_s(order.service_type)
        lo = max(order.earliest_start, first_start + link.min_gap)
        hi = min(hard, first_start + link.max_gap)
        return replace(order, earliest_start=lo, latest_start=hi, link=None) if lo <= hi else None

    def _on_worker(self, order: Order, worker_id: str, world: World, now: int) -> Candidates:
        row = world.table.row.get(worker_id)
        rows = np.array([[row]] if row is not None else [[]], dtype=np.int64).reshape(1, -1)
        batch = OrderBatch.of([order], self.planner.day_rules.calendar,
                              self.search.max_late_s(order.service_type))
        return self.search.search_rows(batch, rows, self._km(order, rows, world), world, now)

    @staticmethod
    def _km(order: Order, rows: np.ndarray, world: World) -> np.ndarray:
        table = world.table
        return np.asarray(haversine_km(table.lat[rows], table.lon[rows], order.lat, order.lon),
                          dtype=np.float64).reshape(rows.shape)

    def _team(self, order: Order, found: Candidates, world: World, now: int) -> Placement:
        need = order.workers_needed
        rows = np.unique(found.row)
        if len(rows) < need:
            return Placement([], Unassigned(
                order.order_id, _short_team_reason(found, len(rows)), f"a team of {need} is "
                f"needed; {found.eligible[0]} workers are eligible and {len(rows)} have a free "
                "slot"), order.link is None)
        best = None
        times = sorted(set(found.slot["start"].tolist()))
        # every time priced in one search (each pair on its own: as one search per time)
        batch = OrderBatch.of([replace(order, earliest_start=t, latest_start=t, link=None)
                               for t in times], self.planner.day_rules.calendar)
        block = np.broadcast_to(rows, (len(times), len(rows)))
        km = np.broadcast_to(self._km(order, rows[None, :], world), block.shape)
        every = self.exact.search_rows(batch, np.ascontiguousarray(block),
                                       np.ascontiguousarray(km), world, now)
        penalty = self.planner.config.lateness_for(order.service_type).penalty_per_minute
        lateness_weight = self.search.weights[TERMS.index("lateness")]
        for i, t in enumerate(times):
            at = every.of_order(i)
            if len(at.row) < need:
                continue
            # the pinned search sees no lateness: its term added as the assignment will carry it
            scores = at.values @ self.search.weights + lateness_weight * lateness_value(
                max(0, t - order.latest_start), penalty)
            top = np.argsort(-scores, kind="stable")[:need]
            if best is None or scores[top].sum() > best[0] + 1e-9:
                best = (scores[top].sum(), at, top)
        if best is None:
            return Placement([], Unassigned(
                order.order_id, UnassignedReason.NO_FEASIBLE_SLOT,
                f"no start time at which {need} workers are free together"))
        _, at, top = best
        return Placement([self._commit(order, at, int(e), world) for e in top])

    def _commit(self, order: Order, found: Candidates, e: int, world: World) -> Assignment:
        ins = found.insertion(e)
        worker_id = world.table.workers[found.row[e]].worker_id
        jobs = list(world.plans.get(worker_id, []))
        jobs.insert(ins.position, Job(order.order_id, order.customer_id, order.service_type,
                                      order.lat, order.lon, ins.start, ins.end))
        world.place(worker_id, jobs)
        late_s = max(0, ins.start - order.latest_start)
        terms = with_lateness(score_terms(found.values[e], self.planner.config.weights), late_s,
                              self.planner.config.lateness_for(order.service_type)
                              .penalty_per_minute)
        return Assignment(order.order_id, worker_id, ins.start, ins.end, ins.travel_s,
                          ins.travel_km, ins.added_travel_s, ins.added_travel_km, terms,
                          self.planner.config_hash, late_s)


def _short_team_reason(found: Candidates, feasible: int) -> UnassignedReason:
    """Why a team has fewer workers with a free slot than it needs, by the rules of
    :func:`matcher.explain.funnel_reason` (so ExplainOrder gives the same code): no eligible
    worker only when none is; the daily limits when they alone refused every eligible one."""
    if found.eligible[0] == 0:
        return UnassignedReason.NO_ELIGIBLE_WORKER
    refused = {name for name, n in zip(SLOT_CHECKS, found.refused[0].tolist()) if n}
    if feasible == 0 and refused == {"daily_limit"}:
        return UnassignedReason.DAILY_LIMIT
    return UnassignedReason.NO_FEASIBLE_SLOT


def with_lateness(terms: tuple[ScoreTerm, ...], late_s: int,
                  penalty_per_minute: float) -> tuple[ScoreTerm, ...]:
    """``terms`` with the lateness term measured from the order's own window (a search on a
    pinned or narrowed window sees none)."""
    value = lateness_value(late_s, penalty_per_minute)
    return tuple(replace(t, value=value) if t.name == "lateness" else t for t in terms)


def lateness_value(late_s: int, penalty_per_minute: float) -> float:
    """The lateness term's value for a start ``late_s`` seconds after the window."""
    return -late_s / 60 * penalty_per_minute if late_s else 0.0
