"""The simulation loop: a heap of timed events drives the engine with the simulated clock.

The engine is :class:`matcher.engine.Engine` on a memory store, called through the same methods
the gRPC server calls (SubmitOrders, Dispatch, OptimizePlans, RespondToOffer, StartOrder,
CompleteOrder, SubmitFeedback, CancelOrder, SetWorkerStatus, and the server's periodic tick),
each with ``now`` = the simulated time. The simulator learns what the engine decided from the
store's event stream (what WatchEvents serves): offers, acceptances, re-dispatches and
cancellations, and schedules the behaviour that follows (answers, arrivals, completions).

Events at the same second run in the order they were scheduled (a sequence number breaks ties),
so a run is deterministic.
"""

from __future__ import annotations

import dataclasses
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from matcher.config import DispatchConfig
from matcher.engine import CancelledBy, Engine
from matcher.engine_lifecycle import Feedback
from matcher.errors import FailedPrecondition, NotFound
from matcher.model import EventType, FeedbackSource, OrderState, UnassignedReason
from matcher.store import MemoryStore
from simulations.behaviour import Behaviour
from simulations.city import SimCity
from simulations.demand import SimOrder
from simulations.policies import Policy
from simulations.scenario import Scenario
from simulations.trace import WorkerEvent
from simulations.tracking import Log, OrderTrack, Round, WorkerTrack

# Orders whose placement may still change get their arrivals re-read on these engine events.
PLACEMENT_EVENTS = {EventType.OFFERED, EventType.ASSIGNED, EventType.REDISPATCHED,
                    EventType.CANCELLED}
STALE = (FailedPrecondition, NotFound)  # an action the engine's state has overtaken
# Engine events after which a batch round may place an order the previous round could not: a
# slot freed, a worker changed. Without one of these (and without a new order) the next round
# would place nothing (time passing only shrinks the options), so it is skipped.
REOPENING = {EventType.REDISPATCHED, EventType.CANCELLED, EventType.DECLINED,
             EventType.OFFER_TIMED_OUT, EventType.CREDIT_CHANGED, EventType.TIER_CHANGED,
             EventType.WORKER_STATUS_CHANGED}


@dataclass(slots=True)
class Outcome:
    """Everything a run produced, for the KPIs and the output files."""

    orders: list[OrderTrack]
    workers: dict[str, WorkerTrack]
    worker_homes: dict[str, tuple[float, float]]
    credit: dict[str, float]
    tiers: dict[str, str]
    top_tier: str
    log: Log
    rounds: list[Round]
    reoptimise_s: list[float]
    simulated_s: int
    wall_s: float
    redispatches: int
    no_shows: int
    declines: int
    abandoned: int


