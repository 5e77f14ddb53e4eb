"""The store reads a simulation makes, answered by a running server over gRPC."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from homedispatch.v1 import dispatch_pb2 as pb
from matcher.engine import Leg
from matcher.errors import NotFound
from matcher.model import Assignment, Job, OrderRecord, Worker
from server import ORDER_STATE, order_from_proto, worker_from_proto
from simulations.remote_codec import RunTranslation
from simulations.remote_events import EventFollower

READ_CONCURRENCY = 32


class ServerView:
    """The store reads the simulation makes, answered by the server (in the run's ids and
    times)."""

    def __init__(self, call: Callable[..., Awaitable], translation: RunTranslation,
                 events: EventFollower) -> None:
        self.call, self.translation, self.events = call, translation, events
        self.worker_ids: list[str] = []
        self.blocks: dict[str, set[str]] = {}  # per customer: the workers its orders block

    async def events_after(self, cursor: str, limit: int):
        return await self.events.events_after(cursor, limit)

    async def order(self, order_id: str) -> OrderRecord | None:
        try:
            response = await self.call("GetOrder", pb.GetOrderRequest(
                order_id=self.translation.id_out(order_id)))
        except NotFound:
            return None
        return self.record_in(response.order)

    async def worker(self, worker_id: str) -> Worker | None:
        schedule = await self._schedule(worker_id)
        if schedule is None:
            return None
        return self.translation.worker_in(worker_from_proto(schedule.worker))

    async def plan(self, worker_id: str) -> list[Job]:
        """The worker's planned jobs, in order."""
        return [leg.job for leg in await self.legs(worker_id)]

    async def legs(self, worker_id: str) -> list[Leg]:
        """The worker's planned jobs, in order, each with the travel leg that leads to it."""
        schedule = await self._schedule(worker_id)
        if schedule is None:
            return []
        return [Leg(self.translation.job_in(Job(j.order_id, j.customer_id, j.service_type,
                                                j.location.latitude, j.location.longitude,
                                                j.planned_start_time.seconds,
                                                j.planned_end_time.seconds)),
                    j.travel_duration.seconds, j.travel_km)
                for j in schedule.jobs]

    async def blocked(self) -> dict[str, frozenset[str]]:
        """Per customer, the workers it has blocked on any of the run's orders (known from
        what the run submitted: no RPC lists them)."""
        return {c: frozenset(w) for c, w in self.blocks.items()}

    async def workers(self) -> list[Worker]:
        """This run's workers, read a few at a time."""
        gate = asyncio.Semaphore(READ_CONCURRENCY)

        async def one(worker_id: str) -> Worker | None:
            async with gate:
                return await self.worker(worker_id)

        found = await asyncio.gather(*(one(w) for w in self.worker_ids))
        return [w for w in found if w is not None]

    async def _schedule(self, worker_id: str):
        try:
            return await self.call("GetWorkerSchedule", pb.GetWorkerScheduleRequest(
                worker_id=self.translation.id_out(worker_id)))
        except NotFound:
            return None

    def record_in(self, status: pb.OrderStatus) -> OrderRecord:
        return self.translation.record_in(OrderRecord(
            order_from_proto(status.order), ORDER_STATE.to_domain(status.state, "state", None),
            status.submit_time.seconds, [self.assignment_server(a) for a in status.assignments],
            accepted=set(status.accepted_worker_ids), excluded=set(status.excluded_worker_ids),
            offer_deadline=status.offer_deadline_time.seconds,
            started_at=status.actual_start_time.seconds,
            completed_at=status.actual_end_time.seconds))

    def assignment_in(self, a: pb.Assignment) -> Assignment:
        return self.translation.assignment_in(self.assignment_server(a))

    @staticmethod
    def assignment_server(a: pb.Assignment) -> Assignment:
        return Assignment(a.order_id, a.worker_id, a.planned_start_time.seconds,
                          a.planned_end_time.seconds, a.travel_duration.seconds, a.travel_km,
                          a.added_travel_duration.seconds, a.added_travel_km, (),
                          a.config_hash, a.late_duration.seconds)
