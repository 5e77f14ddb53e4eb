"""Drive a running server over gRPC instead of an in-process engine (``--target HOST:PORT``).

:class:`RemoteEngine` has the methods the :class:`~simulations.simulator.Simulation` calls on
:class:`matcher.engine.Engine`, each sending the RPC the server maps to that method, so the
simulation loop is one code path for both. Its ``store`` serves the reads the simulation makes
(:mod:`simulations.remote_reads`: ``events_after`` from the ``WatchEvents`` stream,
:mod:`simulations.remote_events`; ``order`` by ``GetOrder``; ``worker`` and ``plan`` by
``GetWorkerSchedule``). Every call's latency goes to :mod:`simulations.load_stats`.

Time. Every call carries the simulated time as its ``as_of_time`` (``actual_start_time``,
``actual_end_time``), shifted by whole days so that the simulated start lies just after the
server's clock (:class:`~simulations.remote_codec.RunTranslation`): the server decides every
call the simulation makes as of the simulated moment, as the in-process engine does. Calls are
paced: the one at simulated second ``t`` goes out when the wall clock reaches
``start + t / speed`` (``speed`` 0: as fast as the server answers). What the server does on its
own clock is not simulated time: its periodic tick (offers lapse, credit decays) runs at wall
time, which lags the shifted simulated time more the higher the speed, so it finds nothing due;
an offer that no one answers in time lapses when the late answer comes (the engine checks the
deadline against the answer's time). The periodic re-optimisation is switched off for the run.

Config. The run puts the policy's config (the server's config in force, or ``--config``, with
the policy's changes) in force by ``ReloadConfig`` and puts the old one back at the end.

Ids. Every id sent gets the run's prefix; at the end the run cancels its unfinished orders and
takes its workers offline without their skills, so that a later run on the same server meets
none of them (not even in its candidate pools). What
comes back about an id without the prefix (a ``Dispatch`` round takes every pending order on
the server, a client's own too) is left out of the run's answers and events: the run tracks
only its own orders. Its rounds still decide such an order (one whose window has passed
expires); one placed with a worker of the run's, or the other way round, stops the run
(:mod:`simulations.remote_events`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import grpc
from google.protobuf import timestamp_pb2

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc as pb_grpc
from matcher.config import DispatchConfig, to_toml
from matcher.credit import Tiers
from matcher.engine import CancelledBy, Leg
from matcher.engine_lifecycle import Feedback
from matcher.errors import FailedPrecondition, NotFound
from matcher.model import (Assignment, EventType, OrderRecord, OrderState, Unassigned, Worker,
                           WorkerStatus)
from server import (CANCELLED_BY, COMPLAINT, FEEDBACK_SOURCE, UNASSIGNED_REASON, WORKER_STATUS,
                    order_to_proto, worker_from_proto, worker_to_proto)
from simulations.load_stats import LoadStats
from simulations.remote_codec import RunTranslation
from simulations.remote_connect import CALL_TIMEOUT_S, TargetError
from simulations.remote_events import EventFollower, Key
from simulations.remote_reads import READ_CONCURRENCY, ServerView

UPSERT_BATCH = 500
# The server's answers the simulation expects now and then (its state overtook an action).
REFUSED = {grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
           grpc.StatusCode.NOT_FOUND: NotFound}


@dataclass(frozen=True, slots=True)
class Placed:
    """What SubmitOrders or Dispatch answered, in the run's ids and times."""

    assignments: list[Assignment]
    unassigned: list[Unassigned]


@dataclass(frozen=True, slots=True)
class PlannerView:
    """The part of the engine's planner the simulation reads: the credit tiers."""

    tiers: Tiers


