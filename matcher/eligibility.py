"""The hard constraints a worker must pass before any slot of its day is tried, vectorised over
(order, worker) pairs: order columns of an :class:`OrderBatch` against worker rows (m, k).

Each check is named as ExplainOrder reports it; they run in this order and a worker is counted
under the first one it fails:

- ``worker_status``: the worker is online (not offline, on leave or suspended).
- ``skill``: the worker holds a certificate for the order's service type.
- ``skill_level``: its level is at least the order's minimum.
- ``certificate``: the certificate is valid through the end of the last service day the job can
  touch (the local day of its latest possible end).
- ``credit_floor``: the credit score is at least ``limits.min_credit_score``, the service type's
  ``[credit_floor.<type>]`` and the lowest credit tier that is not excluded
  (:mod:`matcher.credit`).
- ``customer_block``: the customer has not blocked the worker (on this order or an earlier one).
- ``required_tags``: the worker carries every tag the order requires.
- ``service_radius``: the order lies within ``limits.service_radius_km`` of the worker's home.

Insertion then adds ``shift``, ``daily_limit``, ``day_plan`` and ``break`` (see
:mod:`matcher.insertion`; the codes of :data:`~matcher.insertion.REFUSAL_CODES`, in that order).
``certificate`` and ``shift`` count the hard latest start: the window's end plus the service
type's soft lateness (``[lateness.<service_type>]``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np

from matcher.config import DispatchConfig, LimitsConfig
from matcher.credit import Tiers
from matcher.model import WorkerStatus
from matcher.order_batch import OrderBatch
from matcher.worker_table import WorkerTable

STATIC_CHECKS = ("worker_status", "skill", "skill_level", "certificate", "credit_floor",
                 "customer_block", "required_tags", "service_radius")
# one per refusal code of matcher.insertion, in code order (candidates tally them so)
SLOT_CHECKS = ("shift", "daily_limit", "day_plan", "break")
ALL_CHECKS = STATIC_CHECKS + SLOT_CHECKS


@dataclass(frozen=True, slots=True)
class StaticRules:
    limits: LimitsConfig
    floors: tuple[tuple[str, float], ...] = ()  # service type -> least credit; else the limit

    @classmethod
    def of(cls, config: DispatchConfig) -> "StaticRules":
        tiers = Tiers(config)
        return cls(config.limits, tuple((t, tiers.floor_for(t))
                                        for t in config.service.service_types))

    def credit_floor(self, service_type: str) -> float:
        return dict(self.floors).get(service_type, self.limits.min_credit_score)

    def checks(self, batch: OrderBatch, table: WorkerTable, rows: np.ndarray, km: np.ndarray,
               blocked: list[frozenset[str]]) -> Iterator[tuple[str, np.ndarray]]:
        """Each check's pass mask over ``rows`` (m, k), in funnel order. ``km`` is each
        worker's home distance to its order; ``blocked`` the worker ids each order excludes."""
        column = table.skill(batch.service_type)
        level = column.level[rows]
        yield "worker_status", table.status[rows] == WorkerStatus.ONLINE
        yield "skill", level > 0
        yield "skill_level", level >= batch.min_level[:, None]
        yield "certificate", column.certified_until[rows] >= batch.certificate_until[:, None]
        yield "credit_floor", table.credit[rows] >= self.credit_floor(batch.service_type)
        yield "customer_block", per_order(rows, blocked, lambda r, ids: ~table.among(r, ids))
        yield "required_tags", per_order(rows, [o.required_tags for o in batch.orders],
                                          table.has_tags)
        yield "service_radius", km <= self.limits.service_radius_km

    def passing(self, batch: OrderBatch, table: WorkerTable, rows: np.ndarray, km: np.ndarray,
                blocked: list[frozenset[str]]) -> np.ndarray:
        """Mask over ``rows``: the pair passes every static check (what :meth:`checks` gives,
        and-ed: the checks of the worker alone read from one column per table and service
        type, the per-order ones run only for orders that have blocks or tags)."""
        column = table.skill(batch.service_type)
        ok = _passing_alone(self._ready(table, batch.service_type), column.level,
                            column.certified_until, rows, batch.min_level,
                            batch.certificate_until, np.ascontiguousarray(km),
                            float(self.limits.service_radius_km))
        if any(blocked):
            ok &= per_order(rows, blocked, lambda r, ids: ~table.among(r, ids))
        tags = [o.required_tags for o in batch.orders]
        if any(tags):
            ok &= per_order(rows, tags, table.has_tags)
        return ok

    def _ready(self, table: WorkerTable, service_type: str) -> np.ndarray:
        """Per row: online, certified for ``service_type`` and above its credit floor."""
        floor = self.credit_floor(service_type)
        key = ("ready", service_type, floor)
        ready = table.derived.get(key)
        if ready is None:
            ready = table.derived[key] = ((table.status == WorkerStatus.ONLINE)
                                          & (table.skill(service_type).level > 0)
                                          & (table.credit >= floor))
        return ready

    def funnel(self, batch: OrderBatch, table: WorkerTable, rows: np.ndarray, km: np.ndarray,
               blocked: list[frozenset[str]]) -> tuple[dict[str, int], np.ndarray]:
        """Pairs ruled out by each check (the first failure counts) and the mask passing all."""
        alive = np.ones(rows.shape, dtype=bool)
        counts: dict[str, int] = {}
        for name, ok in self.checks(batch, table, rows, km, blocked):
            counts[name] = int(np.count_nonzero(alive & ~ok))
            alive &= ok
        return counts, alive


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _passing_alone(ready, level, until, rows, min_level, certificate_until, km, radius):
    """The pairs that pass the checks of the worker alone (``ready``: online, certified,
    above the credit floor), its level and certificate, and the radius: one loop, where
    numpy took a call per check and gather (most of the price of an instant order's few
    dozen pairs)."""
    m, k = rows.shape
    ok = np.empty((m, k), dtype=np.bool_)
    for i in range(m):
        for j in range(k):
            r = rows[i, j]
            ok[i, j] = (ready[r] and level[r] >= min_level[i]
                        and until[r] >= certificate_until[i] and km[i, j] <= radius)
    return ok


def warm_up() -> None:
    """Load the compiled checks now (numba's cache; compiled on a first run) rather than in
    the first order's answer, with the types a real search passes."""
    one = np.ones(1, dtype=np.int64)
    _passing_alone(np.ones(1, dtype=bool), np.ones(1, dtype=np.int16), one, one[:, None],
                   one, one, np.zeros((1, 1)), 1.0)


def per_order(rows: np.ndarray, arguments: list, check, default: bool = True) -> np.ndarray:
    """A mask over ``rows`` (m, k) from a check that needs per-order data, run only on the
    orders whose argument is non-empty (``default`` elsewhere)."""
    mask = np.full(rows.shape, default, dtype=bool)
    for j, argument in enumerate(arguments):
        if argument:
            mask[j] = check(rows[j], argument)
    return mask
