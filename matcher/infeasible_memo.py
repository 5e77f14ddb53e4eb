"""Orders a Dispatch found without any feasible worker, so later Dispatches need not search the
whole service radius for them again.

An order that no worker can take stays pending, and each batch round used to search for it from
scratch, widening to every certified worker within the service radius: in a shortage that is
most of a round's work, and it grows with the city. Yet time passing only takes options away (a
job cannot start before ``now``; the simulator's skipped rounds rely on the same fact). So an
order found infeasible at stamp ``s`` of the :class:`~matcher.supply_log.SupplyLog` can become
feasible again only through a worker whose plan or record changed after ``s`` (a job cancelled,
declined, moved or re-dispatched, a status or credit change, a new worker) or through its own
terms changing (a block, an excluded worker, its priority, its link). So a remembered order is
priced against the changed workers alone; if none of them has a feasible slot it is still
infeasible, exactly, else it goes back to the planner to be searched whole.

A team order is remembered only when fewer workers than it needs had any feasible slot: then a
team needs a changed worker too. Linked orders are never remembered (their fate follows the
order they are linked to). An order not searched again keeps the verdict of its last search.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo import haversine_km
from matcher.candidates import FEASIBLE
from matcher.model import Order, Unassigned
from matcher.order_batch import OrderBatch
from matcher.store import PlanMark
from matcher.supply_log import SupplyLog
from matcher.world import World

# Pairs priced at most per check (remembered orders x changed workers); a larger check (most of
# the city changed: an upsert of every worker) forgets instead, which costs one full search.
MAX_PAIRS = 2_000_000


@dataclass(frozen=True, slots=True)
class Remembered:
    order: Order          # as the planner saw it (its binding)
    verdict: Unassigned   # why it was not placed then


class InfeasibleMemo:
    def __init__(self) -> None:
        self.log = SupplyLog()
        self._entries: dict[str, Remembered] = {}
        self._stamp = 0          # the log's stamp every entry was (re)checked against
        self._now: int | None = None
        self._planner = None     # entries hold under one config only

    def look(self, world: World, plans, located: Sequence[str], now: int, planner,
             mark: PlanMark | None = None) -> int:
        """Record the state this dispatch reads (before it changes anything); its stamp.
        ``mark``: the store's plan log as of ``plans`` (see :meth:`SupplyLog.update`)."""
        if planner is not self._planner or (self._now is not None and now < self._now):
            self._entries.clear()  # another config, or a clock that went back: start over
        self._planner, self._now = planner, now
        return self.log.update(plans, world.table, located, mark)

    def split(self, orders: list[Order], world: World, now: int,
              stamp: int) -> tuple[list[Order], dict[str, Unassigned]]:
        """The orders to plan, and the verdicts of the remembered ones that are still
        infeasible at ``now`` (checked against every worker changed since their last check)."""
        kept = {o.order_id: self._entries[o.order_id] for o in orders
                if o.order_id in self._entries and self._entries[o.order_id].order == o
                and self._planner._hard_latest(o) >= now}  # an expired one: the planner says so
        self._entries = kept  # orders no longer pending, or changed, are forgotten
        candidates = [e.order for e in kept.values()]
        reopened = self._reopened(candidates, world, now)
        for order_id in reopened:
            del self._entries[order_id]
        self._stamp = stamp
        return ([o for o in orders if o.order_id not in self._entries],
                {k: e.verdict for k, e in self._entries.items()})

    def remember(self, planned: list[Order], exhausted: frozenset[str],
                 verdicts: dict[str, Unassigned]) -> None:
        """After the dispatch: the ``exhausted`` orders of ``planned`` had no feasible worker
        in the state of the stamp given to :meth:`split`."""
        for order in planned:
            if order.order_id in exhausted:
                self._entries[order.order_id] = Remembered(order, verdicts[order.order_id])

    def _reopened(self, orders: list[Order], world: World, now: int) -> set[str]:
        """Ids of ``orders`` that some worker changed since the last check could take."""
        if not orders:
            return set()
        changed = self.log.changed_since(self._stamp, world.table)
        if changed is None or len(orders) * len(changed) > MAX_PAIRS:
            return {o.order_id for o in orders}
        reopened: set[str] = set()
        for service_type in sorted({o.service_type for o in orders}):
            group = [o for o in orders if o.service_type == service_type]
            rows = changed[world.table.skill(service_type).level[changed] > 0]
            if rows.size:
                reopened |= self._takers(group, rows, world, now)
        return reopened

    def _takers(self, orders: list[Order], rows: np.ndarray, world: World,
                now: int) -> set[str]:
        """Ids of ``orders`` (one service type) with a feasible slot on one of ``rows``."""
        search = self._planner.search
        batch = OrderBatch.of(orders, self._planner.day_rules.calendar,
                              search.max_late_s(orders[0].service_type))
        table = world.table
        # as the spatial index measures it, less a millimetre: a worker on the radius's edge
        # is priced rather than missed over a rounding
        km = haversine_km(batch.lat[:, None], batch.lon[:, None], table.lat[rows][None, :],
                          table.lon[rows][None, :]) - 1e-6
        block = np.broadcast_to(rows, (len(orders), rows.size))
        pairs = search.evaluate(batch, np.ascontiguousarray(block),
                                np.asarray(km, dtype=np.float64), world, now)
        feasible = (pairs.code == FEASIBLE).any(axis=1)
        return {o.order_id for o, ok in zip(orders, feasible.tolist()) if ok}
