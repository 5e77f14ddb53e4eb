"""What the planner sees: the worker table, every worker's day plan, and the customers' blocks.

The planner changes plans only through :meth:`World.place`, which keeps what is derived from the
plans in step: the day plans as padded numpy columns per table row (what vectorised insertion
reads) and which workers have jobs of which customer (the customer's history term).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from matcher.insertion import NO_JOB
from matcher.model import Job, Order
from matcher.worker_table import WorkerTable


class JobColumns:
    """Every row's planned jobs as (rows, capacity) arrays ``start``, ``end``, ``lat``,
    ``lon``; a row's first ``count`` columns hold its jobs, the rest are padding (NO_JOB)."""

    _FIELDS = (("start", NO_JOB, np.int64), ("end", NO_JOB, np.int64),
               ("lat", 0.0, np.float64), ("lon", 0.0, np.float64))

    def __init__(self, table: WorkerTable, plans: dict[str, list[Job]]) -> None:
        self.count = np.zeros(len(table), dtype=np.int64)
        capacity = max((len(jobs) for jobs in plans.values()), default=1)
        self.columns = {name: np.full((len(table), max(capacity, 1)), fill, dtype=dtype)
                        for name, fill, dtype in self._FIELDS}
        rows, cols, jobs = [], [], []
        for worker_id, day in plans.items():
            row = table.row.get(worker_id)
            if row is not None:
                self.count[row] = len(day)
                rows += [row] * len(day)
                cols += range(len(day))
                jobs += day
        for name, _, _ in self._FIELDS:
            self.columns[name][rows, cols] = [getattr(j, name) for j in jobs]

    def take(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The job columns of ``rows`` (any shape), trimmed to the widest of their days."""
        width = max(int(self.count[rows].max(initial=0)), 1)
        return {name: column[rows, :width] for name, column in self.columns.items()}

    def set(self, row: int, jobs: list[Job]) -> None:
        if len(jobs) > self.columns["start"].shape[1]:
            self._grow(2 * len(jobs))
        self.count[row] = len(jobs)
        for name, fill, _ in self._FIELDS:
            column = self.columns[name]
            column[row] = fill
            column[row, :len(jobs)] = [getattr(j, name) for j in jobs]

    def _grow(self, capacity: int) -> None:
        for name, fill, dtype in self._FIELDS:
            old = self.columns[name]
            self.columns[name] = np.full((len(old), capacity), fill, dtype=dtype)
            self.columns[name][:, :old.shape[1]] = old


@dataclass(slots=True)
class World:
    table: WorkerTable
    plans: dict[str, list[Job]]                  # worker id -> jobs sorted by start
    blocked: dict[str, frozenset[str]] = field(default_factory=dict)  # customer -> workers
    _jobs: JobColumns | None = None
    _customers: dict[str, set[str]] | None = None
    _orders: dict[str, list[tuple[str, Job]]] | None = None

    def blocked_for(self, order: Order) -> frozenset[str]:
        return order.blocked_worker_ids | self.blocked.get(order.customer_id, frozenset())

    @property
    def jobs(self) -> JobColumns:
        if self._jobs is None:
            self._jobs = JobColumns(self.table, self.plans)
        return self._jobs

    def workers_of(self, customer_id: str) -> set[str]:
        """Workers with a planned job for ``customer_id``."""
        if self._customers is None:
            self._customers = {}
            for worker_id, jobs in self.plans.items():
                for job in jobs:
                    self._customers.setdefault(job.customer_id, set()).add(worker_id)
        return self._customers.get(customer_id, set())

    def placed(self, order_id: str) -> list[tuple[str, Job]]:
        """(worker id, job) of every planned job of ``order_id``: one, a team's several, or
        none."""
        if self._orders is None:
            self._orders = {}
            for worker_id, jobs in sorted(self.plans.items()):
                for job in jobs:
                    self._orders.setdefault(job.order_id, []).append((worker_id, job))
        return list(self._orders.get(order_id, []))

    def place(self, worker_id: str, jobs: list[Job]) -> None:
        """Replace a worker's day plan with ``jobs``."""
        self.plans[worker_id] = jobs
        if self._jobs is not None:
            self._jobs.set(self.table.row[worker_id], jobs)
        # a plan may also lose jobs (a tentative placement undone): rebuild these on demand
        self._customers = None
        self._orders = None

    def max_minutes(self, rules) -> np.ndarray:
        """Working minutes allowed per service day, per table row."""
        return self.table.max_minutes(rules.default_max_minutes)

    def copy(self) -> "World":
        """A world whose plans can change without touching this one's."""
        return World(self.table, dict(self.plans), self.blocked)
