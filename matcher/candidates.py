"""Candidate search for many orders at once, vectorised over (order, worker) pairs.

Per service type, the orders' nearest certified workers (by home) come from the spatial index in
one query: a pool of (orders x workers) pairs. The static checks run over the whole block, the
pairs that pass go through :func:`~matcher.insertion.insert_rows`, and every feasible pair is
scored. An order keeps its ``limit`` best-scoring feasible workers (the sparse graph the round
is solved on); an order with fewer feasible workers asks a pool four times larger, until the
pool holds every certified worker or reaches past the service radius, so "no feasible worker"
is always exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matcher import block_tally
from matcher.config import HARD_WINDOW, LatenessConfig
from matcher.eligibility import SLOT_CHECKS, StaticRules, per_order
from matcher.insertion import (SHIFT, SLOT_FLOATS, SLOT_INTS, DayRules, Insertion, OrderColumns,
                               Workers, insert_rows, shift_days)
from matcher.model import Order
from matcher.order_batch import OrderBatch
from matcher.scoring import TERMS, term_values
from matcher.service_day import ServiceCalendar
from matcher.world import World, customer_code
from matcher.worker_table import WorkerTable

# Outcome codes of a pair: -1 failed a static check, 0 feasible, 1-4 see REFUSAL_CODES.
STATIC_FAIL, FEASIBLE = -1, 0


# The integer and float arrays of Pairs, each kind packed in one array (field first).
# (the insertion's fields as insertion packs them: a priced block is stored whole)
_INTS = ("rows", *SLOT_INTS)
_FLOATS = SLOT_FLOATS


@dataclass(slots=True)  # (not frozen: made per order, and frozen, __init__ costs 3x)
class Pairs:
    """What insertion found for a block of (order, worker) pairs, every array (m, k, ...): the
    int64 ones packed in ``ints`` (one per name of ``_INTS``: the worker rows, then the
    insertion's start, travel seconds, added seconds, position and lateness), the float64 ones
    in ``floats`` (``_FLOATS``), so that taking or joining pairs is a few numpy calls rather
    than one per field; the fields are views of them."""

    ints: np.ndarray       # (len(_INTS), m, k)
    code: np.ndarray       # (m, k) int8
    floats: np.ndarray     # (len(_FLOATS), m, k)
    values: np.ndarray     # (m, k, len(TERMS)) score term values; zero where not feasible

    rows = property(lambda self: self.ints[0])
    start = property(lambda self: self.ints[1])
    travel_s = property(lambda self: self.ints[2])
    added_s = property(lambda self: self.ints[3])
    position = property(lambda self: self.ints[4])
    late_s = property(lambda self: self.ints[5])
    travel_km = property(lambda self: self.floats[0])
    added_km = property(lambda self: self.floats[1])
    day_minutes = property(lambda self: self.floats[2])

    def take(self, mask: np.ndarray) -> "Pairs":
        """The pairs of the orders ``mask`` selects (C-ordered: the compiled steps read them)."""
        return Pairs(self.ints.compress(mask, axis=1), self.code[mask],
                     self.floats.compress(mask, axis=1), self.values[mask])

    def one(self, i: int) -> "Pairs":
        """A copy of order ``i``'s pairs."""
        return Pairs(self.ints[:, i:i + 1].copy(), self.code[i:i + 1].copy(),
                     self.floats[:, i:i + 1].copy(), self.values[i:i + 1].copy())

    def beside(self, more: "Pairs") -> "Pairs":
        """These pairs with ``more`` of the same orders after them (more workers each)."""
        return Pairs(np.concatenate([self.ints, more.ints], axis=2),
                     np.concatenate([self.code, more.code], axis=1),
                     np.concatenate([self.floats, more.floats], axis=2),
                     np.concatenate([self.values, more.values], axis=1))


# A candidate's insertion fields, packed like Pairs': the int64 ones in this order (the
# Pairs fields they come from: _FROM_PAIRS; "end" is then the start plus the duration), the
# float64 ones in the order of _FLOATS.
_SLOT_INTS = ("position", "start", "end", "travel_s", "added_travel_s", "late_s")
_FROM_PAIRS = np.array([_INTS.index(name) for name in ("position", "start", "start",
                                                        "travel_s", "added_s", "late_s")])
_END_AT = _SLOT_INTS.index("end")
_SLOT_FLOATS = ("travel_km", "added_travel_km", "day_minutes_before")


@dataclass(slots=True)  # (not frozen: made per order, and frozen, __init__ costs 3x)
class Candidates:
    """Feasible (order, worker) candidates, flat, with their insertion and every term's value;
    and per order how many workers passed the static checks and how many each slot check
    refused."""

    order: np.ndarray      # int64 position in the searched order list
    row: np.ndarray        # int64 worker table row
    values: np.ndarray     # (n, len(TERMS))
    ints: np.ndarray       # (len(_SLOT_INTS), n) the insertion's int64 fields
    floats: np.ndarray     # (len(_SLOT_FLOATS), n) and its float64 ones
    eligible: np.ndarray   # per order
    refused: np.ndarray    # per order, (n_orders, len(SLOT_CHECKS)), in SLOT_CHECKS order

    @property
    def slot(self) -> dict[str, np.ndarray]:
        """Insertion field name -> value per candidate."""
        return dict(zip(_SLOT_INTS, self.ints)) | dict(zip(_SLOT_FLOATS, self.floats))

    def of_order(self, i: int) -> "Candidates":
        """The candidates of searched order ``i`` alone, as a search of that order gives them."""
        mine = self.order == i
        return Candidates(np.zeros(np.count_nonzero(mine), dtype=np.int64), self.row[mine],
                          self.values[mine], self.ints.compress(mine, axis=1),
                          self.floats.compress(mine, axis=1), self.eligible[i:i + 1],
                          self.refused[i:i + 1])

    def insertion(self, e: int) -> Insertion:
        """The insertion of candidate ``e``."""
        position, start, end, travel_s, added_s, late_s = self.ints[:, e].tolist()
        travel_km, added_km, day_minutes = self.floats[:, e].tolist()
        return Insertion(position, start, end, travel_s, travel_km, added_s, added_km,
                         day_minutes, late_s)

    def insertions(self, chosen: np.ndarray) -> list[Insertion]:
        """The insertions of the ``chosen`` candidates, in that order."""
        ints, floats = self.ints[:, chosen].T.tolist(), self.floats[:, chosen].T.tolist()
        return [Insertion(position, start, end, travel_s, travel_km, added_s, added_km,
                          day_minutes, late_s)
                for (position, start, end, travel_s, added_s, late_s),
                    (travel_km, added_km, day_minutes) in zip(ints, floats)]


@dataclass(slots=True)  # (not frozen: made per order, and frozen, __init__ costs 3x)
class Priced:
    """One order's pairs as its search left them (row ``row`` of ``pairs``; the order is
    ``batch.orders[order]``) and, per pass of its widening, its pairs' width after the pass
    and whether the pool alone ended the search there."""

    batch: OrderBatch
    order: int
    pairs: Pairs
    row: int
    passes: tuple[tuple[int, bool], ...]


class CandidateSearch:
    def __init__(self, static: StaticRules, rules: DayRules, weights: np.ndarray,
                 lateness: dict[str, LatenessConfig] | None = None,
                 credit_bonus: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.static = static
        # per credit score, what its tier adds to the credit term (none: nothing)
        self.credit_bonus = credit_bonus or np.zeros_like
        self.rules = rules
        self.weights = weights
        self.lateness = lateness or {}  # service type -> soft window; absent: hard window

    def max_late_s(self, service_type: str) -> int:
        """Seconds a job of ``service_type`` may start after its window (0: a hard window)."""
        return self.lateness.get(service_type, HARD_WINDOW).max_late_minutes * 60

    def evaluate(self, batch: OrderBatch, rows: np.ndarray, km: np.ndarray, world: World,
                 now: int) -> Pairs:
        """Insertion outcome and score terms of every pair of ``batch`` x ``rows`` (m, k)."""
        return self.evaluate_many([(batch, rows, km)], world, now)[0]

    def evaluate_many(self, blocks: list[tuple[OrderBatch, np.ndarray, np.ndarray]],
                       world: World, now: int) -> list[Pairs]:
        """:meth:`evaluate` of each (batch, rows, km) block, the blocks' pairs priced in one
        :func:`~matcher.insertion.insert_rows` call and scored in one :func:`term_values`
        call. Every pair is priced and scored on its own, so the outcomes are those of
        separate calls; on the small blocks of instant orders (a few orders of each of a few
        service types) numpy's fixed cost per call is most of the work, and so is paid once."""
        return self._priced([self._screened(batch, rows, km, world, now)
                             for batch, rows, km in blocks], world, now)

    def _priced(self, screened: list["_Screened"], world: World, now: int) -> list[Pairs]:
        """The pairs of screened blocks, priced and scored."""
        rows = _joined_arrays([block.rows for block in screened])
        order = screened[0].order.joined(*(block.order for block in screened[1:]))
        jobs = world.job_columns(rows)
        slots = insert_rows(order, rows, _workers(world, self.rules), jobs, now, self.rules)
        at = 0
        for block in screened:
            pairs = block.pairs
            at = block_tally.scatter(pairs.code, pairs.ints, pairs.floats, block.j, block.c,
                                     at, slots.code, slots.ints, slots.floats)
        # the feasible pairs are the priced ones insertion found a slot for, in the same order
        # (the score reads the customers of the feasible pairs' planned jobs)
        self._score([(block.batch, block.pairs) for block in screened], world,
                    jobs["customer"][slots.code == FEASIBLE])
        return [block.pairs for block in screened]

    def _screened(self, batch: OrderBatch, rows: np.ndarray, km: np.ndarray, world: World,
                  now: int) -> "_Screened":
        """The block's pairs with the static checks' refusals (and the shifts')."""
        blocked = [world.blocked_for(o) for o in batch.orders]
        return _screen(batch, rows, self.static.passing(batch, world.table, rows, km, blocked),
                       world, now)

    def _score(self, blocks: list[tuple[OrderBatch, Pairs]], world: World,
               planned: np.ndarray) -> None:
        """The term values of every feasible pair of the (batch, pairs) ``blocks``; ``planned``
        holds the customers of each one's worker's planned jobs (codes, one row per feasible
        pair, block by block, each block's row by row)."""
        table = world.table
        bonus, max_minutes = self._bonus(table), world.max_minutes(self.rules)
        at = 0
        for batch, pairs in blocks:
            preferred = per_order(pairs.rows, [o.preferred_worker_ids for o in batch.orders],
                                  table.among, default=False)
            penalty = self.lateness.get(batch.service_type, HARD_WINDOW).penalty_per_minute
            at += term_values(pairs.code, pairs.rows, pairs.added_s, pairs.day_minutes,
                              pairs.late_s, preferred, planned, at, _customer_codes(batch),
                              table.skill(batch.service_type).level, batch.min_level,
                              batch.priority, table.credit, bonus, max_minutes, float(penalty),
                              pairs.values)

    def _bonus(self, table: WorkerTable) -> np.ndarray:
        """Per table row, what the worker's credit tier adds to the credit term (computed
        once per table: a credit change makes a new table)."""
        key = ("credit_bonus", self.credit_bonus)
        bonus = table.derived.get(key)
        if bonus is None:
            bonus = table.derived[key] = np.asarray(self.credit_bonus(table.credit),
                                                    dtype=np.float64)
        return bonus

    def search(self, orders: list[Order], world: World, now: int, limit: int,
               pool: int, searched: list | None = None, kept: list | None = None) -> Candidates:
        """Up to ``limit`` feasible candidates per order: the best-scoring in its pool. Each
        order's candidates are those a search of it alone gives. ``searched`` (a list) gets
        per order the rows of every worker past the static checks for it (they read no plan):
        nothing else of the world's plans went into its candidates. ``kept`` (a list) gets per
        order what :meth:`refresh` brings up to date when some of those plans change."""
        if searched is not None:
            searched[:] = [None] * len(orders)
        if kept is not None:
            kept[:] = [None] * len(orders)
        eligible = np.zeros(len(orders), dtype=np.int64)
        refused = np.zeros((len(orders), len(SLOT_CHECKS)), dtype=np.int64)
        blocks: list[tuple[np.ndarray, OrderBatch, Pairs, np.ndarray]] = []
        types = sorted({o.service_type for o in orders})
        positions = [np.array([i for i, o in enumerate(orders) if o.service_type == t],
                              dtype=np.int64) for t in types]
        batches = [OrderBatch.of([orders[i] for i in at], self.rules.calendar,
                                 self.max_late_s(t)) for t, at in zip(types, positions)]
        for at, batch, widening in zip(positions, batches,
                                       self._widening(batches, world, now, limit, pool)):
            for sub, pairs in widening.passes:
                where = at[sub]
                if searched is not None:
                    for i, rows, code in zip(where.tolist(), pairs.rows, pairs.code):
                        searched[i] = rows[code != STATIC_FAIL]
                if kept is not None:
                    for t, (i, o) in enumerate(zip(where.tolist(), sub.tolist())):
                        kept[i] = Priced(batch, o, pairs, t, tuple(widening.history[o]))
                block_tally.tally_into(pairs.code, where, eligible, refused)
                done = batch if len(sub) == len(batch) else batch.take(sub)  # sub: all, in order
                blocks.append((where, done, pairs, self._best(pairs, limit)))
        return _flatten(blocks, eligible, refused)

    def search_rows(self, batch: OrderBatch, rows: np.ndarray, km: np.ndarray, world: World,
                    now: int) -> Candidates:
        """Every feasible candidate among the given ``rows`` (m, k) of ``batch``."""
        pairs = self.evaluate(batch, rows, km, world, now)
        return _flatten([(np.arange(len(batch)), batch, pairs, pairs.code == FEASIBLE)],
                        *_tally(pairs))

    def _widening(self, batches: list[OrderBatch], world: World, now: int, limit: int,
                  pool: int) -> list["_Widening"]:
        """Per batch (one service type each), its widening search run until every order is
        done (its ``passes``: (batch positions, their pairs) per pool size). The batches widen
        side by side: each pool size of all the batches still searching is priced together
        (:meth:`evaluate_many`)."""
        widening = [_Widening(batch, world.table.skill(batch.service_type), pool)
                    for batch in batches]
        radius = self.static.limits.service_radius_km
        while active := [w for w in widening if w.todo.size]:
            asked = [w.ask(radius) for w in active]
            priced = self.evaluate_many([block for block, _ in asked], world, now)
            for w, (_, km), pairs in zip(active, asked, priced):
                w.answer(pairs, km, limit, radius)
        return widening

    def refresh(self, kept: "Priced", moved: set[int], world: World, now: int, limit: int,
                pool: int) -> Candidates | None:
        """What a search of ``kept``'s order alone (first ``pool`` workers) gives now that the
        plans of the ``moved`` rows changed, from its earlier search: those rows' pairs priced
        again, the rest kept (a pair reads only its own worker's plan), and the widening
        carried on if its last pool no longer holds ``limit`` feasible workers. None when the
        search would now stop at a smaller pool (a search of the order is needed)."""
        one = kept.batch.take(np.array([kept.order]))
        pairs = kept.pairs.one(kept.row)
        columns = [c for c, (r, code) in enumerate(zip(pairs.rows[0].tolist(),
                                                       pairs.code[0].tolist()))
                   if code != STATIC_FAIL and r in moved]
        if columns:
            at = np.array(columns)
            rows = pairs.rows[:, at]
            fresh = self._priced([_screen(one, rows, np.ones(rows.shape, dtype=bool), world,
                                          now)], world, now)[0]
            pairs.ints[:, :, at] = fresh.ints
            pairs.code[:, at] = fresh.code
            pairs.floats[:, :, at] = fresh.floats
            pairs.values[:, at] = fresh.values
        feasible = np.cumsum(pairs.code[0] == FEASIBLE).tolist()
        done = [pool_done or (width > 0 and feasible[width - 1] >= limit)
                for width, pool_done in kept.passes]
        if any(done[:-1]):
            return None
        if not done[-1]:  # (the pool did not end it, so it held every pair within the radius)
            widening = _Widening(one, world.table.skill(one.service_type),
                                 pool * 4 ** len(kept.passes))
            widening.seen = pairs
            radius = self.static.limits.service_radius_km
            while widening.todo.size:
                block, km = widening.ask(radius)
                widening.answer(self.evaluate_many([block], world, now)[0], km, limit, radius)
            pairs = widening.passes[-1][1]
        return _flatten([(np.zeros(1, dtype=np.int64), one, pairs, self._best(pairs, limit))],
                        *_tally(pairs))

    def _best(self, pairs: Pairs, limit: int) -> np.ndarray:
        """Mask of each order's ``limit`` highest-scoring feasible pairs (ties: the nearer)."""
        return block_tally.best(pairs.code, pairs.values @ self.weights, limit)


class _Widening:
    """One batch's widening search: the orders still searching (``todo``), the pool they ask
    next, the pairs of their last pass, and the (positions, pairs) of the orders done."""

    def __init__(self, batch: OrderBatch, column, pool: int) -> None:
        self.batch, self.column, self.pool = batch, column, pool
        self.todo = np.arange(len(batch), dtype=np.int64)
        self.seen: Pairs | None = None  # the last pass's pairs of the orders in ``todo``
        self.passes: list[tuple[np.ndarray, Pairs]] = []
        # per order, per pass it took part in: its pairs' width after the pass, and whether
        # the pool alone ended its search (every certified worker, or past the radius)
        self.history: list[list[tuple[int, bool]]] = [[] for _ in range(len(batch))]

    def ask(self, radius: float) -> tuple[tuple[OrderBatch, np.ndarray, np.ndarray], np.ndarray]:
        """The (batch, rows, km) block this pass prices, and the pool's km (m, k)."""
        k = min(self.pool, self.column.index.size)
        # the first pass asks for every order of the batch, in order: the batch itself
        batch = self.batch if self.seen is None else self.batch.take(self.todo)
        nearest, km = self.column.index.nearest_many(batch.lat, batch.lon, k)
        # a larger pool starts with the smaller one (nearest first, ties by row): price
        # only the workers it adds; every pair is priced on its own, so nothing changes
        old = 0 if self.seen is None else self.seen.rows.shape[1]
        # nor does leaving out the pool's far end where every order's worker lies past the
        # radius: those pairs fail the radius check, and all these orders end with this pass
        # (their pool reaches past the radius); in a shortage that is most of the widest pool
        end = old + block_tally.widest_within(km, old, float(radius))
        return (batch, self.column.workers[nearest[:, old:end]], km[:, old:end]), km

    def answer(self, pairs: Pairs, km: np.ndarray, limit: int, radius: float) -> None:
        """Take this pass's ``pairs``: the orders with ``limit`` feasible workers, or whose
        pool holds every certified worker or reaches past the ``radius``, are done."""
        if self.seen is not None:
            pairs = self.seen.beside(pairs)
        pool_done, done, n_done = block_tally.ended(pairs.code, km, limit, float(radius),
                                                    self.column.index.size)
        width = pairs.rows.shape[1]
        for o, ended in zip(self.todo.tolist(), pool_done.tolist()):
            self.history[o].append((width, ended))
        if n_done == len(done):  # the common end: nothing to split
            self.passes.append((self.todo, pairs))
            self.todo = self.todo[:0]
            return
        if n_done:  # (none done, as for a lone order that widens: no empty pass to tally)
            self.passes.append((self.todo[done], pairs.take(done)))
            self.todo, pairs = self.todo[~done], pairs.take(~done)
        self.pool, self.seen = self.pool * 4, pairs


def _customer_codes(batch: OrderBatch) -> np.ndarray:
    """Each order's customer as job columns hold customers."""
    return np.array([customer_code(o.customer_id) for o in batch.orders], dtype=np.int64)


def _joined_arrays(arrays: list[np.ndarray]) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


@dataclass(slots=True)
class _Screened:
    """A block of pairs as the static checks and the shifts leave them (``pairs``), and the
    ones to price: their positions (``j``, ``c``), worker ``rows`` and ``order`` columns."""

    batch: OrderBatch
    pairs: Pairs
    j: np.ndarray
    c: np.ndarray
    rows: np.ndarray
    order: OrderColumns


def _screen(batch: OrderBatch, rows: np.ndarray, ok: np.ndarray, world: World,
            now: int) -> _Screened:
    """The pairs of ``batch`` x ``rows`` (m, k) that pass the static checks (``ok``) and
    that some shift of the worker can hold (the others are refused here, before the costlier
    gap-by-gap pricing)."""
    code, ints, floats, values, pair_ints, pair_floats = block_tally.screened_pairs(
        ok, rows, len(_INTS), len(_FLOATS), len(TERMS), FEASIBLE, STATIC_FAIL, SHIFT,
        batch.ints, batch.floats, batch.max_late_s, world.table.shifts, now)
    return _Screened(batch, Pairs(ints, code, floats, values), pair_ints[0], pair_ints[1],
                     pair_ints[2], OrderColumns(pair_floats, pair_ints[3:]))


def _workers(world: World, rules: DayRules) -> Workers:
    """The worker table's columns as insertion reads them."""
    table = world.table
    return Workers(table.lat, table.lon, table.shifts, table.max_jobs, world.max_minutes(rules),
                   table.breaks, _shift_days(table, rules.calendar))


def _shift_days(table: WorkerTable, calendar: ServiceCalendar) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~matcher.insertion.shift_days` of every row of ``table``, computed once per table
    and its patches that keep the shifts (instant orders price a few dozen rows each, and
    deriving their days again each time cost more than the rest of their shift arithmetic; a
    simulation patches the table at every credit change)."""
    days = table.of_shifts.get(("shift_days", calendar))
    if days is None:
        days = table.of_shifts[("shift_days", calendar)] = shift_days(table.shifts, calendar)
    return days


def _tally(pairs: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Per order: pairs past the static checks, and the refusals of each slot check."""
    m = len(pairs.code)
    eligible, refused = np.empty(m, dtype=np.int64), np.empty((m, len(SLOT_CHECKS)), np.int64)
    block_tally.tally_into(pairs.code, np.arange(m), eligible, refused)
    return eligible, refused


def _flatten(blocks: list, eligible: np.ndarray, refused: np.ndarray) -> Candidates:
    """The candidates of the ``blocks`` ((positions of their orders, batch, pairs, mask of
    the pairs kept)), block by block, each row by row."""
    n = sum(np.count_nonzero(kept) for _, _, _, kept in blocks)
    flat = Candidates(np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64),
                      np.empty((n, len(TERMS))), np.empty((len(_SLOT_INTS), n), dtype=np.int64),
                      np.empty((len(_SLOT_FLOATS), n)), eligible, refused)
    at = 0
    for where, batch, pairs, kept in blocks:
        at = block_tally.flatten_into(kept, where, pairs.ints, pairs.floats, pairs.values,
                                      batch.duration, _FROM_PAIRS, _END_AT, at, flat.order,
                                      flat.row, flat.values, flat.ints, flat.floats)
    return flat
