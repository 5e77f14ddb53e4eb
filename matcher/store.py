"""Where the engine keeps its state: the :class:`Store` protocol and the embedded memory store.

The engine reads and writes only through this interface, so a shared store (Redis) can replace
the memory one without touching the planner. Writes that belong together go through
:meth:`Store.commit` as one unit.
"""

from __future__ import annotations

import asyncio
import heapq
import re
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import immutables

from matcher.credit import CreditRecord
from matcher.errors import Aborted, FailedPrecondition, InvalidArgument
from matcher.model import Event, Job, Location, OrderRecord, OrderState, Worker


class Plan(list):
    """A worker's day plan as read from a store: its jobs, and the ``version`` of the plan (0:
    never written; each write gives a new one), which a commit that replaces it must name."""

    def __init__(self, jobs: Iterable[Job] = (), version: int = 0) -> None:
        super().__init__(jobs)
        self.version = version


class FrozenPlan(tuple):
    """A day plan as a store shares it in a :class:`View`: its jobs, read-only, and its
    ``version``. Callers that want to change it make a list of it first."""

    version: int

    def __new__(cls, jobs: Iterable[Job] = (), version: int = 0) -> "FrozenPlan":
        plan = super().__new__(cls, jobs)
        plan.version = version
        return plan


def _owned(record: CreditRecord, stored: CreditRecord | None) -> CreditRecord:
    """The store's own copy of ``record``: its event list copied, unless it is the list the
    store holds already (handed out read-only by ``credits_due``)."""
    if stored is not None and record.events is stored.events:
        return record.sharing_events()
    return record.copy()


class PlanLog:
    """The ids of the workers whose plans each commit wrote, in order: which plans differ
    between two views of one store, without comparing every plan
    (:class:`~matcher.supply_log.SupplyLog`). It keeps the last ``keep`` ids at least; a mark
    older than that can no longer tell."""

    def __init__(self, keep: int = 1_000_000) -> None:
        self._keep = keep
        # (ids dropped before the list, the list): swapped whole when trimmed, so that a reader
        # in another thread slices a list that does not move under it
        self._state: tuple[int, list[str]] = (0, [])

    def add(self, worker_ids: Iterable[str]) -> None:
        dropped, ids = self._state
        ids.extend(worker_ids)
        if len(ids) > 2 * self._keep:
            cut = len(ids) - self._keep
            self._state = (dropped + cut, ids[cut:])

    def mark(self) -> "PlanMark":
        dropped, ids = self._state
        return PlanMark(self, dropped + len(ids))

    def written(self, since: "PlanMark", until: "PlanMark") -> list[str] | None:
        """The ids written after ``since`` up to ``until`` (repeats possible), or None when
        the log cannot tell (a mark of another log, or one it no longer keeps)."""
        dropped, ids = self._state
        if since.log is not self or until.log is not self or not dropped <= since.at <= until.at:
            return None
        return ids[since.at - dropped:until.at - dropped]


@dataclass(frozen=True, slots=True)
class PlanMark:
    """A place in a :class:`PlanLog`: the plans as of one view."""

    log: PlanLog
    at: int


def plans_written(since: PlanMark | None, until: PlanMark | None) -> list[str] | None:
    """Ids of the workers whose plans were written between two marks, or None when unknown."""
    if since is None or until is None:
        return None
    return since.log.written(since, until)


@dataclass(frozen=True, slots=True)
class View:
    """What a dispatch reads, as of one moment: every plan (with its version), the customers'
    blocks, the workers' reported locations, and the workers' version. Read-only: a store may
    share what it holds (the memory store hands out its immutable snapshot, so a view costs
    nothing however many plans there are)."""

    plans: Mapping[str, Sequence[Job]]
    blocked: Mapping[str, frozenset[str]]
    locations: Mapping[str, Location]
    workers_version: int
    plan_mark: PlanMark | None = None  # where the store's plan log stood (None: no log)


