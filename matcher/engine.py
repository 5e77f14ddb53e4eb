"""The async engine: validates requests against the state, runs the planner off the event loop
and writes the outcome through the store.

Mutations are serialised by one lock per engine, so a decision is always made on the state it is
written to. Every refused request raises a :mod:`matcher.errors` error and writes nothing.
SubmitOrders requests that wait for the lock together are answered together (one plan read,
one vectorised first search, one outcome written), with the answers of one at a time.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
import dataclasses
import enum
import functools
import operator
from dataclasses import dataclass
from typing import Any, TypeVar

from geo import haversine_km
from matcher import lifecycle, metrics
from matcher.anchors import ANCHOR_ID, AnchoredPlans  # noqa: F401 (ANCHOR_ID: re-exported)
from matcher.anchors import anchor_at as _anchor_at, anchored as _anchored
from matcher.certificate_watch import CertificateWatch
from matcher.config import DispatchConfig
from matcher.credit import CreditRecord, credit_score
from matcher.coupled import is_coupled
from matcher.fingerprint import fingerprint as _fingerprint
from matcher.errors import (Aborted, AlreadyExists, DomainError, FailedPrecondition,
                            InvalidArgument, NotFound, Unavailable)
from matcher.infeasible_memo import InfeasibleMemo
from matcher.lifecycle import UNSTARTED
from matcher.engine_lifecycle import SCAN_EVERY_S, LifecycleOperations, iso
from matcher.model import (MAX_PRIORITY, Assignment, DispatchMode, Event, EventType, Job,
                           LinkType, Location, Order, OrderLink, OrderRecord, OrderState,
                           Unassigned, UnassignedReason, Worker)
from matcher.optimizer_process import OptimizerProcess
from matcher.planner import DispatchResult, Explanation, Planner
from matcher.planner_slot import PlannerSlot
from matcher.refit_memo import Recheck, RefitMemo
from matcher.request_context import REQUEST_ID, request_scope
from matcher.reoptimise import PlanScope, Reoptimised, Reoptimiser, assignment_at
from matcher.world import KeptColumns, PlanOverlay, World
from matcher.store import Commit, Store, View
from matcher.worker_table import WorkerTable

T = TypeVar("T")
log = logging.getLogger("homedispatch.engine")

# Dispatches of at most this many orders (an instant order) are planned on the event loop:
# about a millisecond, less than handing them to the solver thread, whose hand-offs wait for
# the interpreter lock the loop holds. Rounds of more orders go to the thread.
INLINE_ORDERS = 1
# Times a SubmitOrders request holding the lock waits ``gather_turns`` more turns of the event
# loop while other requests keep queueing behind it (see Engine._gather).
GATHER_ROUNDS = 4
# What _recall gives for a request id with no answer remembered (None is an answer: an empty one).
NOT_SEEN = object()
# Tries of one dispatch when other replicas' writes keep refusing its commit.
DISPATCH_ATTEMPTS = 5
# States from which an order can still be cancelled; the others are final.
CANCELLABLE = (OrderState.PENDING, OrderState.OFFERED, OrderState.ASSIGNED)
# States in which an order holds its place in its workers' plans.
PLACED = (OrderState.OFFERED, OrderState.ASSIGNED, OrderState.IN_PROGRESS, OrderState.COMPLETED)


class CancelledBy(enum.IntEnum):
    CUSTOMER = 1
    WORKER = 2
    CENTRE = 3


@dataclass(frozen=True, slots=True)
class SubmitResult:
    assignments: list[Assignment]
    unassigned: list[Unassigned]
    accepted: int


@dataclass(slots=True, eq=False)  # (one request is not another with the same fields)
class _Submit:
    """A SubmitOrders request waiting for the engine's lock, then its answer or error;
    ``finished`` resolves when it has one."""

    orders: Sequence[Order]
    now: int
    request_id: str
    planner: Planner  # the config the request started with (pinned)
    log_id: str  # the request id its log lines carry (matcher.request_context)
    finished: asyncio.Future
    answer: SubmitResult | None = None
    error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.answer is not None or self.error is not None

    def settle(self, error: BaseException) -> None:
        """Wake its caller: with its answer or error, else with ``error``."""
        if not self.done:
            self.error = error
        if not self.finished.done():
            self.finished.set_result(None)

    @property
    def body(self) -> tuple:
        """What its request id is remembered with."""
        return ("submit", self.orders)

    def plain(self) -> bool:
        """Whether it can be answered together with others: its orders are neither team nor
        linked orders (those read other orders' states) nor block workers (that changes
        plans and blocks before any dispatch)."""
        return all(not is_coupled(o) and not o.blocked_worker_ids for o in self.orders)


@dataclass(frozen=True, slots=True)
class Leg:
    """A planned job with the travel leg that leads to it."""

    job: Job
    travel_s: int
    travel_km: float


@dataclass(frozen=True, slots=True)
class Region:
    lat: float
    lon: float
    radius_km: float


_WORKER_ID = operator.attrgetter("worker_id")


class Engine(LifecycleOperations):
    def __init__(self, store: Store, config: DispatchConfig, *, gather_turns: int = 0,
                 optimizer: OptimizerProcess | None = None) -> None:
        """``gather_turns``: turns of the event loop a SubmitOrders request holding the lock
        lets concurrent ones queue behind it, to be answered together (a server's engine; 0:
        none, for a caller that sends one request at a time, such as the simulator).
        ``optimizer``: the child process :meth:`optimize_plans` solves in (a server's engine:
        OR-Tools holds the interpreter while it searches); without one it solves on this
        process's solver thread."""
        self.store = store
        self._planners = PlannerSlot(Planner(config))
        self._lock = asyncio.Lock()
        self._optimizer = optimizer
        self._optimize_lock = asyncio.Lock()  # one re-optimisation at a time
        self._once_lock = asyncio.Lock()  # serialises once(): a retry waits for the first run
        # Held by each reload from reading its text to the swap (matcher.config_reload): a
        # reload compares with what the one before it put in force, never with a config that
        # a pending swap is about to replace.
        self.reload_lock = asyncio.Lock()
        self._solver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="solver")
        self._table: WorkerTable | None = None
        self._table_version = -1  # the store's workers version the table was built from
        self._scanned_at = -SCAN_EVERY_S  # when tick last looked at every worker
        self._memo = InfeasibleMemo()  # orders batch Dispatch found infeasible
        self._certificates = CertificateWatch()  # workers tick's certificate check reads
        self._columns = KeptColumns()  # the plans' job columns, kept between batch rounds
        self._refits = RefitMemo()  # what each worker's last revalidation found still fits
        self._submits: list[_Submit] = []  # SubmitOrders requests waiting for the lock
        self._drainer: asyncio.Task | None = None  # the task answering them (_drain_queue)
        self._gather_turns = gather_turns

    @property
    def planner(self) -> Planner:
        """The planner of the config in force (or the one the current request pinned)."""
        return self._planners.current

    @planner.setter
    def planner(self, planner: Planner) -> None:
        self._planners.swap(planner)

    @property
    def config(self) -> DispatchConfig:
        return self.planner.config

    @property
    def config_in_force(self) -> DispatchConfig:
        """The config new requests start with, even inside a pinned context."""
        return self._planners.in_force.config

    def pinned(self):
        """A context in which every read of :attr:`planner` and :attr:`config` sees the
        config in force when it was entered (a request's whole run; see
        :mod:`matcher.planner_slot`)."""
        return self._planners.pinned()

    async def reload(self, config: DispatchConfig) -> None:
        """Put ``config`` (already validated) in force. The swap waits for the mutation in
        progress, so no write mixes two configs; requests already running keep theirs. A
        reload holds :attr:`reload_lock` around this (:func:`matcher.config_reload.reload`)."""
        planner = Planner(config)
        async with self._lock:
            self._planners.swap(planner)

    async def once(self, request_id: str, body: Any, run: Callable[[], Awaitable[T]]) -> T:
        """``run()`` once per request id, for a request whose work takes the engine's lock
        itself (ReloadConfig: its swap waits in :meth:`reload`): a retry with the same body
        gets the first answer, another body under the same id is AlreadyExists."""
        async with self._once_lock:
            return await self._idempotent(request_id, body, run)

    def close(self) -> None:
        if self._optimizer is not None:
            self._optimizer.close()
        self._solver.shutdown(wait=True)

    # ------------------------------------------------------------------ workers

    async def upsert_workers(self, workers: Sequence[Worker], request_id: str = "", *,
                             now: int = 0) -> int:
        """Create or replace workers. Jobs not started by ``now`` that a changed worker can no
        longer do go back to pending; jobs already started stay (0: none has started)."""
        self._check_unique([w.worker_id for w in workers], "workers", "worker_id")
        for i, worker in enumerate(workers):
            for k, skill in enumerate(worker.skills):
                self._check_service_type(skill.service_type,
                                         f"workers[{i}].skills[{k}].service_type")
        async with self._lock:
            return await self._idempotent(request_id, ("upsert", workers),
                                          lambda: self._upsert(workers, now))

    async def _upsert(self, workers: Sequence[Worker], now: int) -> int:
        """The upserted ``credit_score`` is the worker's base score; its credit events (if
        any) still apply on top (:mod:`matcher.credit`)."""
        commit = Commit()
        effective = []
        tier_of = self.planner.tiers.tier_of
        for worker in workers:
            known = await self.store.credit(worker.worker_id)
            record = CreditRecord(worker.credit_score, known.events if known else [], now,
                                  known.version if known else 0)
            commit.credit[worker.worker_id] = record
            score = credit_score(record.base, record.events, now, self.config.credit)
            effective.append(dataclasses.replace(worker, credit_score=score))
            stored = await self.store.worker(worker.worker_id)
            if stored is not None and stored.credit_score != score:  # as _rescore tells it
                what = (f"base score set to {worker.credit_score:.2f}"
                        if known is None or known.base != worker.credit_score
                        else "older events decayed")
                commit.events.append(Event(EventType.CREDIT_CHANGED, now, "", worker.worker_id,
                                           f"{stored.credit_score:.2f} -> {score:.2f}: {what}"))
                was, tier = tier_of(stored.credit_score), tier_of(score)
                if tier != was:
                    commit.events.append(Event(EventType.TIER_CHANGED, now, "",
                                               worker.worker_id, f"{was} -> {tier}: {what}"))
        commit.workers = effective  # written with the plans they change, in one commit
        for worker in effective:
            await self._revalidate(worker, commit, now,
                                   f"unassigned: worker {worker.worker_id} changed")
        await self._commit_and_replace(commit, now)
        return len(workers)

    async def _revalidate(self, worker: Worker, commit: Commit, now: int, why: str) -> None:
        """Jobs not under way (:func:`_underway`) that ``worker`` (as it is now, before it is
        stored) can no longer do go back to the pool. An offer whose start has come needs the
        worker to pass the static checks still (online, certified, above the credit floor
        ...); a job still to come, its whole slot."""
        jobs = await self._plan_in(commit, worker.worker_id)
        if not jobs:
            return
        table = WorkerTable([worker])  # the checks of one worker's day read only its row
        blocked = await self.store.blocked()
        anchor = await self._anchor(worker, jobs, now)
        refit = self._refits.check(worker, self.planner)
        kept: list[Job] = []
        gone: list[str] = []
        for job in jobs:
            record = commit.record(job.order_id) or await self.store.order(job.order_id)
            world = World(table, {worker.worker_id: _anchored(kept, anchor)}, blocked)
            if record is None or _underway(record, job, now):
                stays = True
            elif job.start < now:  # an offer whose start has come: who may still hold it
                stays = self.planner.still_eligible(await self._binding(record), job, worker,
                                                    world)
            else:
                stays = refit.still_fits(await self._binding(record), job, world)
            if stays:
                kept.append(job)
            else:
                gone.append(job.order_id)
        if gone:  # (a plan written unchanged would still count as changed for every reader)
            commit.plans[worker.worker_id] = kept
            await self._unplan(gone, why, commit, now)

    async def _prefetch_refits(self, workers: list[Worker], now: int) -> None:
        """Price ahead, together, the revalidations of ``workers`` (as they are to be, their
        credit fallen) that a credit refresh will run: the refit memo keeps the answers for
        the revalidations to read (:meth:`RefitMemo.prefetch`)."""
        rechecks = []
        for changed in workers:
            jobs = await self.store.plan(changed.worker_id)
            anchor = await self._anchor(changed, jobs, now)
            checks, before = [], []
            for job in jobs:  # each job after the ones before it, as if all still fit
                placed = await self.store.order(job.order_id) if job.start >= now else None
                if placed is not None and placed.state in UNSTARTED:
                    checks.append(Recheck(await self._binding(placed), job,
                                          tuple(_anchored(before, anchor))))
                before.append(job)
            rechecks.append((changed, checks))
        self._refits.prefetch(self.planner, rechecks, await self.store.blocked())

    async def _drop_blocked_jobs(self, orders: Sequence[Order], now: int,
                                 commit: Commit) -> None:
        """A customer who blocks a worker loses that worker on its jobs not yet started."""
        for order in orders:
            for worker_id in sorted(order.blocked_worker_ids):
                jobs = await self._plan_in(commit, worker_id)
                gone = [j.order_id for j in jobs if j.customer_id == order.customer_id
                        and j.order_id != order.order_id and not _underway(
                            commit.record(j.order_id) or await self.store.order(j.order_id),
                            j, now)]
                await self._unplan(gone, f"unassigned: customer blocked worker {worker_id}",
                                   commit, now)

    async def _plan_in(self, commit: Commit, worker_id: str) -> list[Job]:
        """A worker's plan as ``commit`` leaves it."""
        if worker_id in commit.plans:
            return commit.plans[worker_id]
        plan = await self.store.plan(worker_id)
        commit.based_on(worker_id, plan)
        return plan

    async def _unplan(self, order_ids: Sequence[str], why: str, commit: Commit,
                      now: int, exclude: Sequence[str] = ()) -> None:
        """The orders go back to pending (those not started; ``exclude`` are workers that
        may not have them again): each of their jobs leaves every plan (a team job loses all
        its members), and the orders placed relative to them (linked orders whose jobs have
        not started) follow."""
        # each with its reason and excluded workers: the orders named, then their followers
        todo = [(order_id, why, tuple(exclude)) for order_id in order_ids]
        done, dependents = set(), None
        while todo:
            order_id, why, exclude = todo.pop(0)
            if order_id in done:
                continue
            done.add(order_id)
            record = commit.record(order_id) or await self.store.order(order_id)
            if record is None or record.state not in UNSTARTED:
                continue
            for worker_id in record.worker_ids:
                jobs = await self._plan_in(commit, worker_id)
                commit.plans[worker_id] = [j for j in jobs if j.order_id != order_id]
            commit.add(record)
            record.excluded |= set(exclude)
            record.state, record.assignments, record.accepted, record.offer_deadline = (
                OrderState.PENDING, [], set(), 0)
            record.history.append(why)
            commit.events.append(Event(EventType.REDISPATCHED, now, order_id, "", why))
            if dependents is None:
                dependents = await self._dependents()
            follow, stay = [], set()
            for linked in dependents.get(order_id, []):
                if linked.state in UNSTARTED and all(a.planned_start >= now
                                                     for a in linked.assignments):
                    follow.append(linked.order.order_id)
                else:
                    stay.add(linked.order.order_id)
            record.bound_by |= stay  # (one that is no longer placed binds nothing: _bound)
            todo += [(linked_id, f"unassigned: its linked order {order_id} lost its worker", ())
                     for linked_id in follow]

    async def _dependents(self) -> dict[str, list[OrderRecord]]:
        """Per order id, the orders linked to it that are placed and not done (a store reads
        every order in a state: the completed ones, a day's worth, are left out)."""
        out: dict[str, list[OrderRecord]] = {}
        for state in (OrderState.OFFERED, OrderState.ASSIGNED, OrderState.IN_PROGRESS):
            for record in await self.store.linked_orders(state):
                out.setdefault(record.order.link.order_id, []).append(record)
        return out

    async def _commit_and_replace(self, commit: Commit, now: int, batched: bool = True) -> None:
        """Write ``commit``, then place again at once the orders it sent back to the pool
        (only the instant ones unless ``batched``: the others wait for the next round)."""
        await self.store.commit(commit)
        back = [r.order.order_id for r in commit.orders if r.state == OrderState.PENDING
                and (batched or r.order.mode == DispatchMode.INSTANT) and any(e.type == EventType.REDISPATCHED and e.order_id == r.order.order_id
                        for e in commit.events)]
        records = [r for r in [await self.store.order(o) for o in back]
                   if r is not None and r.state == OrderState.PENDING]
        if records:
            records.sort(key=lambda r: (r.submitted_at, r.order.order_id))
            await self._run_dispatch(records, now)

    async def worker_schedule(self, worker_id: str) -> tuple[Worker, list[Leg]]:
        worker = await self.store.worker(worker_id)
        if worker is None:
            raise NotFound(f"worker {worker_id!r} not found")
        jobs = await self.store.plan(worker_id)
        return worker, self._legs(worker, jobs)

    def _legs(self, worker: Worker, jobs: list[Job]) -> list[Leg]:
        legs, prev, day = [], None, self.planner.day_rules.calendar.day
        for job in jobs:
            from_home = prev is None or day(prev.start) != day(job.start)
            lat, lon = (worker.home_lat, worker.home_lon) if from_home else (prev.lat, prev.lon)
            travel_s, km = self.planner.day_rules.leg(lat, lon, job.lat, job.lon)
            legs.append(Leg(job, travel_s, km))
            prev = job
        return legs

    # ------------------------------------------------------------------ orders

    async def submit_orders(self, orders: Sequence[Order], now: int,
                            request_id: str = "") -> SubmitResult:
        """Accept orders (idempotent on order id); place the instant ones at once.

        The request queues; one task at a time (:meth:`_drain_queue`) holds the lock and
        answers every queued request, each as if it had had the lock alone, in the order they
        came. A caller cancelled while its request waits takes it out of the queue: it never
        runs. Once a drain has taken it, it runs to its end whatever becomes of its caller,
        so its orders are written whole and its answer is remembered for a retry."""
        self._check_unique([o.order_id for o in orders], "orders", "order_id")
        for i, order in enumerate(orders):
            self._check_service_type(order.service_type, f"orders[{i}].service_type")
        request = _Submit(orders, now, request_id, self.planner, REQUEST_ID.get(),
                          asyncio.get_running_loop().create_future())
        self._submits.append(request)
        if self._drainer is None or self._drainer.done():
            # its own context: no caller's pinned config or log id (each run pins its own)
            self._drainer = asyncio.create_task(self._drain_queue(),
                                                context=contextvars.Context())
            self._drainer.add_done_callback(self._refuse_queued)
        try:
            await request.finished  # (cancelling the caller cancels this future alone)
        finally:
            if not request.done and request in self._submits:  # cancelled while waiting
                self._submits.remove(request)
        if request.error is not None:
            raise request.error
        return request.answer

    async def _drain_queue(self) -> None:
        """Hold the lock and answer the queued SubmitOrders requests until none is left."""
        async with self._lock:
            await self._gather()
            while self._submits:
                queued, self._submits = self._submits, []
                await self._drain(queued)

    def _refuse_queued(self, drainer: asyncio.Task) -> None:
        """When the task answering the queue did not end normally (cancelled as the event
        loop closes, perhaps before it began; or failed), the requests still queued are
        refused rather than left waiting, unless a newer task has taken the queue over."""
        if drainer is not self._drainer:
            return
        if not drainer.cancelled():
            if drainer.exception() is None:
                return
            log.error("answering SubmitOrders failed", exc_info=drainer.exception())
        queued, self._submits = self._submits, []
        for request in queued:
            request.settle(Unavailable("the engine stopped before answering; retry"))

    async def _gather(self) -> None:
        """Give the requests the server has already received (their handlers need a few turns
        of the event loop to reach the queue) ``gather_turns`` turns to queue behind this
        one, and as many again while they keep coming (at most :data:`GATHER_ROUNDS` times):
        the more requests a drain answers together, the less each costs."""
        if not self._gather_turns:
            return
        for _ in range(GATHER_ROUNDS):
            queued = len(self._submits)
            for _ in range(self._gather_turns):
                await asyncio.sleep(0)
            if len(self._submits) == queued:
                return

    async def _drain(self, queued: list[_Submit]) -> None:
        """Answer the ``queued`` requests in the order they came, in runs of requests that
        can go together (:meth:`_together`); the caller holds the lock."""
        try:
            while queued:
                run = self._together(queued)
                try:
                    with self._planners.pinned(run[0].planner):
                        if len(run) == 1:
                            await self._submit_alone(run[0])
                        else:
                            await self._submit_together(run)
                except Exception as error:  # not a refusal of one request: the whole run's
                    for request in run:
                        request.settle(error)
                for request in run:
                    request.settle(RuntimeError("a drain left a request without an answer"))
                del queued[:len(run)]
        finally:
            for request in queued:  # this task was cancelled mid-drain
                request.settle(Unavailable("the engine stopped before answering; retry"))

    @staticmethod
    def _together(queued: list[_Submit]) -> list[_Submit]:
        """The first queued requests that can be answered together: plain ones (see
        :meth:`_Submit.plain`) with the same ``now`` and config, none repeating a request id
        or an order id of an earlier one (a repeat waits for the earlier answer to be
        written, then gets it)."""
        first = queued[0]
        run, ids, orders = [first], {first.request_id}, {o.order_id for o in first.orders}
        if not first.plain():
            return run
        for request in queued[1:]:
            mine = {o.order_id for o in request.orders}
            if (not request.plain() or request.now != first.now
                    or request.planner is not first.planner
                    or (request.request_id and request.request_id in ids)
                    or not mine.isdisjoint(orders)):
                break
            run.append(request)
            ids.add(request.request_id)
            orders |= mine
        return run

    async def _submit_alone(self, request: _Submit) -> None:
        try:
            with request_scope(request.log_id):
                request.answer = await self._idempotent(
                    request.request_id, request.body,
                    lambda: self._submit(request.orders, request.now))
        except DomainError as error:
            request.error = error

    async def _submit_together(self, run: list[_Submit]) -> None:
        """Answer plain requests of one ``now`` as :meth:`_submit_alone` of each in turn
        would: each is looked up (request id) and checked, and its orders written (a refusal
        is its own); then the instant orders still pending of all of them are placed
        by one :meth:`_run_each`, in the order they came, and the answers split back. The
        request ids of the run are looked up in one read, its new orders written in one
        commit (:meth:`_accept_run`) and its answers remembered in one write (on Redis, a
        round trip each rather than one per request)."""
        now = run[0].now
        fresh: list[tuple[_Submit, str]] = []  # (request, fingerprint) of the ones not seen
        for request, seen in zip(run, await self._recall_run(run)):
            try:
                with request_scope(request.log_id):
                    if isinstance(seen, BaseException):
                        raise seen
                    if seen[1] is not NOT_SEEN:
                        request.answer = seen[1]
                    else:
                        fresh.append((request, seen[0]))
            except Exception as error:  # its own failure, as it would be alone
                request.error = error
        accepted, stored = await self._accept_run(fresh, now)
        records, placed_before = [], {}
        for request, _ in accepted:
            for order in request.orders:
                if order.mode == DispatchMode.INSTANT:
                    record = stored[order.order_id]
                    if record.state == OrderState.PENDING:
                        records.append(record)
                    else:
                        placed_before[order.order_id] = record.assignments
        results = await self._run_each(records, now) if records else {}
        answers = []
        for request, _ in accepted:
            with request_scope(request.log_id):
                answers.append(self._answer(request, placed_before, results))
        await self.store.remember_many([
            (request.request_id, fingerprint, answer)
            for (request, fingerprint), answer in zip(accepted, answers) if request.request_id])
        for (request, _), answer in zip(accepted, answers):
            request.answer = answer

    async def _accept_run(self, fresh: list[tuple[_Submit, str]], now: int
                          ) -> tuple[list[tuple[_Submit, str]], dict[str, OrderRecord]]:
        """:meth:`_accept` of each request of ``fresh`` (plain ones, no two with an order id
        in common; each with its fingerprint) as alone, in turn: those accepted, and each
        accepted order's record. Their orders are mostly new: written first in one commit,
        each expected not to exist (one write instead of one per request: on Redis, a round
        trip each). When one exists (nothing was written) or the write fails, each request
        is accepted alone, so that a failure is the failing request's own."""
        if len(fresh) > 1:
            records = [OrderRecord(o, OrderState.PENDING, now, history=["submitted"])
                       for request, _ in fresh for o in request.orders]
            try:
                await self.store.commit(Commit(orders=records))
                return fresh, {r.order.order_id: r for r in records}
            except Exception:  # noqa: BLE001 (Aborted, or the store's error: each alone)
                pass
        accepted: list[tuple[_Submit, str]] = []
        stored: dict[str, OrderRecord] = {}
        for request, fingerprint in fresh:
            try:
                with request_scope(request.log_id):
                    stored |= await self._accept(request.orders, now)
                    accepted.append((request, fingerprint))
            except Exception as error:  # its own failure, as it would be alone
                request.error = error
        return accepted, stored

    async def _recall_run(self, run: list[_Submit]) -> list[tuple[str, Any] | BaseException]:
        """Per request of ``run``: its fingerprint and the answer remembered under its
        request id (NOT_SEEN: none, or no request id), or the error :meth:`_recall` would
        raise for it alone."""
        fingerprints = [_fingerprint(r.body) if r.request_id else "" for r in run]
        named = [r.request_id for r in run if r.request_id]
        try:
            remembered = iter(await self.store.remembered_many(named) if named else [])
        except Exception as error:  # (the store's failure is every named request's own)
            return [error if r.request_id else (f, NOT_SEEN) for r, f in zip(run, fingerprints)]
        out: list[tuple[str, Any] | BaseException] = []
        for request, fingerprint in zip(run, fingerprints):
            seen = next(remembered) if request.request_id else None
            try:
                out.append((fingerprint, _answer_seen(request.request_id, fingerprint, seen)))
            except AlreadyExists as error:
                out.append(error)
        return out

    def _answer(self, request: _Submit, placed_before: dict[str, list[Assignment]],
                results: dict[str, DispatchResult]) -> SubmitResult:
        """``request``'s share of a drain's outcome (its dispatches counted and logged under
        its own log id)."""
        assignments, unassigned = [], []
        for order in request.orders:
            if order.order_id in placed_before:
                assignments += placed_before[order.order_id]
            elif order.order_id in results:
                result = results[order.order_id]
                self._dispatched(1, result)
                assignments += result.assignments
                unassigned += result.unassigned
        return SubmitResult(assignments, unassigned, len(request.orders))

    async def _submit(self, orders: Sequence[Order], now: int) -> SubmitResult:
        stored = await self._accept(orders, now)
        assignments, unassigned = [], []
        dispatched = False
        for order in orders:
            if order.mode == DispatchMode.INSTANT:
                # (read again once a dispatch ran: placing a team or a link may change others)
                record = (await self.store.order(order.order_id) if dispatched
                          else stored[order.order_id])
                if record.state == OrderState.PENDING:
                    dispatched = True
                    result = await self._run_dispatch([record], now)
                    assignments += result.assignments
                    unassigned += result.unassigned
                else:
                    assignments += record.assignments
        return SubmitResult(assignments, unassigned, len(orders))

    async def _accept(self, orders: Sequence[Order], now: int) -> dict[str, OrderRecord]:
        """Check ``orders`` against the state and write the new ones, pending (with their
        customers' blocks, and the jobs of blocked workers unplanned); the record of each of
        ``orders`` as it stands after that (the caller's own copy, as a read gives)."""
        if not any(o.link or o.blocked_worker_ids for o in orders):
            # mostly they are new: written at once, each expected not to exist (no read of
            # each first: on Redis, a round trip); when one exists, nothing was written
            records = [OrderRecord(o, OrderState.PENDING, now, history=["submitted"])
                       for o in orders]
            try:
                await self.store.commit(Commit(orders=records))
                return {r.order.order_id: r for r in records}
            except Aborted:
                pass  # (one of them exists: see whether it is the same order)
        new: list[Order] = []
        records: dict[str, OrderRecord] = {}
        for i, order in enumerate(orders):
            known = await self.store.order(order.order_id)
            if known is None:
                new.append(order)
            elif known.order != order:
                raise AlreadyExists(f"orders[{i}].order_id: order {order.order_id!r} exists "
                                    "with different content")
            else:
                records[order.order_id] = known
            await self._check_link(order, orders[:i], f"orders[{i}].link.order_id")
        commit = Commit(orders=[OrderRecord(o, OrderState.PENDING, now, history=["submitted"])
                                for o in new])
        for order in new:
            if order.blocked_worker_ids:
                commit.blocked.setdefault(order.customer_id, set()).update(
                    order.blocked_worker_ids)
        await self._drop_blocked_jobs(new, now, commit)
        await self.store.commit(commit)
        # (a written record is the one stored now: the commit gave it its new version)
        asked = {o.order_id for o in orders}
        records.update((r.order.order_id, r) for r in commit.orders if r.order.order_id in asked)
        return records

    async def _check_link(self, order: Order, before: Sequence[Order], field: str) -> None:
        """A link names an order of the same customer that exists already or comes earlier in
        the same request (so links never form a cycle)."""
        if order.link is None:
            return
        target = next((o for o in before if o.order_id == order.link.order_id), None)
        if target is None:
            record = await self.store.order(order.link.order_id)
            if record is None:
                raise NotFound(f"{field}: order {order.link.order_id!r} not found (a linked "
                               "order must exist or come earlier in the same request)")
            target = record.order
        if target.customer_id != order.customer_id:
            raise InvalidArgument(field, f"order {target.order_id!r} belongs to another "
                                         "customer; links join orders of one customer")

    async def dispatch(self, order_ids: Sequence[str], now: int,
                       region: Region | None = None, request_id: str = "") -> DispatchResult:
        """One Dispatch call: batch rounds over the pending orders (or the given ones)."""
        async with self._lock:
            # (a request's body is what it asks, not when: ``now`` is the server's clock when
            # the client gives no time, and a retry comes later)
            return await self._idempotent(
                request_id, ("dispatch", sorted(order_ids), region),
                lambda: self._dispatch(order_ids, now, region))

    async def _dispatch(self, order_ids: Sequence[str], now: int,
                        region: Region | None) -> DispatchResult:
        if order_ids:  # refused before any offer lapses: a refusal changes nothing
            self._check_unique(list(order_ids), "order_ids", None)
            for i, order_id in enumerate(order_ids):
                self._pending_by(await self.store.order(order_id), order_id, i, now)
        await self._expire_offers(now)
        if order_ids:
            records = [await self._pending(oid, i) for i, oid in enumerate(order_ids)]
        else:
            # read, not copied: the outcome copies the records it changes (few of them)
            records = await self.store.orders_in(OrderState.PENDING, shared=True)
        if region is not None:
            records = [r for r in records if haversine_km(
                region.lat, region.lon, r.order.lat, r.order.lon) <= region.radius_km]
        records.sort(key=lambda r: (r.submitted_at, r.order.order_id))
        return await self._run_dispatch(records, now, remember=True)

    async def optimize_plans(self, worker_ids: Sequence[str], now: int,
                             time_limit_s: float | None = None,
                             request_id: str = "") -> Reoptimised:
        """Re-optimise the plans of ``worker_ids`` (all workers when empty) from ``now`` on,
        placing pending orders where they fit; the plans change only when they get cheaper."""
        self._check_unique(list(worker_ids), "worker_ids", None)
        limit = self.config.optimizer.time_limit_s if time_limit_s is None else time_limit_s
        async with self._optimize_lock:  # (a retry waits for the first run's answer)
            return await self._idempotent(
                request_id, ("optimize", sorted(worker_ids), time_limit_s),
                lambda: self._optimize(worker_ids, now, limit))

    async def _optimize(self, worker_ids: Sequence[str], now: int, limit: float) -> Reoptimised:
        """Read the scope, search without the lock (dispatch goes on meanwhile), then write
        the new plans only if nothing they were made from changed: the plans they replace,
        the orders they move or place, the orders linked to those either way, the workers
        (status, shifts, credit) and the customers' blocks; else Aborted, and nothing is
        written. One config throughout (a reload meanwhile applies to the next run)."""
        with self._planners.pinned():
            async with self._lock:
                scope, records, workers_version = await self._optimize_scope(worker_ids, now)
                links = await self._link_versions(scope.orders)
            result = await self._search(scope, limit)
            if result.improved:
                async with self._lock:
                    commit = self._reoptimised(scope, result, records)
                    commit.workers_version = workers_version
                    await self._check_blocks(scope, commit)
                    if await self._link_versions(scope.orders) != links:
                        raise Aborted("an order linked to one in the re-optimised plans "
                                      "changed meanwhile; try again")
                    # (and still so when the store writes: another replica's commit refuses it)
                    commit.expect_orders = {o: max(v, 0) for o, v in links.items()
                                            if commit.record(o) is None}
                    await self.store.commit(commit)
                placed = set(result.placed)  # (a team's order counts each of its workers)
                metrics.ASSIGNED.inc(sum(j.order_id in placed for jobs in commit.plans.values()
                                         for j in jobs))
            return result

    async def _search(self, scope: PlanScope, limit: float) -> Reoptimised:
        """The re-optimisation of ``scope``: in the child process when the engine has one,
        else on the solver thread."""
        solutions = self.config.optimizer.solution_limit
        if self._optimizer is not None:
            return await self._optimizer.run(self.planner, scope, limit, solutions)
        return await asyncio.get_running_loop().run_in_executor(
            self._solver, Reoptimiser(self.planner).run, scope, limit, solutions)

    async def _link_versions(self, orders: dict[str, Order]) -> dict[str, int]:
        """The record version of every order linked either way to one of ``orders``: the
        ones they follow and the placed ones that follow them. Their moves rest on those (a
        follower placed or a first order declined meanwhile changes this)."""
        partners = {o.link.order_id for o in orders.values() if o.link is not None}
        for first, dependents in (await self._dependents()).items():
            if first in orders:
                partners.update(d.order.order_id for d in dependents)
        versions = {}
        for order_id in sorted(partners):
            record = await self.store.order(order_id)
            versions[order_id] = -1 if record is None else record.version
        return versions

    async def _optimize_scope(self, worker_ids: Sequence[str], now: int
                              ) -> tuple[PlanScope, dict[str, OrderRecord], int]:
        """What a re-optimisation of ``worker_ids`` (every worker when empty) reads: its
        scope, the order records in it, and the workers' version it was read at."""
        workers_version = await self.store.workers_version()  # (read before the workers)
        every = {w.worker_id: w for w in await self.store.workers()}
        for i, worker_id in enumerate(worker_ids):
            if worker_id not in every:
                raise NotFound(f"worker_ids[{i}]: worker {worker_id!r} not found")
        workers = [every[w] for w in sorted(worker_ids or every)]
        plans = {w.worker_id: await self.store.plan(w.worker_id) for w in workers}
        records = {j.order_id: await self.store.order(j.order_id)
                   for jobs in plans.values() for j in jobs}
        pending = [r for r in await self.store.orders_in(OrderState.PENDING)
                   if r.order.latest_start + self._max_late(r.order) >= now
                   and await self._first_in_scope(r.order, plans)]
        records.update((r.order.order_id, r) for r in pending)
        orders = {k: await self._binding(r) for k, r in records.items()}
        scope = PlanScope(workers, plans, orders,
                          tuple(sorted(r.order.order_id for r in pending)),
                          await self._locked_outside(plans, records, orders),
                          await self.store.blocked(), now)
        return scope, records, workers_version

    async def _check_blocks(self, scope: PlanScope, commit: Commit) -> None:
        """Aborted when a customer blocked a worker the new plans give one of its orders to
        since the scope was read (blocks carry no version the store could check). A job the
        worker had already is not given: a block on it came after the job was under way or
        done (else the block took the job away, and the plan's version refuses the commit)."""
        blocked = await self.store.blocked()
        for worker_id, jobs in commit.plans.items():
            had = {j.order_id for j in scope.plans.get(worker_id, [])}
            for job in jobs:
                customer = scope.orders[job.order_id].customer_id
                if job.order_id not in had and worker_id in blocked.get(customer, ()):
                    raise Aborted(f"customer {customer!r} blocked worker {worker_id!r} "
                                  "meanwhile; try again")

    async def _first_in_scope(self, order: Order, plans: dict[str, list[Job]]) -> bool:
        """Whether a re-optimisation of ``plans`` may place ``order``: not a same-worker
        follower of a team with a member outside it (which member is the team's first is
        not in sight there)."""
        link = order.link
        if link is None or link.kind != LinkType.SAME_WORKER:
            return True
        first = await self.store.order(link.order_id)
        return first is None or all(a.worker_id in plans for a in first.assignments)

    async def _locked_outside(self, plans: dict[str, list[Job]],
                              records: dict[str, OrderRecord],
                              orders: dict[str, Order]) -> frozenset[str]:
        """Planned orders tied to a job outside the scope, or to one under way or done, stay
        as they are: a team with a member elsewhere, an order linked to one elsewhere, or one
        that another order is linked to, outside or started (a started job is out of the
        model when its day is past or its worker off, and a team follows no same-worker
        follower)."""
        inside = {j.order_id for jobs in plans.values() for j in jobs}
        locked = {o for o in inside
                  if any(a.worker_id not in plans for a in records[o].assignments)
                  or orders[o].link is not None and orders[o].link.order_id not in inside
                  or _locked(records[o])}

        def binds(follower: OrderRecord) -> bool:
            return (follower.order.order_id not in inside
                    or follower.state in (OrderState.IN_PROGRESS, OrderState.COMPLETED))

        for first, dependents in (await self._dependents()).items():
            if first in inside and any(binds(d) for d in dependents):
                locked.add(first)
        for first in inside - locked:  # (followers that started or are done: bound_by)
            if records[first].bound_by and any(
                    binds(r) for r in await self._placed(records[first].bound_by)):
                locked.add(first)
        return frozenset(locked)

    def _max_late(self, order: Order) -> int:
        return self.config.lateness_for(order.service_type).max_late_minutes * 60

    def _reoptimised(self, scope: PlanScope, result: Reoptimised,
                     records: dict[str, OrderRecord]) -> Commit:
        """The new plans, and fresh assignments for every order with a job that moved or was
        placed (all members of a team)."""
        was = {(w, j) for w, jobs in scope.plans.items() for j in jobs}
        workers = {w.worker_id: w for w in scope.workers}
        table = WorkerTable(scope.workers)
        commit = Commit(plans={w: jobs for w, jobs in result.plans.items()
                               if jobs != scope.plans.get(w, [])})
        for worker_id in commit.plans:
            commit.based_on(worker_id, scope.plans.get(worker_id, []))
        touched = sorted({j.order_id for w, jobs in commit.plans.items() for j in jobs
                          if (w, j) not in was})
        for order_id in touched:
            record = records[order_id]
            members = [(w, j) for w, jobs in sorted(result.plans.items()) for j in jobs
                       if j.order_id == order_id]
            record.assignments = [assignment_at(
                self.planner, record.order, job, workers[w],
                World(table, {w: [j for j in result.plans[w] if j != job]}, scope.blocked or {}))
                for w, job in members]
            record.unassigned = None
            where = ", ".join(f"{w} at {iso(job.start)}" for w, job in members)
            if record.state == OrderState.PENDING:
                self._place(record, scope.now, commit, f"placed by re-optimisation: {where}")
            else:
                record.history.append(f"moved by re-optimisation: {where}")
                commit.events += [Event(EventType.ASSIGNED, scope.now, order_id, w,
                                        "moved by re-optimisation") for w, _ in members]
            commit.orders.append(record)
        return commit

    def _place(self, record: OrderRecord, now: int, commit: Commit, why: str) -> None:
        """A pending order got its workers: an offer to each of them (until the offer
        timeout), or with offers off a final assignment."""
        timeout = self.config.offers.timeout_s
        workers = record.worker_ids
        if timeout > 0:
            lifecycle.move(record, OrderState.OFFERED, f"{why}; offered until {iso(now + timeout)}")
            record.accepted, record.offer_deadline = set(), now + timeout
            kind = EventType.OFFERED
        else:
            lifecycle.move(record, OrderState.ASSIGNED, why)
            kind = EventType.ASSIGNED
        commit.events += [Event(kind, now, record.order.order_id, w, why) for w in workers]

    async def _pending(self, order_id: str, i: int) -> OrderRecord:
        return self._pending_by(await self.store.order(order_id), order_id, i)

    @staticmethod
    def _pending_by(record: OrderRecord | None, order_id: str, i: int,
                    lapse_at: int | None = None) -> OrderRecord:
        """``record`` of ``order_ids[i]`` when it is pending (or, given ``lapse_at``, offered
        with an offer that lapses by then); else NotFound or FailedPrecondition."""
        if record is None:
            raise NotFound(f"order_ids[{i}]: order {order_id!r} not found")
        # (an instant order whose offer lapses is placed again at once: not pending then)
        lapsing = (lapse_at is not None and record.state == OrderState.OFFERED
                   and record.offer_deadline <= lapse_at
                   and record.order.mode != DispatchMode.INSTANT)
        if record.state != OrderState.PENDING and not lapsing:
            raise FailedPrecondition(f"order_ids[{i}]: order {order_id!r} is "
                                     f"{record.state.name}, not PENDING")
        return record

    async def _run_dispatch(self, records: list[OrderRecord], now: int,
                            remember: bool = False) -> DispatchResult:
        """Plan ``records`` and write the outcome; the caller holds the lock. When another
        replica wrote a plan or an order meanwhile (the store refuses the commit), plan the
        orders still pending again on the fresh state. ``remember``: a batch Dispatch, which
        skips the orders :mod:`matcher.infeasible_memo` knows to be still infeasible."""
        for _ in range(DISPATCH_ATTEMPTS - 1):
            try:
                return await self._dispatch_once(records, now, remember)
            except Aborted:
                fresh = [await self.store.order(r.order.order_id) for r in records]
                records = [r for r in fresh if r is not None and r.state == OrderState.PENDING]
        return await self._dispatch_once(records, now, remember)

    async def _dispatch_once(self, records: list[OrderRecord], now: int,
                             remember: bool = False) -> DispatchResult:
        view = await self.store.view()
        world = await self._world(now, view)
        read: dict[str, OrderRecord | None] = {}
        orders = [await self._binding(r, read) for r in records]
        plan = self.planner.dispatch
        if remember:
            plan = functools.partial(self._remembering, self.planner, view)
        else:
            self._columns.offer(world, view.plan_mark, view.locations)
        if len(orders) <= INLINE_ORDERS:
            result = plan(orders, world, now)
        else:
            result = await asyncio.get_running_loop().run_in_executor(
                self._solver, plan, orders, world, now)
        if any(r.bound_by for r in records):  # (never for new orders)
            verdicts = await self._by_hand_verdicts(records)
            result = dataclasses.replace(result, unassigned=_by_hand(result.unassigned, verdicts))
        await self._write_outcome(records, result, view, now, read)
        self._dispatched(len(records), result)
        return result

    async def _run_each(self, records: list[OrderRecord],
                        now: int) -> dict[str, DispatchResult]:
        """:meth:`_run_dispatch` of each record alone, in turn, as one plan read and one
        commit (:meth:`Planner.dispatch_each`); the result per order id (counted and logged by
        the caller, under each request's log id). Retried like
        :meth:`_run_dispatch` (the orders still pending) when the store refuses the commit."""
        for _ in range(DISPATCH_ATTEMPTS - 1):
            try:
                return await self._each_once(records, now)
            except Aborted:
                fresh = [await self.store.order(r.order.order_id) for r in records]
                records = [r for r in fresh if r is not None and r.state == OrderState.PENDING]
        return await self._each_once(records, now)

    async def _each_once(self, records: list[OrderRecord],
                         now: int) -> dict[str, DispatchResult]:
        view = await self.store.view()
        world = await self._world(now, view)
        read: dict[str, OrderRecord | None] = {}
        orders = [await self._binding(r, read) for r in records]
        self._columns.offer(world, view.plan_mark, view.locations)
        results = self.planner.dispatch_each(orders, world, now,
                                             self._settler(view, world.table, now))
        if any(r.bound_by for r in records):  # (never for new orders)
            verdicts = await self._by_hand_verdicts(records)
            results = [dataclasses.replace(result, unassigned=_by_hand(result.unassigned, verdicts))
                       for result in results]
        plans: dict[str, list[Job]] = {}
        for result in results:
            plans.update(result.plans)  # a later result has the later plan
        await self._write_outcome(records, DispatchResult(
            [a for r in results for a in r.assignments],
            [u for r in results for u in r.unassigned], plans,
            sum(r.rounds for r in results), sum(r.solve_seconds for r in results)), view, now,
            read)
        return {r.order.order_id: result for r, result in zip(records, results)}

    def _settler(self, view: View, table: WorkerTable,
                 now: int) -> Callable[[str, list[Job]], list[Job]] | None:
        """What a dispatch's world reads back for a plan another dispatch just wrote: the
        plan without its location anchor, anchored again (None: no anchors in ``view``)."""
        if not view.locations:
            return None
        max_age_s = self.config.location.max_age_s

        def settle(worker_id: str, jobs: list[Job]) -> list[Job]:
            written = {worker_id: _real(jobs)}
            read = AnchoredPlans(written, view.locations, table, now, max_age_s)
            return list(read.get(worker_id, written[worker_id]))
        return settle

    async def _write_outcome(self, records: list[OrderRecord], result: DispatchResult,
                             view: View, now: int,
                             read: dict[str, OrderRecord | None]) -> None:
        """Commit ``result`` of planning ``records`` in ``view`` (refused when a plan it
        changes is no longer the one in ``view``, a worker was written since: another
        replica may have taken one offline, or an order record the planning ``read``
        changed: the first order of a link, moved by another replica)."""
        commit = self._outcome(records, result, now)
        for worker_id in commit.plans:
            commit.based_on(worker_id, view.plans.get(worker_id, []))
        commit.workers_version = view.workers_version
        _touch_firsts(commit, read)
        commit.expect_orders = {o: r.version if r is not None else 0 for o, r in read.items()
                                if commit.record(o) is None}
        await self.store.commit(commit)

    def _dispatched(self, orders: int, result: DispatchResult) -> None:
        metrics.dispatched(orders, result)
        log.debug("dispatch: %d orders, %d assigned, %d unassigned in %d rounds (config %s)",
                  orders, len(result.assignments), len(result.unassigned), result.rounds,
                  self.planner.config_hash)

    def _remembering(self, planner: Planner, view: View, orders: list[Order], world: World,
                     now: int) -> DispatchResult:
        """``planner.dispatch`` of the orders the memo cannot vouch for; the others keep their
        verdicts (in the solver thread: the memo's check prices pairs too)."""
        stamp = self._memo.look(world, view.plans, list(view.locations), now, planner,
                                view.plan_mark)
        self._columns.follow(world, self._memo.log, view.plan_mark)
        planned, known = self._memo.split(orders, world, now, stamp)
        result = planner.dispatch(planned, world, now)
        self._memo.remember(planned, result.exhausted,
                            {u.order_id: u for u in result.unassigned})
        if not known:
            return result
        verdicts = {u.order_id: u for u in result.unassigned} | known
        return dataclasses.replace(result, unassigned=[
            verdicts[o.order_id] for o in orders if o.order_id in verdicts])

    async def _binding(self, record: OrderRecord,
                       read: dict[str, OrderRecord | None] | None = None) -> Order:
        """The order as the planner must see it: the workers excluded from it blocked, the
        priority raised when its worker cancelled, and its link while the linked order is
        live (a link to a cancelled or expired order no longer binds). ``read`` (when given)
        gets every other order's record this read (None: none): where the order may go
        depends on them."""
        order = record.order
        if record.excluded:
            order = dataclasses.replace(
                order, blocked_worker_ids=order.blocked_worker_ids | frozenset(record.excluded))
        if record.priority_boost:
            order = dataclasses.replace(
                order, priority=min(MAX_PRIORITY, order.priority + record.priority_boost))
        order = await self._live_link(order, read)
        if record.bound_by and record.state == OrderState.PENDING:
            order = await self._bound(order, record.bound_by, read)
        return order

    async def _live_link(self, order: Order,
                         read: dict[str, OrderRecord | None] | None = None) -> Order:
        """``order`` without its link when the linked order is gone, cancelled or expired."""
        if order.link is not None:
            first = await self._read(order.link.order_id, read)
            if first is None or first.state in (OrderState.CANCELLED, OrderState.EXPIRED):
                return dataclasses.replace(order, link=None)
        return order

    async def _read(self, order_id: str,
                    read: dict[str, OrderRecord | None] | None) -> OrderRecord | None:
        """The record of ``order_id``, noted in ``read`` (when given)."""
        record = await self.store.order(order_id)
        if read is not None:
            read[order_id] = record
        return record

    async def _placed(self, order_ids: set[str],
                      read: dict[str, OrderRecord | None] | None = None) -> list[OrderRecord]:
        """The records of ``order_ids`` that hold a place in their workers' plans, by id."""
        return [r for r in [await self._read(o, read) for o in sorted(order_ids)]
                if r is not None and r.state in PLACED and r.assignments]

    async def _bound(self, order: Order, followers: set[str],
                     read: dict[str, OrderRecord | None] | None = None) -> Order:
        """``order`` as the ``followers`` that stayed placed when it lost its worker bind it.
        One follower's link, turned round, is the order's own (a start gap of [g1, g2] after
        it is one of [-g2, -g1] after the follower; the same worker is the same worker), and
        the planner places it as any linked order. Bound more ways than one link can say (it
        is linked itself, or several followers stayed) it is placed by hand: no worker is
        eligible for it."""
        placed = await self._placed(followers, read)
        if not placed:
            return order
        if _one_link_binds(order, placed):
            link = placed[0].order.link
            return dataclasses.replace(order, link=OrderLink(
                placed[0].order.order_id, link.kind, -link.max_gap, -link.min_gap))
        everyone = frozenset(w.worker_id for w in await self.store.workers())
        return dataclasses.replace(order, blocked_worker_ids=everyone)

    async def by_hand(self, record: OrderRecord) -> Unassigned | None:
        """LINKED_ORDER for a pending order that the followers which kept their places bind
        more ways than one link can say (:meth:`_bound`: no worker is eligible for it, so it
        waits to be placed by hand), else None. Without it the order would read as having
        no eligible worker, which is not why it waits."""
        if not record.bound_by or record.state != OrderState.PENDING:
            return None
        placed = await self._placed(record.bound_by)
        order = await self._live_link(record.order)
        if not placed or _one_link_binds(order, placed):
            return None
        followers = ", ".join(r.order.order_id for r in placed)
        why = (f"it is linked to {order.link.order_id} itself" if order.link is not None
               else "more than one link" if len(placed) > 1 else "a team cannot keep one worker")
        return Unassigned(record.order.order_id, UnassignedReason.LINKED_ORDER,
                          f"its linked orders {followers} kept their places and bind it more "
                          f"ways than the planner places ({why}): it waits to be placed by hand")

    async def _by_hand_verdicts(self, records: list[OrderRecord]) -> dict[str, Unassigned]:
        """:meth:`by_hand` of each record it applies to, by order id."""
        return {r.order.order_id: v for r in records if (v := await self.by_hand(r))}

    def _outcome(self, records: list[OrderRecord], result: DispatchResult, now: int) -> Commit:
        by_id = {r.order.order_id: r for r in records}
        commit = Commit(plans={w: _real(jobs) for w, jobs in result.plans.items()})
        placed: dict[str, list[Assignment]] = {}
        for assignment in result.assignments:
            placed.setdefault(assignment.order_id, []).append(assignment)
        for order_id, assignments in placed.items():
            record = by_id[order_id].copy()  # the records may be the store's own (shared)
            record.assignments, record.unassigned = assignments, None
            where = ", ".join(f"{a.worker_id} at {iso(a.planned_start)}" for a in assignments)
            self._place(record, now, commit, f"placed: {where}")
            commit.orders.append(record)
        for miss in result.unassigned:
            record = by_id[miss.order_id]
            if record.unassigned == miss and miss.reason != UnassignedReason.EXPIRED:
                continue  # told already: writing it again would change nothing
            record = record.copy()
            record.unassigned = miss
            if miss.reason == UnassignedReason.EXPIRED:
                lifecycle.move(record, OrderState.EXPIRED, "expired: " + miss.detail)
            commit.orders.append(record)
        return commit

    async def order(self, order_id: str) -> OrderRecord:
        record = await self.store.order(order_id)
        if record is None:
            raise NotFound(f"order {order_id!r} not found")
        return record

    async def cancel_order(self, order_id: str, reason: str = "", request_id: str = "", *,
                           by: CancelledBy = CancelledBy.CUSTOMER, worker_id: str = "",
                           now: int = 0) -> OrderRecord:
        """Cancel an order. By the customer or the centre: it is cancelled and its slots in
        the workers' days are freed (cancelling twice is a no-op). By its worker: the order
        goes back to the pool with its priority raised (``cancellation.worker_priority_boost``)
        and that worker excluded, is placed again at once, and the worker's credit takes the
        ``credit.worker_cancellation`` penalty."""
        async with self._lock:
            return await self._idempotent(
                request_id, ("cancel", order_id, reason, by, worker_id),
                lambda: self._cancel(order_id, reason, by, worker_id, now))

    async def _cancel(self, order_id: str, reason: str, by: CancelledBy, worker_id: str,
                      now: int) -> OrderRecord:
        record = await self.order(order_id)
        if by == CancelledBy.WORKER:
            return await self._worker_drops(record, worker_id, now, "worker_cancellation",
                                            f"cancelled by worker {{w}}: {reason}".rstrip(": "))
        if record.state == OrderState.CANCELLED:
            return record
        lifecycle.require(record, "cancelling", *CANCELLABLE)
        commit = Commit()
        workers = record.worker_ids
        for worker in workers:
            jobs = await self._plan_in(commit, worker)
            commit.plans[worker] = [j for j in jobs if j.order_id != order_id]
        if workers:
            record.history.append(f"was assigned to {', '.join(workers)}")
        who = by.name.lower()
        why = f"cancelled by {who}: {reason}" if reason else f"cancelled by {who}"
        lifecycle.move(record, OrderState.CANCELLED, why)
        record.assignments, record.accepted, record.offer_deadline = [], set(), 0
        commit.orders.append(record)
        commit.events += [Event(EventType.CANCELLED, now, order_id, w, why)
                          for w in workers or [""]]
        dependents = (await self._dependents()).get(order_id, [])
        await self._unplan([r.order.order_id for r in dependents],
                           f"unassigned: its linked order {order_id} was cancelled", commit, now)
        await self._commit_and_replace(commit, now, batched=False)
        return record

    async def explain(self, order_id: str, now: int) -> tuple[OrderRecord, Explanation]:
        """The constraint funnel and the scored candidates for an order, as of ``now``. An
        assigned order is explained as if its own job were not yet in its worker's day."""
        record = await self.order(order_id)
        world = await self._world(now)
        for worker_id in {a.worker_id for a in record.assignments}:
            world.plans[worker_id] = [j for j in world.plans.get(worker_id, [])
                                      if j.order_id != order_id]
        explanation = await asyncio.get_running_loop().run_in_executor(
            self._solver, self.planner.explain, await self._binding(record), world, now)
        return record, explanation

    # ------------------------------------------------------------------ helpers

    async def _world(self, now: int, view: View | None = None) -> World:
        """What the planner sees at ``now`` (in ``view``, else as the store has it now): every
        plan, with a zero-length stop where a worker between jobs last reported being (see
        :meth:`_anchor`)."""
        view = view or await self.store.view()
        table = await self._worker_table(view.workers_version)
        # anchors are put in as plans are read; the overlay takes what explain() changes
        plans = view.plans if not view.locations else AnchoredPlans(
            view.plans, view.locations, table, now, self.config.location.max_age_s)
        return World(table, PlanOverlay(plans), view.blocked)

    async def _anchor(self, worker: Worker, jobs: list[Job], now: int) -> Job | None:
        location = (await self.store.locations()).get(worker.worker_id)
        if location is None:
            return None
        return _anchor_at(worker, jobs, location, now, self.config.location.max_age_s)

    async def _worker_table(self, version: int | None = None) -> WorkerTable:
        """The worker table, rebuilt when the store's workers changed (here or in another
        replica sharing the store); ``version``: the workers' version just read."""
        version = await self.store.workers_version() if version is None else version
        if self._table is None or version != self._table_version:
            workers = sorted(await self.store.workers(), key=_WORKER_ID)
            # building the columns of a large city takes a while: keep it off the event loop
            build = WorkerTable if self._table is None else self._table.patched
            table = await asyncio.get_running_loop().run_in_executor(self._solver, build, workers)
            if version == await self.store.workers_version():  # no change meanwhile
                self._table, self._table_version = table, version
            return table
        return self._table

    async def _idempotent(self, request_id: str, body: Any,
                          run: Callable[[], Awaitable[T]]) -> T:
        """Run once per request id: a retry with the same body gets the first answer."""
        if not request_id:
            return await run()
        fingerprint = _fingerprint(body)
        seen = await self._recall(request_id, fingerprint)
        if seen is not NOT_SEEN:  # (None too: an RPC whose answer is empty)
            return seen
        response = await run()
        await self.store.remember(request_id, fingerprint, response)
        return response

    async def _recall(self, request_id: str, fingerprint: str) -> Any:
        """The answer remembered for ``request_id`` (NOT_SEEN: none, or no request id); a
        body of another ``fingerprint`` under the same id is AlreadyExists."""
        seen = await self.store.remembered(request_id) if request_id else None
        return _answer_seen(request_id, fingerprint, seen)

    def _check_service_type(self, service_type: str, field: str) -> None:
        known = self.config.service.service_types
        if service_type not in known:
            raise InvalidArgument(field, f"unknown service type {service_type!r} "
                                         f"(known: {', '.join(known)})")

    @staticmethod
    def _check_unique(ids: list[str], field: str, key: str | None) -> None:
        seen: set[str] = set()
        for i, value in enumerate(ids):
            if value in seen:
                path = f"{field}[{i}].{key}" if key else f"{field}[{i}]"
                raise InvalidArgument(path, f"duplicate id {value!r} in one request")
            seen.add(value)


