"""What the planner sees: the worker table, every worker's day plan, and the customers' history.

The planner changes plans only through :meth:`World.place`, which keeps the per-row plan lengths
(used to route workers with an empty day to the vectorised insertion) in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matcher.model import Job, Order
from matcher.worker_table import WorkerTable


@dataclass(slots=True)
class World:
    table: WorkerTable
    plans: dict[str, list[Job]]                  # worker id -> jobs sorted by start
    served: dict[str, frozenset[str]] = field(default_factory=dict)   # customer -> workers
    blocked: dict[str, frozenset[str]] = field(default_factory=dict)  # customer -> workers
    _lengths: np.ndarray | None = None

    def blocked_for(self, order: Order) -> frozenset[str]:
        return order.blocked_worker_ids | self.blocked.get(order.customer_id, frozenset())

    def plan_lengths(self) -> np.ndarray:
        """Jobs planned per table row."""
        if self._lengths is None:
            self._lengths = np.zeros(len(self.table), dtype=np.int64)
            for worker_id, jobs in self.plans.items():
                row = self.table.row.get(worker_id)
                if row is not None:
                    self._lengths[row] = len(jobs)
        return self._lengths

    def place(self, worker_id: str, jobs: list[Job]) -> None:
        """Replace a worker's day plan."""
        self.plans[worker_id] = jobs
        if self._lengths is not None:
            self._lengths[self.table.row[worker_id]] = len(jobs)

    def max_minutes(self, rules) -> np.ndarray:
        """Working minutes allowed per service day, per table row."""
        return self.table.max_minutes(rules.default_max_minutes)

    def copy(self) -> "World":
        """A world whose plans can change without touching this one's."""
        return World(self.table, dict(self.plans), self.served, self.blocked)