@dataclass(slots=True)
class Commit:
    """Writes applied together: order records, whole day plans, customer blocks, workers,
    credit records, locations, notices sent (keys) and the events that tell of it all."""

    orders: list[OrderRecord] = field(default_factory=list)
    plans: dict[str, list[Job]] = field(default_factory=dict)
    blocked: dict[str, set[str]] = field(default_factory=dict)  # customer -> workers to add
    workers: list[Worker] = field(default_factory=list)
    credit: dict[str, CreditRecord] = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    notices: set[str] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)
    # worker id -> the version of the plan this commit's plan for it was derived from
    expect_versions: dict[str, int] = field(default_factory=dict)
    # worker id -> the version of the worker this commit's worker was derived from (a change
    # of one field: status, credit); workers written whole (an upsert) need none
    expect_workers: dict[str, int] = field(default_factory=dict)
    # the workers' version (View.workers_version) the decisions written were made with: any
    # worker written since (gone offline, shifts changed, on another replica) refuses it
    workers_version: int | None = None
    # order id -> the version of a record the decisions read but this commit does not write
    # (0: none): the first order of a placed link, moved or unplanned since on another
    # replica, refuses it
    expect_orders: dict[str, int] = field(default_factory=dict)

    def based_on(self, worker_id: str, plan: list[Job]) -> None:
        """Note that the plan written for ``worker_id`` derives from ``plan`` as read."""
        self.expect_versions.setdefault(worker_id, getattr(plan, "version", 0))

    def record(self, order_id: str) -> OrderRecord | None:
        """The record of ``order_id`` this commit writes, if any."""
        return next((r for r in self.orders if r.order.order_id == order_id), None)

    def add(self, record: OrderRecord) -> OrderRecord:
        """Write ``record`` with this commit (once)."""
        if not any(r is record for r in self.orders):
            self.orders = [r for r in self.orders if r.order.order_id != record.order.order_id]
            self.orders.append(record)
        return record


class Store(Protocol):
    async def workers(self) -> list[Worker]: ...
    async def worker(self, worker_id: str) -> Worker | None: ...
    async def put_workers(self, workers: Iterable[Worker]) -> None: ...
    async def workers_version(self) -> int:
        """A number that changes whenever any worker is written (caches compare it)."""
    async def worker_version(self, worker_id: str) -> int:
        """This worker's version: it changes with every write of the worker (read it before
        the worker to change it)."""
    async def order(self, order_id: str) -> OrderRecord | None: ...
    async def orders_in(self, state: OrderState, *, shared: bool = False) -> list[OrderRecord]:
        """The orders in ``state``. ``shared``: the records may be the store's own, to read
        (a caller copies one before changing it); else they are the caller's."""
    async def lapsed_offers(self, now: int) -> list[OrderRecord]:
        """The OFFERED orders whose offer deadline is at or before ``now``."""
    async def linked_orders(self, state: OrderState) -> list[OrderRecord]:
        """The orders in ``state`` that are linked to another order (``orders_in`` of those
        with a link, in the same order)."""
    async def plan(self, worker_id: str) -> Plan: ...
    async def plans(self) -> dict[str, Plan]:
        """Every plan, as of one moment (with consistent versions)."""
    async def blocked(self) -> dict[str, frozenset[str]]:
        """Per customer, the workers it has blocked on any of its orders."""
    async def view(self) -> View:
        """Plans, blocks, locations and the workers' version in one consistent read."""
    async def commit(self, commit: Commit) -> None:
        """Apply every write of ``commit`` or none: Aborted when a plan it writes is no longer
        at the version it expects, or an order record it writes is no longer at the version
        it carries (a new record: when one exists). Gives the events their cursors."""
    async def credit(self, worker_id: str) -> CreditRecord | None: ...
    async def credits(self) -> dict[str, CreditRecord]: ...
    async def credits_due(self, refreshed_by: int) -> dict[str, CreditRecord]:
        """The credit records that have events and were last refreshed at or before
        ``refreshed_by`` (records without events do not change as time passes). Their event
        lists may be the store's own, to read: a caller adding events makes a new list."""
    async def locations(self) -> dict[str, Location]: ...
    async def noticed(self, key: str) -> bool:
        """Whether a notice with this key was committed (so it is sent once)."""
    async def events_after(self, cursor: str, limit: int) -> list[Event]:
        """Up to ``limit`` events after ``cursor`` ("" = from the first kept); a cursor the
        store never gave out is InvalidArgument on ``after_cursor``, one whose event is no
        longer kept (only the newest ``event_retention`` are, at least) FailedPrecondition."""
    async def wait_events(self, cursor: str, limit: int, timeout_s: float) -> list[Event]:
        """As :meth:`events_after`, waiting up to ``timeout_s`` for one when there is none."""
    async def remembered(self, request_id: str) -> tuple[str, Any] | None:
        """The (fingerprint, response) stored for an idempotency key, if any and not older
        than ``request_id_ttl_s``."""
    async def remember(self, request_id: str, fingerprint: str, response: Any) -> None:
        """Keep the first response under ``request_id`` for ``request_id_ttl_s``."""
    async def remembered_many(self, request_ids: Sequence[str]
                              ) -> list[tuple[str, Any] | None]:
        """:meth:`remembered` of each of ``request_ids``, in one read."""
    async def remember_many(self, entries: Sequence[tuple[str, str, Any]]) -> None:
        """:meth:`remember` of each (request id, fingerprint, response), in one write."""