def _underway(record: OrderRecord, job: Job, now: int) -> bool:
    """Whether ``job`` (of ``record``) stays with its worker whatever changes: started, or
    accepted (ASSIGNED) with its planned start passed (the worker may be at it, unreported).
    An offer whose start has come is not: its worker never took it on."""
    return record.state not in UNSTARTED or (
        record.state == OrderState.ASSIGNED and job.start < now)


def _locked(record: OrderRecord) -> bool:
    """Jobs re-optimisation keeps: offered (the worker is deciding), accepted or started."""
    return record.state != OrderState.ASSIGNED or bool(record.accepted)


def _one_link_binds(order: Order, placed: list[OrderRecord]) -> bool:
    """Whether the followers ``placed`` (that kept their places) bind ``order`` as one link
    of its own would: one follower, no link of the order's own, and not a team on a
    same-worker link."""
    return len(placed) == 1 and order.link is None and (
        placed[0].order.link.kind == LinkType.START_GAP or order.workers_needed == 1)


def _by_hand(unassigned: list[Unassigned], verdicts: dict[str, Unassigned]) -> list[Unassigned]:
    """``unassigned`` with the :meth:`Engine.by_hand` verdicts in place of the "no eligible
    worker" the planner gives those orders (it finds every worker blocked)."""
    return [verdicts.get(u.order_id, u) if u.reason == UnassignedReason.NO_ELIGIBLE_WORKER
            else u for u in unassigned]


def _touch_firsts(commit: Commit, read: dict[str, OrderRecord | None]) -> None:
    """The first order (as read) of every linked order ``commit`` places, written with it
    unchanged: its version moves, so that a commit that moves or unplans the first order
    after reading its followers without this one is refused (and, the other way round,
    this one is refused when the first order moved since it was read)."""
    for record in list(commit.orders):
        link = record.order.link
        if link is not None and record.state in PLACED and record.assignments:
            first = read.get(link.order_id)
            if first is not None and commit.record(link.order_id) is None:
                commit.add(first)


def _real(jobs: list[Job]) -> list[Job]:
    """``jobs`` without location anchors (jobs always last a while; anchors do not)."""
    return [j for j in jobs if j.end > j.start]


def _answer_seen(request_id: str, fingerprint: str, seen: tuple[str, Any] | None) -> Any:
    """The answer remembered (``seen``: fingerprint and answer, or None) for a request of
    ``fingerprint`` under ``request_id`` (NOT_SEEN: none); another body's is AlreadyExists."""
    if seen is None:
        return NOT_SEEN
    if seen[0] != fingerprint:
        raise AlreadyExists(f"request_id: {request_id!r} was used for a different request")
    return seen[1]
