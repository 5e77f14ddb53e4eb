"""What the planner sees: the worker table, every worker's day plan, and the customers' blocks.

The planner changes plans only through :meth:`World.place`, which keeps what is derived from the
plans in step: the per-row plan lengths (workers with an empty day take the vectorised
insertion) and which workers have jobs of which customer (the customer's history term).
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
    blocked: dict[str, frozenset[str]] = field(default_factory=dict)  # customer -> workers
    _lengths: np.ndarray | None = None
    _customers: dict[str, set[str]] | None = None

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

    def workers_of(self, customer_id: str) -> set[str]:
        """Workers with a planned job for ``customer_id``."""
        if self._customers is None:
            self._customers = {}
            for worker_id, jobs in self.plans.items():
                for job in jobs:
                    self._customers.setdefault(job.customer_id, set()).add(worker_id)
        return self._customers.get(customer_id, set())

    def place(self, worker_id: str, jobs: list[Job]) -> None:
        """Replace a worker's day plan with ``jobs``, which holds at most one job more."""
        self.plans[worker_id] = jobs
        if self._lengths is not None:
            self._lengths[self.table.row[worker_id]] = len(jobs)
        if self._customers is not None:
            for job in jobs:
                self._customers.setdefault(job.customer_id, set()).add(worker_id)

    def max_minutes(self, rules) -> np.ndarray:
        """Working minutes allowed per service day, per table row."""
        return self.table.max_minutes(rules.default_max_minutes)

    def copy(self) -> "World":
        """A world whose plans can change without touching this one's."""
        return World(self.table, dict(self.plans), self.blocked)