# A cursor the memory store gives out: an event's number, from 1, in ASCII digits (at most 20:
# int() refuses a string of over 4,300 digits).
_CURSOR = re.compile(r"[1-9][0-9]{0,19}")


class MemoryStore:
    """The embedded store: plain dicts in this process. Returns copies, so that nothing a caller
    holds changes under it. Event cursors are the events' sequence numbers.

    The plans are a persistent map (``immutables.Map``, a hash array mapped trie) of
    :class:`FrozenPlan`: a commit makes a new map sharing all but the changed entries, so
    :meth:`view` hands out the map it holds as a snapshot, without copying any plan."""

    def __init__(self, *, event_retention: int = 1_000_000,
                 request_id_ttl_s: float = 86_400.0) -> None:
        self._workers: dict[str, Worker] = {}
        self._orders: dict[str, OrderRecord] = {}
        self._plans: immutables.Map[str, FrozenPlan] = immutables.Map()
        self._plan_log = PlanLog()
        self._blocked: immutables.Map[str, frozenset[str]] = immutables.Map()
        # request id -> (when it is forgotten, fingerprint, first response), oldest first
        self._requests: OrderedDict[str, tuple[float, str, Any]] = OrderedDict()
        self._request_id_ttl_s = request_id_ttl_s
        self._credit: dict[str, CreditRecord] = {}
        self._locations: immutables.Map[str, Location] = immutables.Map()
        self._notices: set[str] = set()
        self._events: list[Event] = []
        self._events_dropped = 0  # the cursor of self._events[i] is dropped + i + 1
        self._event_retention = event_retention
        self._appended = asyncio.Event()
        self._workers_version = 0
        self._worker_versions: dict[str, int] = {}
        # (offer deadline, order id) of every offer made; entries whose order moved on are
        # dropped when they come up (a tick reads the lapsed ones without scanning all orders)
        self._offers: list[tuple[int, str]] = []
        self._linked: dict[str, None] = {}  # ids of the orders with a link, in write order
        # the ids of the orders in each state, and each order's place in self._orders:
        # orders_in reads one state's orders, in write order, without scanning them all
        self._in_state: dict[OrderState, set[str]] = {s: set() for s in OrderState}
        self._written: dict[str, int] = {}
        # (refreshed at, worker id) of every credit record written with events; entries whose
        # record was written again are dropped when they come up (a tick reads the records
        # due for a refresh without copying every record)
        self._refreshes: list[tuple[int, str]] = []

    async def workers(self) -> list[Worker]:
        return list(self._workers.values())

    async def worker(self, worker_id: str) -> Worker | None:
        return self._workers.get(worker_id)

    async def put_workers(self, workers: Iterable[Worker]) -> None:
        for worker in workers:
            self._workers[worker.worker_id] = worker
            self._worker_versions[worker.worker_id] = self._worker_version_of(worker.worker_id) + 1
        self._workers_version += 1

    async def workers_version(self) -> int:
        return self._workers_version

    async def worker_version(self, worker_id: str) -> int:
        return self._worker_version_of(worker_id)

    def _worker_version_of(self, worker_id: str) -> int:
        return self._worker_versions.get(worker_id, 0)

    async def order(self, order_id: str) -> OrderRecord | None:
        record = self._orders.get(order_id)
        return record.copy() if record else None

    async def orders_in(self, state: OrderState, *, shared: bool = False) -> list[OrderRecord]:
        ids = sorted(self._in_state[state], key=self._written.__getitem__)
        if shared:
            return [self._orders[order_id] for order_id in ids]
        return [self._orders[order_id].copy() for order_id in ids]

    async def linked_orders(self, state: OrderState) -> list[OrderRecord]:
        records = (self._orders[order_id] for order_id in self._linked)
        return [r.copy() for r in records if r.state == state]

    async def lapsed_offers(self, now: int) -> list[OrderRecord]:
        due: dict[str, tuple[int, str]] = {}
        while self._offers and self._offers[0][0] <= now:
            deadline, order_id = heapq.heappop(self._offers)
            record = self._orders.get(order_id)
            if record is not None and record.state == OrderState.OFFERED \
                    and record.offer_deadline == deadline:
                due[order_id] = (deadline, order_id)
        for entry in due.values():  # still offered: they stay until a commit moves them on
            heapq.heappush(self._offers, entry)
        return [self._orders[order_id].copy() for order_id in due]

    async def plan(self, worker_id: str) -> Plan:
        plan = self._plans.get(worker_id)
        return Plan(plan, plan.version) if plan is not None else Plan()

    async def plans(self) -> dict[str, Plan]:
        return {w: Plan(p, p.version) for w, p in self._plans.items()}

    async def blocked(self) -> dict[str, frozenset[str]]:
        return dict(self._blocked)

    async def view(self) -> View:
        return View(self._plans, self._blocked, self._locations,
                    self._workers_version, self._plan_log.mark())

    async def commit(self, commit: Commit) -> None:
        self._check(commit)
        for record in commit.orders:
            record.version += 1
            self._file(record)
            self._orders[record.order.order_id] = record.copy()
            if record.order.link is not None:
                self._linked[record.order.order_id] = None
            if record.state == OrderState.OFFERED:
                heapq.heappush(self._offers, (record.offer_deadline, record.order.order_id))
        if commit.plans:
            with self._plans.mutate() as plans:
                for worker_id, jobs in commit.plans.items():
                    plans[worker_id] = FrozenPlan(jobs, self._version(worker_id) + 1)
                self._plans = plans.finish()
            self._plan_log.add(commit.plans)
        if commit.blocked:
            self._blocked = self._blocked.update(
                {customer: self._blocked.get(customer, frozenset()) | workers
                 for customer, workers in commit.blocked.items()})
        if commit.workers:
            await self.put_workers(commit.workers)
        for worker_id, record in commit.credit.items():
            record.version += 1
            self._credit[worker_id] = _owned(record, self._credit.get(worker_id))
            if record.events:
                heapq.heappush(self._refreshes, (record.refreshed_at, worker_id))
        if commit.locations:
            self._locations = self._locations.update(commit.locations)
        self._notices |= commit.notices
        if commit.events:
            first = self._events_dropped + len(self._events) + 1
            # (built directly: dataclasses.replace cost more than the rest of a commit)
            self._events += [Event(e.type, e.time, e.order_id, e.worker_id, e.detail,
                                   str(first + i)) for i, e in enumerate(commit.events)]
            self._drop_old_events()
            self._appended.set()
            self._appended = asyncio.Event()

    def _file(self, record: OrderRecord) -> None:
        """Move the order's id to the index of its new state (before the record is stored)."""
        order_id = record.order.order_id
        known = self._orders.get(order_id)
        if known is None:
            self._written[order_id] = len(self._written)
        else:
            self._in_state[known.state].discard(order_id)
        self._in_state[record.state].add(order_id)

    def _drop_old_events(self) -> None:
        excess = len(self._events) - self._event_retention
        # in chunks of an eighth: cutting a list's head one event at a time would cost the
        # whole list per commit
        if excess > self._event_retention // 8:
            del self._events[:excess]
            self._events_dropped += excess

    def _version(self, worker_id: str) -> int:
        plan = self._plans.get(worker_id)
        return plan.version if plan is not None else 0

    def _check(self, commit: Commit) -> None:
        for worker_id in commit.plans:
            expected = commit.expect_versions.get(worker_id)
            if expected is not None and expected != self._version(worker_id):
                raise Aborted(f"the plan of worker {worker_id!r} changed meanwhile (version "
                              f"{self._version(worker_id)}, expected {expected}); try again")
        for record in commit.orders:
            known = self._orders.get(record.order.order_id)
            if (known.version if known else 0) != record.version:
                raise Aborted(f"order {record.order.order_id!r} changed meanwhile; try again")
        for order_id, expected in commit.expect_orders.items():
            known = self._orders.get(order_id)
            if (known.version if known else 0) != expected:
                raise Aborted(f"order {order_id!r} changed meanwhile; try again")
        for worker_id, expected in commit.expect_workers.items():
            if expected != self._worker_version_of(worker_id):
                raise Aborted(f"worker {worker_id!r} changed meanwhile; try again")
        if commit.workers_version not in (None, self._workers_version):
            raise Aborted("the workers changed meanwhile; try again")
        for worker_id, record in commit.credit.items():
            known = self._credit.get(worker_id)
            if (known.version if known else 0) != record.version:
                raise Aborted(f"the credit of worker {worker_id!r} changed meanwhile; try "
                              "again")

    async def credit(self, worker_id: str) -> CreditRecord | None:
        record = self._credit.get(worker_id)
        return record.copy() if record else None

    async def credits(self) -> dict[str, CreditRecord]:
        return {k: v.copy() for k, v in self._credit.items()}

    async def credits_due(self, refreshed_by: int) -> dict[str, CreditRecord]:
        due: dict[str, tuple[int, str]] = {}
        while self._refreshes and self._refreshes[0][0] <= refreshed_by:
            refreshed_at, worker_id = heapq.heappop(self._refreshes)
            record = self._credit[worker_id]
            if record.events and record.refreshed_at == refreshed_at:
                due[worker_id] = (refreshed_at, worker_id)
        for entry in due.values():  # still due: they stay until a commit refreshes them
            heapq.heappush(self._refreshes, entry)
        # the event lists are shared, not copied: a refresh only rescores
        return {w: self._credit[w].sharing_events() for w in sorted(due)}

    async def locations(self) -> dict[str, Location]:
        return dict(self._locations)

    async def noticed(self, key: str) -> bool:
        return key in self._notices

    async def events_after(self, cursor: str, limit: int) -> list[Event]:
        start = self._position(cursor)
        return self._events[start:start + limit]

    async def wait_events(self, cursor: str, limit: int, timeout_s: float) -> list[Event]:
        appended = self._appended
        events = await self.events_after(cursor, limit)
        if events:
            return events
        try:  # (not wait_for: on 3.11 it drops a cancellation that meets the event)
            async with asyncio.timeout(timeout_s):
                await appended.wait()
        except TimeoutError:
            return []
        return await self.events_after(cursor, limit)

    def _position(self, cursor: str) -> int:
        if cursor == "":
            return 0
        last = self._events_dropped + len(self._events)
        # only the digits this service writes: str.isdigit() takes "²" and "١", int() "01"
        if _CURSOR.fullmatch(cursor) is None or not int(cursor) <= last:
            raise InvalidArgument("after_cursor", f"unknown cursor {cursor!r}: pass one this "
                                                  "service gave out, or empty for the start")
        if int(cursor) <= self._events_dropped:
            raise FailedPrecondition(dropped_cursor_message(cursor, self._event_retention))
        return int(cursor) - self._events_dropped

    async def remembered(self, request_id: str) -> tuple[str, Any] | None:
        entry = self._requests.get(request_id)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1], entry[2]

    async def remember(self, request_id: str, fingerprint: str, response: Any) -> None:
        now = time.monotonic()
        while self._requests and next(iter(self._requests.values()))[0] <= now:
            self._requests.popitem(last=False)
        self._requests.setdefault(request_id,
                                  (now + self._request_id_ttl_s, fingerprint, response))

    async def remembered_many(self, request_ids: Sequence[str]
                              ) -> list[tuple[str, Any] | None]:
        return [await self.remembered(request_id) for request_id in request_ids]

    async def remember_many(self, entries: Sequence[tuple[str, str, Any]]) -> None:
        for request_id, fingerprint, response in entries:
            await self.remember(request_id, fingerprint, response)


def dropped_cursor_message(cursor: str, retention: int) -> str:
    """FAILED_PRECONDITION's text for a cursor whose events are no longer kept."""
    return (f"after_cursor: the events after {cursor!r} are no longer kept (the store keeps "
            f"the newest {retention} at least): start again from an empty cursor")
