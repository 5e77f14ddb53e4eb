"""Random sequences of everything that happens to orders and workers, checked after every step.

A hypothesis state machine drives one engine through submit, dispatch, accept, decline, time
passing (offers lapse), cancellations by customers and workers, workers going offline and back,
start, completion, feedback and no-shows. After each step:

- no order is lost: every submitted order is there once, in one state, and holds jobs in the
  plans exactly when its state says so, on exactly its workers;
- no worker is double-booked, and every job not yet started passes the independent checker
  (status, certificate, credit floor, shift, travel, breaks, limits) on a worker not excluded
  from it;
- an accepted job never moves while its order stays assigned;
- credit stays in 0..100 and equals the documented formula over the events the test itself
  recorded.

It runs on the memory store and on the Redis store (a real redis-server).
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import numpy as np
import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from matcher.config import DispatchConfig
from matcher.credit import CreditEvent
from matcher.engine import CANCELLABLE, CancelledBy, Engine
from matcher.engine_lifecycle import Feedback
from matcher.errors import AlreadyExists, FailedPrecondition
from matcher.lifecycle import PLANNED, UNSTARTED
from matcher.model import (Complaint, DispatchMode, FeedbackSource, OrderState, Skill,
                           WorkerStatus)
from matcher.store import MemoryStore
from tests.builders import at
from tests.checker import check_worker_day, reference_credit
from tests.city import TYPES, random_orders, random_workers

CONFIG = DispatchConfig()
N_WORKERS = 10


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = Engine(self.make_store(), CONFIG)
        self.now = at(6)
        self.submitted: dict[str, object] = {}
        self.credit: dict[str, tuple[float, list[CreditEvent]]] = {}
        self.locked: dict[str, list[tuple[str, int]]] = {}
        self.batches = 0

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def make_store(self):
        return MemoryStore()

    def teardown(self) -> None:
        self.engine.close()
        if hasattr(self.engine.store, "close"):
            self.run(self.engine.store.close())
        self.loop.close()

    def records(self, *states):
        return sorted((r for s in states for r in self.run(self.engine.store.orders_in(s))),
                      key=lambda r: r.order.order_id)

    def pick(self, items, index: int):
        return items[index % len(items)] if items else None

    def penalise(self, worker_id: str, kind: str, order_id: str) -> None:
        base, events = self.credit[worker_id]
        events.append(CreditEvent(self.now, kind, order_id,
                                  points=float(getattr(CONFIG.credit, kind))))

    @initialize(seed=st.integers(0, 2 ** 32 - 1))
    def city(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        # a city where most orders find a worker, so that every state gets visited; the last
        # worker keeps its random skills and certificates (some expire on the day)
        workers = [w if i == N_WORKERS - 1 else dataclasses.replace(
            w, status=WorkerStatus.ONLINE, credit_score=float(self.rng.choice([62, 80, 95])),
            skills=tuple(Skill(t, int(self.rng.integers(1, 6)), at(24 * 30)) for t in TYPES))
            for i, w in enumerate(random_workers(self.rng, N_WORKERS, spread=0.03))]
        self.run(self.engine.upsert_workers(workers, now=self.now))
        self.credit = {w.worker_id: (w.credit_score, []) for w in workers}

    @rule(count=st.integers(1, 4), instant=st.booleans())
    def submit(self, count: int, instant: bool) -> None:
        self.batches += 1
        mode = DispatchMode.INSTANT if instant else DispatchMode.BATCHED
        orders = [dataclasses.replace(o, mode=mode) for o in random_orders(
            self.rng, count, N_WORKERS, prefix=f"b{self.batches}-", spread=0.03)]
        self.run(self.engine.submit_orders(orders, self.now))
        self.submitted.update((o.order_id, o) for o in orders)

    @rule()
    def dispatch(self) -> None:
        self.run(self.engine.dispatch([], self.now))

    @rule(index=st.integers(0, 1000), accept=st.booleans())
    def respond(self, index: int, accept: bool) -> None:
        record = self.pick(self.records(OrderState.OFFERED), index)
        if record is None:
            return
        worker_id = record.worker_ids[0]
        if self.now >= record.offer_deadline:
            with pytest.raises(FailedPrecondition, match="is PENDING"):
                self.run(self.engine.respond_to_offer(record.order.order_id, worker_id, accept,
                                                      self.now))
            return
        after = self.run(self.engine.respond_to_offer(record.order.order_id, worker_id, accept,
                                                      self.now))
        if accept:
            assert after.state == OrderState.ASSIGNED
            self.locked[after.order.order_id] = self.placement(after.order.order_id)
        else:
            assert worker_id in after.excluded and worker_id not in after.worker_ids

    @rule(minutes=st.sampled_from([1, 5, 30, 120]))
    def time_passes(self, minutes: int) -> None:
        self.now += minutes * 60
        self.run(self.engine.tick(self.now))

    @rule(index=st.integers(0, 1000), by=st.sampled_from(list(CancelledBy)))
    def cancel(self, index: int, by: CancelledBy) -> None:
        record = self.pick(self.records(*OrderState), index)
        if record is None:
            return
        order_id = record.order.order_id
        allowed = UNSTARTED if by == CancelledBy.WORKER else (*CANCELLABLE, OrderState.CANCELLED)
        if record.state not in allowed:
            with pytest.raises(FailedPrecondition, match=f"is {record.state.name}"):
                self.run(self.engine.cancel_order(order_id, by=by, now=self.now))
            return
        after = self.run(self.engine.cancel_order(order_id, by=by, now=self.now))
        if by == CancelledBy.WORKER:
            self.penalise(record.worker_ids[0], "worker_cancellation", order_id)
            assert record.worker_ids[0] in after.excluded
        else:
            assert after.state == OrderState.CANCELLED

    @rule(index=st.integers(0, N_WORKERS - 1),
          status=st.sampled_from([WorkerStatus.ONLINE, WorkerStatus.ONLINE,
                                  WorkerStatus.OFFLINE, WorkerStatus.SUSPENDED]))
    def worker_status(self, index: int, status: WorkerStatus) -> None:
        self.run(self.engine.set_worker_status(f"w{index:03d}", status, self.now))

    @rule(index=st.integers(0, 1000))
    def start(self, index: int) -> None:
        record = self.pick(self.records(OrderState.ASSIGNED), index)
        if record is not None:
            after = self.run(self.engine.start_order(record.order.order_id, self.now))
            assert after.state == OrderState.IN_PROGRESS

    @rule(index=st.integers(0, 1000))
    def complete(self, index: int) -> None:
        record = self.pick(self.records(OrderState.ASSIGNED, OrderState.IN_PROGRESS), index)
        if record is None:
            return
        start = None if record.started_at else self.now
        after = self.run(self.engine.complete_order(record.order.order_id, start,
                                                    self.now + 3600))
        assert after.state == OrderState.COMPLETED

    @rule(index=st.integers(0, 1000), stars=st.integers(0, 5),
          complaint=st.sampled_from(list(Complaint)), on_time=st.sampled_from([None, True, False]),
          source=st.sampled_from(list(FeedbackSource)))
    def feedback(self, index, stars, complaint, on_time, source) -> None:
        record = self.pick(self.records(OrderState.COMPLETED), index)
        if record is None:
            return
        feedback = Feedback(stars, complaint, on_time, source=source)
        order_id = record.order.order_id
        if source in record.feedback:
            with pytest.raises(AlreadyExists):
                self.run(self.engine.submit_feedback(order_id, feedback, self.now))
            return
        self.run(self.engine.submit_feedback(order_id, feedback, self.now))
        worker_id = record.worker_ids[0]
        if stars:
            self.credit[worker_id][1].append(CreditEvent(self.now, "review", order_id,
                                                         stars=stars))
        if complaint != Complaint.NONE:
            self.penalise(worker_id, f"complaint_{complaint.name.lower()}", order_id)
        if on_time is False:
            self.penalise(worker_id, "late_arrival", order_id)

    @rule(index=st.integers(0, 1000))
    def no_show(self, index: int) -> None:
        record = self.pick(self.records(*UNSTARTED), index)
        if record is None:
            return
        self.run(self.engine.submit_feedback(record.order.order_id, Feedback(no_show=True),
                                             self.now))
        self.penalise(record.worker_ids[0], "no_show", record.order.order_id)

    # ---------------------------------------------------------------- invariants

    def placement(self, order_id: str) -> list[tuple[str, int]]:
        plans = self.run(self.engine.store.plans())
        return sorted((w, j.start) for w, jobs in plans.items() for j in jobs
                      if j.order_id == order_id)

    @invariant()
    def no_order_is_lost_and_plans_agree_with_states(self) -> None:
        records = {r.order.order_id: r for r in self.records(*OrderState)}
        assert set(records) == set(self.submitted)
        plans = self.run(self.engine.store.plans())
        holders: dict[str, list[str]] = {}
        for worker_id, jobs in plans.items():
            for job in jobs:
                holders.setdefault(job.order_id, []).append(worker_id)
        for order_id, record in records.items():
            expected = record.worker_ids if record.state in PLANNED else []
            assert sorted(holders.get(order_id, [])) == expected, (order_id, record.state)
            if record.state in PLANNED:
                assert len(expected) == record.order.workers_needed
            assert not set(expected) & record.excluded or record.state not in UNSTARTED
        assert set(holders) <= set(records)

    @invariant()
    def nobody_is_double_booked_and_unstarted_jobs_are_valid(self) -> None:
        plans = self.run(self.engine.store.plans())
        workers = {w.worker_id: w for w in self.run(self.engine.store.workers())}
        records = {r.order.order_id: r for r in self.records(*OrderState)}
        blocked = {c: set(ws) for c, ws in self.run(self.engine.store.blocked()).items()}
        for worker_id, jobs in plans.items():
            for a, b in zip(jobs, jobs[1:]):
                assert a.end <= b.start, f"{worker_id}: {a.order_id} overlaps {b.order_id}"
            unstarted = {j.order_id for j in jobs if j.start >= self.now
                         and records[j.order_id].state in UNSTARTED}
            orders = {o: records[o].order for o in {j.order_id for j in jobs}}
            problems = check_worker_day(CONFIG, workers[worker_id], jobs, orders, blocked)
            assert [p for p in problems if p.split(": ")[0].split("/")[-1] in unstarted] == []

    @invariant()
    def accepted_jobs_never_move(self) -> None:
        for order_id, placed in list(self.locked.items()):
            state = self.run(self.engine.store.order(order_id)).state
            if state in (OrderState.ASSIGNED, OrderState.IN_PROGRESS, OrderState.COMPLETED):
                assert self.placement(order_id) == placed
            else:
                del self.locked[order_id]  # given up by its worker: it may move now

    @invariant()
    def credit_follows_the_formula(self) -> None:
        for worker in self.run(self.engine.store.workers()):
            base, events = self.credit[worker.worker_id]
            record = self.run(self.engine.store.credit(worker.worker_id))
            assert [(e.kind, e.time, e.points, e.stars) for e in record.events] == [
                (e.kind, e.time, e.points, e.stars) for e in events]
            assert 0.0 <= worker.credit_score <= 100.0
            expected = reference_credit(CONFIG, base, events, record.refreshed_at)
            assert worker.credit_score == pytest.approx(expected, abs=0.0101)


Lifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=35, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
TestLifecycle = Lifecycle.TestCase

REDIS_URL: list[str] = []


@pytest.fixture(autouse=True, scope="module")
def _redis_for_the_machine(redis_url):
    REDIS_URL[:] = [redis_url]


class RedisLifecycle(Lifecycle):
    """The same machine on the Redis store (a real redis-server), a key prefix per run."""

    def make_store(self):
        from matcher.redis_store import RedisStore
        return RedisStore(REDIS_URL[0], prefix=f"machine-{uuid.uuid4().hex[:12]}")


RedisLifecycle.TestCase.settings = settings(max_examples=20, stateful_step_count=30,
                                            deadline=None,
                                            suppress_health_check=[HealthCheck.too_slow])
TestRedisLifecycle = RedisLifecycle.TestCase
