"""The soft preferences: one weighted sum of named terms.

Each term's value is a "goodness" (higher is better, penalties are negative) on a scale where 1
is a large effect; its weight comes from ``[weights]`` in the config under the same name.

- ``travel``: minus the hours of travel the job adds to the worker's day.
- ``credit``: the worker's credit score / 100, plus its credit tier's ``score_bonus``.
- ``skill_surplus``: minus the levels above the order's minimum / 4 (senior workers stay free
  for demanding jobs).
- ``customer_preference``: 1 when the order names the worker as preferred, 0.5 when the worker
  already has another job of this customer in its plan, else 0.
- ``workload_balance``: minus the share of the day's working minutes already planned.
- ``priority``: the order's priority / 10.
- ``lateness``: minus the minutes the job starts after the order's latest start, times the
  ``penalty_per_minute`` of its service type (``[lateness.<service_type>]``); 0 for a job on
  time and for service types with a hard window.
"""

from __future__ import annotations

import functools

import numba
import numpy as np

from matcher.config import UnassignedConfig, WeightsConfig
from matcher.model import MAX_LEVEL, MAX_PRIORITY, MIN_LEVEL, Order, ScoreTerm

TERMS = ("travel", "credit", "skill_surplus", "customer_preference", "workload_balance",
         "priority", "lateness")


@numba.njit(cache=True, nogil=True, boundscheck=False)
def term_values(code, rows, added_s, day_minutes, late_s, preferred, planned, first, customer,
                level, min_level, priority, credit, bonus, max_minutes, penalty_per_minute,
                values):
    """The value of every term (``values``, (m, k, len(TERMS))) of each feasible pair (``code``
    0) of a block of m orders x k workers: the order's pairs ``added_s``, ``day_minutes``,
    ``late_s``, ``preferred`` (m, k); per feasible pair in row order, from row ``first`` of
    ``planned``, the customers (codes) of its worker's planned jobs, which make it "already
    serves the customer" where one is the order's ``customer`` (code); the order's
    ``min_level`` and ``priority`` (m,); the worker's
    ``level`` in the order's service type, ``credit``, its tier's ``bonus`` and
    ``max_minutes`` by table row. Other pairs are left alone. One loop: as numpy over the
    feasible pairs it took some forty calls, most of the price of an instant order's few
    dozen pairs; the same operations in the same order, so the same bits. The feasible
    pairs' count."""
    m, k = code.shape
    t = first
    for i in range(m):
        floor = max(min_level[i], MIN_LEVEL)
        for j in range(k):
            if code[i, j] != 0:
                continue
            r = rows[i, j]
            values[i, j, 0] = -added_s[i, j] / 3600.0
            values[i, j, 1] = credit[r] / 100.0 + bonus[r]
            values[i, j, 2] = -(level[r] - floor) / (MAX_LEVEL - MIN_LEVEL)
            known = False
            for w in range(planned.shape[1]):
                known = known or planned[t, w] == customer[i]
            values[i, j, 3] = 1.0 if preferred[i, j] else (0.5 if known else 0.0)
            values[i, j, 4] = -day_minutes[i, j] / max_minutes[r]
            values[i, j, 5] = priority[i] / MAX_PRIORITY
            # 0.0 - x: on time is 0, never -0
            values[i, j, 6] = 0.0 - late_s[i, j] / 60.0 * penalty_per_minute
            t += 1
    return t - first


def warm_up() -> None:
    """Load :func:`term_values` now (numba's cache; compiled on a first run) rather than in
    the first order's answer, with the types a real block passes."""
    ints, floats = np.zeros((1, 1), dtype=np.int64), np.zeros((1, 1))
    one, row = np.ones(1, dtype=np.int64), np.ones(1)
    term_values(np.zeros((1, 1), dtype=np.int8), ints, ints, floats, ints,
                np.zeros((1, 1), dtype=bool), ints, 0, one, np.ones(1, dtype=np.int16),
                one, one, row, row, one, 0.0, np.zeros((1, 1, len(TERMS))))


def weight_vector(weights: WeightsConfig) -> np.ndarray:
    return np.array([getattr(weights, name) for name in TERMS], dtype=np.float64)


def score_terms(values: np.ndarray, weights: WeightsConfig) -> tuple[ScoreTerm, ...]:
    """One candidate's terms, named and weighted, from its row of :func:`term_values`."""
    return tuple(map(ScoreTerm, TERMS, _term_weights(weights), values.tolist()))


@functools.lru_cache(maxsize=64)
def _term_weights(weights: WeightsConfig) -> tuple[float, ...]:
    """The weight of each term, in TERMS order (per config: every assignment reads them)."""
    return tuple(getattr(weights, name) for name in TERMS)


def unassigned_penalty(order: Order, unassigned: UnassignedConfig) -> float:
    """What leaving ``order`` unassigned costs in a round; an assignment must beat it."""
    return unassigned.penalty_base + unassigned.penalty_per_priority * order.priority
