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

import numpy as np

from matcher.config import UnassignedConfig, WeightsConfig
from matcher.model import MAX_LEVEL, MAX_PRIORITY, MIN_LEVEL, Order, ScoreTerm

TERMS = ("travel", "credit", "skill_surplus", "customer_preference", "workload_balance",
         "priority", "lateness")


def term_values(added_travel_s: np.ndarray, credit: np.ndarray, level: np.ndarray,
                min_level: np.ndarray, preferred: np.ndarray, known: np.ndarray,
                day_minutes: np.ndarray, max_minutes: np.ndarray,
                priority: np.ndarray, late_s: np.ndarray | None = None,
                penalty_per_minute: float = 0.0,
                credit_bonus: np.ndarray | float = 0.0) -> np.ndarray:
    """The value of every term for each candidate: an (n, len(TERMS)) array. ``late_s`` is
    each start's lateness (none: all on time), ``penalty_per_minute`` its service type's,
    ``credit_bonus`` what each worker's credit tier adds to the credit term."""
    late_s = np.zeros(len(priority)) if late_s is None else late_s
    # filled column by column (np.column_stack costs more than the arithmetic on the few
    # dozen candidates of an instant order)
    values = np.empty((len(priority), len(TERMS)))
    values[:, 0] = -added_travel_s / 3600.0
    values[:, 1] = credit / 100.0 + credit_bonus
    values[:, 2] = -(level - np.maximum(min_level, MIN_LEVEL)) / (MAX_LEVEL - MIN_LEVEL)
    values[:, 3] = np.where(preferred, 1.0, np.where(known, 0.5, 0.0))
    values[:, 4] = -day_minutes / max_minutes
    values[:, 5] = priority / MAX_PRIORITY
    values[:, 6] = 0.0 - late_s / 60.0 * penalty_per_minute  # 0.0 - x: on time is 0, never -0
    return values


def weight_vector(weights: WeightsConfig) -> np.ndarray:
    return np.array([getattr(weights, name) for name in TERMS], dtype=np.float64)


def score_terms(values: np.ndarray, weights: WeightsConfig) -> tuple[ScoreTerm, ...]:
    """One candidate's terms, named and weighted, from its row of :func:`term_values`."""
    return tuple(ScoreTerm(name, getattr(weights, name), float(value))
                 for name, value in zip(TERMS, values))


def unassigned_penalty(order: Order, unassigned: UnassignedConfig) -> float:
    """What leaving ``order`` unassigned costs in a round; an assignment must beat it."""
    return unassigned.penalty_base + unassigned.penalty_per_priority * order.priority