class Simulation:
    """One run of one policy; :meth:`run` plays it to the end."""

    def __init__(self, scenario: Scenario, policy: Policy, seed: int, city: SimCity,
                 orders: list[SimOrder], config: DispatchConfig,
                 worker_events: list[WorkerEvent] = (), progress: Callable | None = None,
                 engine: Engine | None = None):
        self.scenario, self.policy, self.city = scenario, policy, city
        self.params = scenario.dispatch
        # ``engine``: another driver with the engine's methods and a ``store`` of reads (a
        # server over gRPC: simulations.remote); default: the engine on a memory store
        self.engine = engine or Engine(MemoryStore(), config)
        self.store = self.engine.store
        self.behaviour = Behaviour(scenario.behaviour, seed)
        self.tracks = {o.order.order_id: OrderTrack(o, i) for i, o in enumerate(orders)}
        self.worker_events = list(worker_events)
        self.workers = {w.worker_id: WorkerTrack(_shift_s(w)) for w in city.workers}
        self.worker_index = {w.worker_id: i for i, w in enumerate(city.workers)}
        self.log, self.rounds, self.reoptimise_s = Log(), [], []
        self.pending: set[str] = set()
        self.dirty = True  # whether a batch round could place something the last one did not
        self.feedback: list[tuple[str, Feedback]] = []
        self.heap: list[tuple[int, int, Callable, tuple]] = []
        self.seq = 0
        self.cursor = ""
        self.counts = {"redispatches": 0, "no_shows": 0, "declines": 0, "abandoned": 0}
        self.end = _end_of_run(scenario, orders, city.start, config)
        self.progress = progress
        self.top_tier = self.engine.planner.tiers.names[-1] if \
            self.engine.planner.tiers.names else ""

    # ------------------------------------------------------------------ the loop

    def at(self, time_s: int, action: Callable, *args: Any) -> None:
        if time_s <= self.end:
            heapq.heappush(self.heap, (time_s, self.seq, action, args))
            self.seq += 1

    def now(self, time_s: int) -> int:
        return self.city.start + time_s

    async def run(self) -> Outcome:
        started = time.perf_counter()
        await self.engine.upsert_workers(self.city.workers, now=self.city.start)
        await self._drain(0)
        for track in self.tracks.values():
            self.at(track.sim.placed, self._place, track)
        for event in self.worker_events:
            self.at(event.time, self._worker_event, event)
        if self.policy.rounds:
            self.at(self.params.batch_window_s, self._round)
        if self.policy.reoptimise:
            self.at(self.params.reoptimise_every_s, self._reoptimise)
        self.at(self.params.tick_s, self._tick)
        if self.scenario.behaviour.feedback_every_s:
            self.at(self.scenario.behaviour.feedback_every_s, self._feedback_batch)
        while self.heap:
            time_s, _, action, args = heapq.heappop(self.heap)
            await action(time_s, *args)
            await self._drain(time_s)
            if self.progress:
                self.progress(time_s)
        await self._feedback_batch(self.end, reschedule=False)
        self.engine.close()
        return await self._outcome(time.perf_counter() - started)

    # ------------------------------------------------------------------ demand and dispatch

    async def _place(self, t: int, track: OrderTrack) -> None:
        order = dataclasses.replace(track.sim.order, mode=self.policy.mode)
        self.log.add(t, "placed", order.order_id, "", track.sim.kind)
        self.pending.add(order.order_id)
        self.dirty = True
        started = time.perf_counter()
        result = await self.engine.submit_orders([order], self.now(t))
        if not self.policy.rounds:
            self.rounds.append(Round(t, 1, len({a.order_id for a in result.assignments}),
                                     time.perf_counter() - started))
        cancel = self.behaviour.cancel_at(track.index, track.sim.placed,
                                          order.earliest_start - self.city.start)
        if cancel is not None:
            self.at(cancel, self._customer_cancels, track)
        self.at(t + self.behaviour.patience_s(track.index), self._patience, track)

    async def _round(self, t: int) -> None:
        self.at(t + self.params.batch_window_s, self._round)
        if not self.pending or not self.dirty:
            return
        self.dirty = False
        started = time.perf_counter()
        result = await self.engine.dispatch([], self.now(t))
        self.rounds.append(Round(t, len(self.pending), len({a.order_id for a in
                                                            result.assignments}),
                                 time.perf_counter() - started))
        for miss in result.unassigned:
            if miss.reason == UnassignedReason.EXPIRED:
                self._expired(t, miss.order_id, miss.detail)

    def _expired(self, t: int, order_id: str, detail: str) -> None:
        track = self.tracks[order_id]
        track.status = "expired"
        self.pending.discard(order_id)
        self.log.add(t, "expired", order_id, "", detail)

    async def _reoptimise(self, t: int) -> None:
        self.at(t + self.params.reoptimise_every_s, self._reoptimise)
        started = time.perf_counter()
        result = await self.engine.optimize_plans([], self.now(t),
                                                  self.params.reoptimise_time_limit_s)
        self.reoptimise_s.append(time.perf_counter() - started)
        self.log.add(t, "reoptimised", "", "", f"improved={result.improved}")

    async def _tick(self, t: int) -> None:
        self.at(t + self.params.tick_s, self._tick)
        await self.engine.tick(self.now(t))

    async def _worker_event(self, t: int, event: WorkerEvent) -> None:
        try:
            await self.engine.set_worker_status(event.worker_id, event.status, self.now(t),
                                                "trace")
        except STALE as exc:
            self.log.add(t, "worker_event_refused", "", event.worker_id, str(exc))

    # ------------------------------------------------------------------ what the engine decided

    async def _drain(self, t: int) -> None:
        """Read the engine's new events and schedule what follows from them."""
        events = await self.store.events_after(self.cursor, 1 << 30)
        if not events:
            return
        self.cursor = events[-1].cursor
        changed: dict[str, None] = {}
        for event in events:
            self.log.add(event.time - self.city.start, event.type.name.lower(), event.order_id,
                         event.worker_id, event.detail)
            if event.type == EventType.OFFERED:
                self._offered(t, event.order_id, event.worker_id)
            elif event.type == EventType.DECLINED:
                self.counts["declines"] += 1
            elif event.type == EventType.REDISPATCHED:
                self.counts["redispatches"] += 1
            if event.type in REOPENING:
                self.dirty = True
            if event.type in PLACEMENT_EVENTS and event.order_id in self.tracks:
                changed[event.order_id] = None
        for order_id in changed:
            await self._placement_changed(t, self.tracks[order_id])

    def _offered(self, t: int, order_id: str, worker_id: str) -> None:
        track = self.tracks[order_id]
        track.offers += 1
        self.at(t, self._answer_later, track, worker_id, track.offers)

    async def _answer_later(self, t: int, track: OrderTrack, worker_id: str,
                            attempt: int) -> None:
        """Draw the worker's answer (needs the offer's distance) and schedule it."""
        record = await self.store.order(track.order_id)
        if record is None or record.state != OrderState.OFFERED:
            return
        assignment = next((a for a in record.assignments if a.worker_id == worker_id), None)
        if assignment is None:
            return
        answer = self.behaviour.answer(track.index, self.worker_index[worker_id], attempt,
                                       assignment.travel_km, track.sim.pay_per_hour)
        self.at(t + answer.delay_s, self._respond, track, worker_id, answer.accept,
                track.epoch)

    async def _respond(self, t: int, track: OrderTrack, worker_id: str, accept: bool,
                       epoch: int) -> None:
        if epoch != track.epoch:
            return
        try:
            await self.engine.respond_to_offer(track.order_id, worker_id, accept, self.now(t))
        except STALE:
            pass

    async def _placement_changed(self, t: int, track: OrderTrack) -> None:
        """The order's placement changed: re-read it; a locked order gets its arrival."""
        track.epoch += 1
        record = await self.store.order(track.order_id)
        state = record.state
        if state == OrderState.PENDING:
            track.status = "pending"
            self.pending.add(track.order_id)
            return
        self.pending.discard(track.order_id)
        if state == OrderState.CANCELLED:
            track.status = "cancelled"
        elif state == OrderState.OFFERED:
            track.status = "offered"
        elif state == OrderState.ASSIGNED:
            track.status = "assigned"
            track.assigned_s = t if track.assigned_s is None else track.assigned_s
            track.workers = tuple(record.worker_ids)
            arrive = max(a.planned_start - self.city.start +
                         self.behaviour.travel_delay(track.index, self.worker_index[a.worker_id],
                                                     a.travel_s)
                         for a in record.assignments)
            self.at(max(t, arrive), self._arrive, track, track.epoch)

    # ------------------------------------------------------------------ the work itself

    async def _arrive(self, t: int, track: OrderTrack, epoch: int) -> None:
        if epoch != track.epoch:
            return
        record = await self.store.order(track.order_id)
        if record is None or record.state != OrderState.ASSIGNED:
            return
        for worker_id in record.worker_ids:
            credit = (await self.store.worker(worker_id)).credit_score
            if self.behaviour.no_show(track.index, self.worker_index[worker_id], credit):
                self.counts["no_shows"] += 1
                self.log.add(t, "no_show", track.order_id, worker_id)
                await self._call(self.engine.submit_feedback(
                    track.order_id, Feedback(no_show=True, source=FeedbackSource.FOLLOW_UP,
                                             worker_id=worker_id), self.now(t)))
                return
        await self.engine.start_order(track.order_id, self.now(t))
        track.status, track.start_s = "started", t
        track.late_s = max(0, self.now(t) - record.order.latest_start)
        duration = self.behaviour.duration(track.index, record.order.duration)
        driven = {a.worker_id: await self._driven(a) for a in record.assignments}
        self.at(t + duration, self._complete, track, driven)

    async def _driven(self, assignment) -> tuple[int, float]:
        """The leg the worker drove to the job it starts: the one its day has now (a job put
        before it, or one before it cancelled, since it was placed changed the leg from what
        its assignment says)."""
        _, legs = await self.engine.worker_schedule(assignment.worker_id)
        return next(((leg.travel_s, leg.travel_km) for leg in legs
                     if leg.job.order_id == assignment.order_id),
                    (assignment.travel_s, assignment.travel_km))

    async def _complete(self, t: int, track: OrderTrack,
                        driven: dict[str, tuple[int, float]]) -> None:
        await self.engine.complete_order(track.order_id, None, self.now(t))
        track.status, track.end_s = "served", t
        hours = track.sim.order.duration / 3600
        for worker_id, (travel_s, travel_km) in driven.items():
            worker = self.workers[worker_id]
            worker.jobs += 1
            worker.busy_s += (t - track.start_s) + travel_s
            worker.travel_km += travel_km
            worker.earnings += track.sim.pay_per_hour * hours
            credit = (await self.store.worker(worker_id)).credit_score
            worker.top_tier_jobs += self.engine.planner.tiers.tier_of(credit) == self.top_tier
            track.travel_km += travel_km
            track.pay += track.sim.pay_per_hour * hours
        rating = self.behaviour.feedback(track.index, track.late_s or 0)
        if rating is not None:
            self.feedback.append((track.order_id, rating))
            if not self.scenario.behaviour.feedback_every_s:
                await self._feedback_batch(t, reschedule=False)

    async def _feedback_batch(self, t: int, reschedule: bool = True) -> None:
        """Hand in the ratings collected since the last batch."""
        if reschedule:
            self.at(t + self.scenario.behaviour.feedback_every_s, self._feedback_batch)
        batch, self.feedback = self.feedback, []
        for order_id, rating in batch:
            self.log.add(t, "feedback", order_id, "", f"stars={rating.stars} "
                                                      f"on_time={rating.on_time}")
            await self._call(self.engine.submit_feedback(order_id, rating, self.now(t)))

    async def _customer_cancels(self, t: int, track: OrderTrack) -> None:
        if track.status in ("started", "served", "cancelled", "expired"):
            return
        await self._call(self.engine.cancel_order(track.order_id, "changed plans",
                                                  by=CancelledBy.CUSTOMER, now=self.now(t)))

    async def _patience(self, t: int, track: OrderTrack) -> None:
        """A customer still without a worker gives up; one with an open offer waits for it."""
        if track.assigned_s is not None or track.status not in ("pending", "offered"):
            return
        if track.status == "offered":
            self.at(t + max(60, self.engine.config.offers.timeout_s), self._patience, track)
            return
        self.counts["abandoned"] += 1
        self.log.add(t, "abandoned", track.order_id)
        await self._call(self.engine.cancel_order(track.order_id, "no worker found in time",
                                                  by=CancelledBy.CUSTOMER, now=self.now(t)))

    @staticmethod
    async def _call(awaitable) -> None:
        try:
            await awaitable
        except STALE:
            pass

    # ------------------------------------------------------------------ the end

    async def _outcome(self, wall_s: float) -> Outcome:
        for track in self.tracks.values():
            if track.status in ("pending", "offered", "assigned"):
                record = await self.store.order(track.order_id)
                if record is not None and record.state == OrderState.EXPIRED:
                    track.status = "expired"
        workers = {w.worker_id: w for w in await self.store.workers()}
        tiers = self.engine.planner.tiers
        credit = {w: workers[w].credit_score for w in self.workers}
        return Outcome(
            list(self.tracks.values()), self.workers,
            {w.worker_id: (w.home_lat, w.home_lon) for w in self.city.workers}, credit,
            {w: tiers.tier_of(c) for w, c in credit.items()}, self.top_tier, self.log,
            self.rounds, self.reoptimise_s, self.end, wall_s, self.counts["redispatches"],
            self.counts["no_shows"], self.counts["declines"], self.counts["abandoned"])


def _shift_s(worker) -> int:
    """Shift seconds of an online worker (an offline one offers none)."""
    if worker.status.name != "ONLINE":
        return 0
    return sum(s.end - s.start for s in worker.shifts)


def _end_of_run(scenario: Scenario, orders: list[SimOrder], start: int,
                config: DispatchConfig) -> int:
    """Seconds since the start when the run ends: after the demand days and after the last
    order's latest possible end (with its soft lateness and an hour of slack)."""
    last = max((o.order.latest_start + o.order.duration * 2 - start +
                config.lateness_for(o.order.service_type).max_late_minutes * 60
                for o in orders), default=0)
    return max(scenario.days * 86400, last + 3600)
