"""Where the engine keeps its state: the :class:`Store` protocol and the embedded memory store.

The engine reads and writes only through this interface, so a shared store (Redis) can replace
the memory one without touching the planner. Writes that belong together go through
:meth:`Store.commit` as one unit.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from matcher.model import Job, OrderRecord, OrderState, Worker


@dataclass(slots=True)
class Commit:
    """Writes applied together: order records, whole day plans, customer blocks."""

    orders: list[OrderRecord] = field(default_factory=list)
    plans: dict[str, list[Job]] = field(default_factory=dict)
    blocked: dict[str, set[str]] = field(default_factory=dict)  # customer -> workers to add


class Store(Protocol):
    async def workers(self) -> list[Worker]: ...
    async def worker(self, worker_id: str) -> Worker | None: ...
    async def put_workers(self, workers: Iterable[Worker]) -> None: ...
    async def order(self, order_id: str) -> OrderRecord | None: ...
    async def orders_in(self, state: OrderState) -> list[OrderRecord]: ...
    async def plan(self, worker_id: str) -> list[Job]: ...
    async def plans(self) -> dict[str, list[Job]]: ...
    async def blocked(self) -> dict[str, frozenset[str]]:
        """Per customer, the workers it has blocked on any of its orders."""
    async def commit(self, commit: Commit) -> None: ...
    async def remembered(self, request_id: str) -> tuple[str, Any] | None:
        """The (fingerprint, response) stored for an idempotency key, if any."""
    async def remember(self, request_id: str, fingerprint: str, response: Any) -> None: ...


class MemoryStore:
    """The embedded store: plain dicts in this process. Returns copies, so that nothing a caller
    holds changes under it."""

    def __init__(self) -> None:
        self._workers: dict[str, Worker] = {}
        self._orders: dict[str, OrderRecord] = {}
        self._plans: dict[str, list[Job]] = {}
        self._blocked: dict[str, frozenset[str]] = {}
        self._requests: dict[str, tuple[str, Any]] = {}

    async def workers(self) -> list[Worker]:
        return list(self._workers.values())

    async def worker(self, worker_id: str) -> Worker | None:
        return self._workers.get(worker_id)

    async def put_workers(self, workers: Iterable[Worker]) -> None:
        self._workers.update((w.worker_id, w) for w in workers)

    async def order(self, order_id: str) -> OrderRecord | None:
        record = self._orders.get(order_id)
        return copy.copy(record) if record else None

    async def orders_in(self, state: OrderState) -> list[OrderRecord]:
        return [copy.copy(r) for r in self._orders.values() if r.state == state]

    async def plan(self, worker_id: str) -> list[Job]:
        return list(self._plans.get(worker_id, []))

    async def plans(self) -> dict[str, list[Job]]:
        # Job lists are replaced, never mutated in place, so sharing them is safe.
        return dict(self._plans)

    async def blocked(self) -> dict[str, frozenset[str]]:
        return dict(self._blocked)

    async def commit(self, commit: Commit) -> None:
        self._orders.update((r.order.order_id, copy.copy(r)) for r in commit.orders)
        for worker_id, jobs in commit.plans.items():
            self._plans[worker_id] = list(jobs)
        for customer, workers in commit.blocked.items():
            self._blocked[customer] = self._blocked.get(customer, frozenset()) | workers

    async def remembered(self, request_id: str) -> tuple[str, Any] | None:
        return self._requests.get(request_id)

    async def remember(self, request_id: str, fingerprint: str, response: Any) -> None:
        self._requests[request_id] = (fingerprint, response)