class RemoteEngine:
    """The engine methods the simulation calls, as RPCs to a running server."""

    def __init__(self, channel: grpc.aio.Channel, config: DispatchConfig,
                 translation: RunTranslation, sim_start: int, speed: float) -> None:
        self.stub = pb_grpc.DispatchServiceStub(channel)
        self.config = config
        self.planner = PlannerView(Tiers(config))
        self.translation = translation
        self.sim_start, self.speed = sim_start, speed
        self.stats = LoadStats()
        self.events = EventFollower(self.stub, translation)
        self.store = ServerView(self.call, translation, self.events)
        self._wall_start = time.perf_counter()
        self._restore: str | None = None
        self._last_now = sim_start
        self.order_ids: set[str] = set()  # every order the run submitted
        self._fleet: list[Worker] = []  # the run's workers, as it upserted them
        self.load: dict = {}

    async def open(self) -> None:
        """Put the run's config in force (keeping the old one to restore) and follow the
        event stream."""
        self._restore = (await self.stub.GetConfig(pb.GetConfigRequest())).config_toml
        answer = await self.stub.ReloadConfig(pb.ReloadConfigRequest(
            config_toml=to_toml(self.config)), timeout=CALL_TIMEOUT_S)
        if not answer.applied:
            raise TargetError("the server refused the run's config: " + "; ".join(answer.errors))
        self.events.start()
        self._wall_start = time.perf_counter()
        self.stats.started = self._wall_start

    async def aclose(self) -> None:
        """Take the load figures (into ``load``), retire the run's orders and workers, stop
        following events and put the server's old config back."""
        self.stats.late_events = self.events.late
        self.load = self.stats.summary(self.speed)
        await self._retire()
        await self.events.stop()
        if self._restore is not None:
            await self.stub.ReloadConfig(pb.ReloadConfigRequest(config_toml=self._restore),
                                         timeout=CALL_TIMEOUT_S)

    async def _retire(self) -> None:
        """Leave nothing of the run that a later run on the same server could use: its
        unfinished orders are cancelled (by the centre), then its workers go offline (as of
        the run's last moment, when none of their jobs is still to come) and lose their
        skills. (No RPC removes a worker; an offline worker with skills still stands in the
        spatial index of each of them, and took places in a later run's candidate pools: the
        same seed puts its workers at the same homes.)"""
        gate = asyncio.Semaphore(READ_CONCURRENCY)
        ts = self._ts(self._last_now)

        async def send(method: str, request) -> None:
            async with gate:
                with contextlib.suppress(FailedPrecondition, NotFound):
                    await self.call(method, request)

        await asyncio.gather(*(send("CancelOrder", pb.CancelOrderRequest(
            order_id=self.translation.id_out(o), cancelled_by=pb.CANCELLED_BY_CENTRE,
            reason="simulation run ended", as_of_time=ts))
            for o in sorted(self.order_ids - self.events.finished)))
        await asyncio.gather(*(send("SetWorkerStatus", pb.SetWorkerStatusRequest(
            worker_id=self.translation.id_out(w), status=pb.WORKER_STATUS_OFFLINE,
            reason="simulation run ended", as_of_time=ts)) for w in self.store.worker_ids))
        retired = [worker_to_proto(self.translation.worker_out(dataclasses.replace(
            w, status=WorkerStatus.OFFLINE, skills=()))) for w in self._fleet]
        for i in range(0, len(retired), UPSERT_BATCH):
            await self.call("UpsertWorkers", pb.UpsertWorkersRequest(
                workers=retired[i:i + UPSERT_BATCH]))

    def close(self) -> None:
        """Nothing to close synchronously (the simulation calls it at the end of its loop);
        :meth:`aclose` does the rest."""

    # ------------------------------------------------------------------ calls

    async def _pace(self, now: int) -> None:
        """Wait until the wall clock reaches the call's simulated time over ``speed``."""
        self._last_now = max(self._last_now, now)
        if not self.speed:
            return
        due = self._wall_start + (now - self.sim_start) / self.speed
        ahead = due - time.perf_counter()
        if ahead > 0:
            await asyncio.sleep(ahead)
        self.stats.lag_s.append(max(0.0, -ahead))

    async def call(self, method: str, request, now: int | None = None):
        """Send one RPC (paced when ``now`` is given); FAILED_PRECONDITION and NOT_FOUND come
        back as the engine's own errors, as the simulation expects them."""
        if now is not None:
            await self._pace(now)
        begin = time.perf_counter()
        try:
            response = await getattr(self.stub, method)(request, timeout=CALL_TIMEOUT_S)
        except grpc.aio.AioRpcError as error:
            refused = REFUSED.get(error.code())
            self.stats.record(method, time.perf_counter() - begin,
                              "refused" if refused else "error")
            if refused:
                raise refused(error.details()) from None
            raise
        self.stats.record(method, time.perf_counter() - begin)
        return response

    async def _order_call(self, method: str, request, now: int,
                          last_events: Callable[[OrderRecord], list[Key]]) -> OrderRecord:
        """An RPC about one order that answers with its OrderStatus; the simulation sees the
        ``last_events(record)`` it caused before it goes on."""
        mark = self.events.mark()
        response = await self.call(method, request, now)
        record = self.store.record_in(response.order)
        self.events.expect(last_events(record), mark)
        return record

    def _ts(self, sim_time: int) -> timestamp_pb2.Timestamp:
        return timestamp_pb2.Timestamp(seconds=self.translation.time_out(sim_time))

    # ------------------------------------------------------------------ the engine's methods

    async def upsert_workers(self, workers: Sequence[Worker], request_id: str = "", *,
                             now: int) -> int:
        out = [worker_to_proto(self.translation.worker_out(w)) for w in workers]
        await self._pace(now)
        for i in range(0, len(out), UPSERT_BATCH):
            await self.call("UpsertWorkers", pb.UpsertWorkersRequest(
                workers=out[i:i + UPSERT_BATCH]))
        self.store.worker_ids = [w.worker_id for w in workers]
        self._fleet = list(workers)
        return len(out)

    async def submit_orders(self, orders, now: int, request_id: str = "") -> Placed:
        self.order_ids.update(o.order_id for o in orders)
        for o in orders:
            if o.blocked_worker_ids:
                self.store.blocks.setdefault(o.customer_id, set()).update(o.blocked_worker_ids)
        request = pb.SubmitOrdersRequest(
            orders=[order_to_proto(self.translation.order_out(o)) for o in orders],
            as_of_time=self._ts(now))
        return await self._placing("SubmitOrders", request, now)

    async def dispatch(self, order_ids: Sequence[str], now: int, region=None,
                       request_id: str = "") -> Placed:
        request = pb.DispatchRequest(order_ids=[self.translation.id_out(o) for o in order_ids],
                                     as_of_time=self._ts(now))
        return await self._placing("Dispatch", request, now)

    async def _placing(self, method: str, request, now: int) -> Placed:
        mark = self.events.mark()
        response = await self.call(method, request, now)
        ours = self.translation.ours  # a round takes every pending order, others' too
        placed = Placed([self.store.assignment_in(a) for a in response.assignments
                         if ours(a.order_id)],
                        [Unassigned(self.translation.id_in(u.order_id),
                                    UNASSIGNED_REASON.to_domain(u.reason, "reason", None),
                                    u.detail) for u in response.unassigned if ours(u.order_id)])
        self.events.expect([(self._placed_type, a.order_id, a.worker_id)
                            for a in placed.assignments], mark)
        return placed

    @property
    def _placed_type(self) -> EventType:
        """The event of a new placement: an offer, or a final assignment without offers."""
        return EventType.OFFERED if self.config.offers.timeout_s else EventType.ASSIGNED

    async def optimize_plans(self, worker_ids: Sequence[str], now: int,
                             limit: float | None = None, request_id: str = ""):
        request = pb.OptimizePlansRequest(
            worker_ids=[self.translation.id_out(w) for w in worker_ids], as_of_time=self._ts(now))
        if limit is not None:
            request.time_limit.FromNanoseconds(int(limit * 1e9))
        mark = self.events.mark()
        response = await self.call("OptimizePlans", request, now)
        self.events.expect([(None, self.translation.id_in(o), "") for o in response.orders_placed
                            if self.translation.ours(o)], mark)
        return response

    async def tick(self, now: int) -> None:
        """Nothing to send: the server ticks on its own clock (see the module's docstring)."""

    async def set_worker_status(self, worker_id: str, status: WorkerStatus, now: int,
                                reason: str = "", request_id: str = "") -> Worker:
        response = await self.call("SetWorkerStatus", pb.SetWorkerStatusRequest(
            worker_id=self.translation.id_out(worker_id), status=WORKER_STATUS.to_proto(status),
            reason=reason, as_of_time=self._ts(now)), now)
        return self.translation.worker_in(worker_from_proto(response.worker))

    async def respond_to_offer(self, order_id: str, worker_id: str, accept: bool, now: int,
                               request_id: str = "") -> OrderRecord:
        def last_events(record: OrderRecord) -> list[Key]:
            if not accept:  # declined; the order may have been placed again at once
                return [(EventType.DECLINED, order_id, worker_id)] + _placement(record)
            if record.state == OrderState.ASSIGNED:  # the last acceptance locked it
                return [(EventType.ASSIGNED, order_id, w) for w in record.worker_ids]
            return [(EventType.ACCEPTED, order_id, worker_id)]

        return await self._order_call("RespondToOffer", pb.RespondToOfferRequest(
            order_id=self.translation.id_out(order_id),
            worker_id=self.translation.id_out(worker_id), accept=accept,
            as_of_time=self._ts(now)), now, last_events)

    async def worker_schedule(self, worker_id: str) -> tuple[Worker, list[Leg]]:
        worker = await self.store.worker(worker_id)
        if worker is None:
            raise NotFound(f"worker {worker_id!r} not found")
        return worker, await self.store.legs(worker_id)

    async def start_order(self, order_id: str, now: int, request_id: str = "") -> OrderRecord:
        return await self._order_call("StartOrder", pb.StartOrderRequest(
            order_id=self.translation.id_out(order_id), actual_start_time=self._ts(now)), now,
            lambda record: [(EventType.STARTED, order_id, "")])

    async def complete_order(self, order_id: str, start: int | None, now: int,
                             request_id: str = "") -> OrderRecord:
        request = pb.CompleteOrderRequest(order_id=self.translation.id_out(order_id),
                                          actual_end_time=self._ts(now))
        if start is not None:
            request.actual_start_time.CopyFrom(self._ts(start))
        return await self._order_call("CompleteOrder", request, now,
                                      lambda record: [(EventType.COMPLETED, order_id, "")])

    async def cancel_order(self, order_id: str, reason: str = "", request_id: str = "", *,
                           by: CancelledBy = CancelledBy.CUSTOMER, worker_id: str = "",
                           now: int) -> OrderRecord:
        return await self._order_call("CancelOrder", pb.CancelOrderRequest(
            order_id=self.translation.id_out(order_id), cancelled_by=CANCELLED_BY.to_proto(by),
            reason=reason, worker_id=self.translation.id_out(worker_id),
            as_of_time=self._ts(now)), now, lambda record: [(EventType.CANCELLED, order_id, "")])

    async def submit_feedback(self, order_id: str, feedback: Feedback, now: int,
                              request_id: str = ""):
        request = pb.SubmitFeedbackRequest(
            order_id=self.translation.id_out(order_id), stars=feedback.stars,
            complaint=COMPLAINT.to_proto(feedback.complaint), no_show=feedback.no_show,
            source=FEEDBACK_SOURCE.to_proto(feedback.source),
            worker_id=self.translation.id_out(feedback.worker_id), as_of_time=self._ts(now))
        if feedback.on_time is not None:
            request.on_time = feedback.on_time
        mark = self.events.mark()
        response = await self.call("SubmitFeedback", request, now)
        if feedback.no_show:  # the order goes back to the pool (and may be placed at once)
            self.events.expect([(None, order_id, "")], mark)
        return response


def _placement(record: OrderRecord) -> list[Key]:
    """The last events of the placement ``record`` is in: offers or assignments to each of
    its workers, or the order's return to the pool."""
    if record.state == OrderState.OFFERED:
        return [(EventType.OFFERED, record.order.order_id, w) for w in record.worker_ids]
    if record.state == OrderState.ASSIGNED:
        return [(EventType.ASSIGNED, record.order.order_id, w) for w in record.worker_ids]
    return [(EventType.REDISPATCHED, record.order.order_id, "")]
