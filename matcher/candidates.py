"""Candidate search for many orders at once, vectorised over (order, worker) pairs.

Per service type, the orders' nearest certified workers (by home) come from the spatial index in
one query; the static checks run over the whole (orders x pool) block; workers with an empty day
are placed by the vectorised :func:`~matcher.insertion.first_job_insertion`, the few with jobs by
:func:`~matcher.insertion.best_insertion`. An order keeps its ``limit`` nearest feasible
workers; an order with fewer asks a pool four times larger, until the pool holds every certified
worker or reaches past the service radius, so "no feasible worker" is always exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.eligibility import StaticRules
from matcher.insertion import DayRules, Insertion, best_insertion, first_job_insertion
from matcher.model import Order
from matcher.order_batch import OrderBatch
from matcher.scoring import TERMS, term_values
from matcher.world import World

# Outcome codes of a pair: -1 failed a static check, 0 feasible, 1-3 see REFUSAL_CODES.
STATIC_FAIL, FEASIBLE = -1, 0


@dataclass(frozen=True, slots=True)
class Pairs:
    """What insertion found for a block of (order, worker) pairs; every array is (m, k)."""

    rows: np.ndarray
    code: np.ndarray
    start: np.ndarray
    travel_s: np.ndarray
    travel_km: np.ndarray
    added_s: np.ndarray
    added_km: np.ndarray
    day_minutes: np.ndarray
    position: np.ndarray


@dataclass(frozen=True, slots=True)
class Candidates:
    """Feasible (order, worker) candidates, flat, with their insertion and every term's value;
    and per order how many workers passed the static checks and how many each slot check
    refused."""

    order: np.ndarray      # int64 position in the searched order list
    row: np.ndarray        # int64 worker table row
    values: np.ndarray     # (n, len(TERMS))
    slot: dict[str, np.ndarray]  # Insertion field name -> value per candidate
    eligible: np.ndarray   # per order
    refused: np.ndarray    # per order, (n_orders, 3): shift, daily_limit, day_plan

    def insertion(self, e: int) -> Insertion:
        return Insertion(**{name: column[e].item() for name, column in self.slot.items()})


# Insertion fields and the Pairs arrays they come from.
_SLOT = {"position": "position", "start": "start", "end": "start", "travel_s": "travel_s",
         "travel_km": "travel_km", "added_travel_s": "added_s",
         "added_travel_km": "added_km", "day_minutes_before": "day_minutes"}


class CandidateSearch:
    def __init__(self, static: StaticRules, rules: DayRules) -> None:
        self.static = static
        self.rules = rules

    def evaluate(self, batch: OrderBatch, rows: np.ndarray, km: np.ndarray, world: World,
                 now: int) -> Pairs:
        """Insertion outcome of every pair of ``batch`` x ``rows`` (m, k)."""
        table = world.table
        blocked = [world.blocked_for(o) for o in batch.orders]
        ok = self.static.passing(batch, table, rows, km, blocked)
        pairs = Pairs(rows, np.where(ok, 0, STATIC_FAIL).astype(np.int8),
                      *(np.zeros(rows.shape, dtype=t) for t in
                        (np.int64, np.int64, np.float64, np.int64, np.float64, np.float64,
                         np.int64)))
        busy = world.plan_lengths()[rows] > 0
        self._first_jobs(batch, pairs, km, ok & ~busy, world, now)
        for j, c in zip(*np.nonzero(ok & busy)):
            self._insert(batch.orders[j], pairs, (j, c), world, now)
        return pairs

    def _first_jobs(self, batch: OrderBatch, pairs: Pairs, km: np.ndarray, mask: np.ndarray,
                    world: World, now: int) -> None:
        j, c = np.nonzero(mask)
        rows = pairs.rows[j, c]
        first = first_job_insertion(world.table.shifts[rows], km[j, c], batch.earliest[j],
                                    batch.latest[j], batch.duration[j],
                                    world.max_minutes(self.rules)[rows], now, self.rules)
        pairs.code[j, c] = first.code
        pairs.start[j, c] = first.start
        pairs.travel_s[j, c] = pairs.added_s[j, c] = first.travel_s
        pairs.travel_km[j, c] = pairs.added_km[j, c] = first.travel_km

    def _insert(self, order: Order, pairs: Pairs, at: tuple, world: World, now: int) -> None:
        worker = world.table.workers[pairs.rows[at]]
        found = best_insertion(worker, world.plans[worker.worker_id], order, now, self.rules)
        if isinstance(found, Insertion):
            for name in ("start", "travel_s", "travel_km", "position"):
                getattr(pairs, name)[at] = getattr(found, name)
            pairs.added_s[at], pairs.added_km[at] = found.added_travel_s, found.added_travel_km
            pairs.day_minutes[at] = found.day_minutes_before
        else:
            pairs.code[at] = 1 + ("shift", "daily_limit", "day_plan").index(found.value)

    def search(self, orders: list[Order], world: World, now: int, limit: int,
               pool: int) -> Candidates:
        """Up to ``limit`` feasible candidates per order, nearest homes first."""
        eligible = np.zeros(len(orders), dtype=np.int64)
        refused = np.zeros((len(orders), 3), dtype=np.int64)
        found: list[tuple[np.ndarray, OrderBatch, Pairs, np.ndarray]] = []
        for service_type in sorted({o.service_type for o in orders}):
            positions = np.array([i for i, o in enumerate(orders)
                                  if o.service_type == service_type], dtype=np.int64)
            batch = OrderBatch.of([orders[i] for i in positions], self.rules.calendar)
            for sub, pairs, kept in self._widening(batch, world, now, limit, pool):
                where = positions[sub]
                eligible[where] = np.count_nonzero(pairs.code >= 0, axis=1)
                for code in (1, 2, 3):
                    refused[where, code - 1] = np.count_nonzero(pairs.code == code, axis=1)
                found.append((where, batch.take(sub), pairs, kept))
        return self._flatten(found, world, eligible, refused)

    def search_rows(self, batch: OrderBatch, rows: np.ndarray, km: np.ndarray, world: World,
                    now: int) -> Candidates:
        """Every feasible candidate among the given ``rows`` (m, k) of ``batch``."""
        pairs = self.evaluate(batch, rows, km, world, now)
        feasible = pairs.code == FEASIBLE
        refused = np.stack([np.count_nonzero(pairs.code == c, axis=1) for c in (1, 2, 3)], 1)
        return self._flatten([(np.arange(len(batch)), batch, pairs, feasible)], world,
                             np.count_nonzero(pairs.code >= 0, axis=1), refused)

    def _widening(self, batch: OrderBatch, world: World, now: int, limit: int, pool: int):
        """Yield (batch positions, pairs, kept mask) per pool size until every order is done."""
        column = world.table.skill(batch.service_type)
        radius = self.static.limits.service_radius_km
        todo = np.arange(len(batch), dtype=np.int64)
        size = column.index.size
        while todo.size:
            k = min(pool, size)
            if k == 0:
                empty = np.zeros((len(todo), 0), dtype=np.int64)
                yield todo, self.evaluate(batch.take(todo), empty, empty.astype(float),
                                          world, now), empty.astype(bool)
                return
            nearest, km = column.index.nearest_many(batch.lat[todo], batch.lon[todo], k)
            pairs = self.evaluate(batch.take(todo), column.workers[nearest], km, world, now)
            feasible = pairs.code == FEASIBLE
            kept = feasible & (np.cumsum(feasible, axis=1) <= limit)
            done = (feasible.sum(axis=1) >= limit) | (k >= size) | (km[:, -1] > radius)
            yield todo[done], _take(pairs, done), kept[done]
            todo, pool = todo[~done], pool * 4

    def _flatten(self, found: list, world: World, eligible: np.ndarray,
                 refused: np.ndarray) -> Candidates:
        parts = [self._kept(*block, world) for block in found]
        if not parts:
            parts = [self._kept(np.zeros(0, np.int64), None, None, np.zeros((0, 0), bool),
                                world)]
        columns = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        return Candidates(columns.pop("order"), columns.pop("row"), columns.pop("values"),
                          columns, eligible, refused)

    def _kept(self, where: np.ndarray, batch: OrderBatch | None, pairs: Pairs | None,
              kept: np.ndarray, world: World) -> dict[str, np.ndarray]:
        """The kept pairs of one block as flat columns."""
        j, c = np.nonzero(kept)
        if pairs is None:
            empty = np.zeros(0, dtype=np.int64)
            return {"order": empty, "row": empty, "values": np.zeros((0, len(TERMS))),
                    **{name: empty for name in _SLOT}}
        columns = {name: getattr(pairs, source)[j, c] for name, source in _SLOT.items()}
        columns["end"] = columns["start"] + batch.duration[j]
        return {"order": where[j], "row": pairs.rows[j, c],
                "values": self._values(batch, pairs, j, c, world), **columns}

    def _values(self, batch: OrderBatch, pairs: Pairs, j: np.ndarray, c: np.ndarray,
                world: World) -> np.ndarray:
        table, rows = world.table, pairs.rows[j, c]
        ids = [table.workers[r].worker_id for r in rows]
        preferred = np.array([w in batch.orders[o].preferred_worker_ids
                              for w, o in zip(ids, j)], dtype=bool)
        known = np.array([w in world.workers_of(batch.orders[o].customer_id)
                           for w, o in zip(ids, j)], dtype=bool)
        return term_values(pairs.added_s[j, c], table.credit[rows],
                           table.skill(batch.service_type).level[rows], batch.min_level[j],
                           preferred, known, pairs.day_minutes[j, c],
                           world.max_minutes(self.rules)[rows], batch.priority[j])


def _take(pairs: Pairs, mask: np.ndarray) -> Pairs:
    return Pairs(*(getattr(pairs, name)[mask] for name in Pairs.__slots__))

