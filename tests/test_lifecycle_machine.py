"""Random sequences of everything that happens to orders and workers, checked after every step.

A hypothesis state machine drives one engine through submit (one-worker orders, team jobs and
orders linked to any order so far), dispatch, whole-city re-optimisation, explanations, accept,
decline, time passing (offers lapse), cancellations by customers and workers, workers going
offline and back, workers edited by the centre, start, completion, feedback and no-shows. After
each step:

- no order is lost: every submitted order is there once, in one state, and holds jobs in the
  plans exactly when its state says so, on exactly its workers;
- no worker is double-booked, and every job not yet started passes the independent checker
  (status, certificate, credit floor, shift, travel, breaks, limits) on a worker not excluded
  from it;
- an accepted job never moves while its order stays assigned;
- a linked order and the order it is linked to, both placed, keep their link (the same worker,
  or a start within the gap); a linked order stays placed while its first order is not only if
  it had started, or its start had come, when the first lost its worker;
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
from matcher.model import (Break, Complaint, DispatchMode, FeedbackSource, LinkType,
                           OrderLink, OrderState, Shift, Skill, WorkerStatus)
from matcher.store import MemoryStore
from tests.builders import HOUR, at, make_order, without_offers
from tests.checker import check_worker_day, reference_credit
from tests.city import TYPES, random_breaks, random_orders, random_workers

CONFIG = DispatchConfig()
N_WORKERS = 10
COUPLINGS = ("team", LinkType.SAME_WORKER, LinkType.START_GAP)
GONE = (OrderState.CANCELLED, OrderState.EXPIRED)  # a link to such an order no longer binds
EDITS = ("shift", "certificate", "level", "skills", "tags", "home", "limits", "breaks", "base")


class Lifecycle(RuleBasedStateMachine):
    config = CONFIG

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.engine = Engine(self.make_store(), self.config)
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

    def member(self, record, index: int) -> str:
        """One of the order's workers (of a team job, any)."""
        return self.pick(sorted(record.worker_ids), index)

    def penalise(self, worker_id: str, kind: str, order_id: str) -> None:
        base, events = self.credit[worker_id]
        events.append(CreditEvent(self.now, kind, order_id,
                                  points=float(getattr(self.config.credit, kind))))

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

    @rule(index=st.integers(0, 1000), coupling=st.sampled_from(COUPLINGS),
          team=st.integers(2, 3), gap_hours=st.integers(0, 4), instant=st.booleans())
    def submit_coupled(self, index: int, coupling, team: int, gap_hours: int,
                       instant: bool) -> None:
        """A team job at an order's place and in its window, or an order linked to it: to a
        placed order when there is one (else to any; itself a team job or linked or not)."""
        placed = self.records(*PLANNED)
        first = self.pick([r.order for r in placed] or
                          [self.submitted[o] for o in sorted(self.submitted)], index)
        if first is None:
            return
        self.batches += 1
        common = dict(customer_id=first.customer_id, service_type=first.service_type,
                      lat=first.lat, lon=first.lon, duration=HOUR,
                      mode=DispatchMode.INSTANT if instant else DispatchMode.BATCHED)
        if coupling == "team":
            order = make_order(f"team{self.batches}", workers_needed=team,
                               earliest_start=first.earliest_start,
                               latest_start=first.latest_start, **common)
        else:
            gap = gap_hours * HOUR
            order = make_order(f"link{self.batches}", earliest_start=at(7), latest_start=at(19),
                               link=OrderLink(first.order_id, coupling, gap, gap + HOUR),
                               **common)
        self.run(self.engine.submit_orders([order], self.now))
        self.submitted[order.order_id] = order

    @rule()
    def dispatch(self) -> None:
        self.run(self.engine.dispatch([], self.now))

    @rule()
    def optimize(self) -> None:
        """A whole-city re-optimisation with a short search: offered and accepted jobs stay,
        pending orders may be placed (as offers)."""
        self.run(self.engine.optimize_plans([], self.now, time_limit_s=0.05))

    @rule(index=st.integers(0, 1000), member=st.integers(0, 2), accept=st.booleans())
    def respond(self, index: int, member: int, accept: bool) -> None:
        record = self.pick(self.records(OrderState.OFFERED), index)
        if record is None:
            return
        worker_id = self.member(record, member)
        if self.now >= record.offer_deadline:
            with pytest.raises(FailedPrecondition, match="is PENDING"):
                self.run(self.engine.respond_to_offer(record.order.order_id, worker_id, accept,
                                                      self.now))
            return
        after = self.run(self.engine.respond_to_offer(record.order.order_id, worker_id, accept,
                                                      self.now))
        if not accept:
            assert worker_id in after.excluded and worker_id not in after.worker_ids
        elif record.accepted | {worker_id} >= set(record.worker_ids):
            assert after.state == OrderState.ASSIGNED
            self.locked[after.order.order_id] = self.placement(after.order.order_id)
        else:  # a team job waits for every member
            assert after.state == OrderState.OFFERED and worker_id in after.accepted

    @rule(index=st.integers(0, 1000))
    def every_member_accepts(self, index: int) -> None:
        """An offer accepted by each of its workers in turn (a team job's locks at the last)."""
        record = self.pick(self.records(OrderState.OFFERED), index)
        if record is None or self.now >= record.offer_deadline:
            return
        for worker_id in sorted(set(record.worker_ids) - record.accepted):
            after = self.run(self.engine.respond_to_offer(record.order.order_id, worker_id,
                                                          True, self.now))
        assert after.state == OrderState.ASSIGNED
        self.locked[after.order.order_id] = self.placement(after.order.order_id)

    @rule(minutes=st.sampled_from([1, 5, 30, 120]))
    def time_passes(self, minutes: int) -> None:
        self.now += minutes * 60
        self.run(self.engine.tick(self.now))

    @rule(index=st.integers(0, 1000), by=st.sampled_from(list(CancelledBy)),
          member=st.integers(0, 2))
    def cancel(self, index: int, by: CancelledBy, member: int) -> None:
        record = self.pick(self.records(*OrderState), index)
        if record is None:
            return
        order_id = record.order.order_id
        allowed = UNSTARTED if by == CancelledBy.WORKER else (*CANCELLABLE, OrderState.CANCELLED)
        worker_id = self.member(record, member) if by == CancelledBy.WORKER and \
            record.state in UNSTARTED else ""
        if record.state not in allowed:
            with pytest.raises(FailedPrecondition, match=f"is {record.state.name}"):
                self.run(self.engine.cancel_order(order_id, by=by, worker_id=worker_id,
                                                  now=self.now))
            return
        after = self.run(self.engine.cancel_order(order_id, by=by, worker_id=worker_id,
                                                  now=self.now))
        if by == CancelledBy.WORKER:
            self.penalise(worker_id, "worker_cancellation", order_id)
            assert worker_id in after.excluded
        else:
            assert after.state == OrderState.CANCELLED

    @rule(index=st.integers(0, N_WORKERS - 1),
          status=st.sampled_from([WorkerStatus.ONLINE, WorkerStatus.ONLINE,
                                  WorkerStatus.OFFLINE, WorkerStatus.SUSPENDED]))
    def worker_status(self, index: int, status: WorkerStatus) -> None:
        self.run(self.engine.set_worker_status(f"w{index:03d}", status, self.now))

    @rule(index=st.integers(0, N_WORKERS - 1), edit=st.sampled_from(EDITS),
          base=st.sampled_from([40.0, 62.0, 80.0, 95.0]))
    def worker_edited(self, index: int, edit: str, base: float) -> None:
        """The centre edits a worker (UpsertWorkers): a shorter shift, a certificate that runs
        out within the hour, a lower level, a skill less, no tags, a new home, tighter daily
        limits, breaks, or a new base credit score. Jobs not started that the worker can no
        longer do go back to the pool (the invariants check the rest)."""
        worker_id = f"w{index:03d}"
        worker = self.run(self.engine.store.worker(worker_id))
        old_base, events = self.credit[worker_id]
        skills = worker.skills
        changes = {
            "shift": dict(shifts=(Shift(at(10), at(15)),)),
            "certificate": dict(skills=tuple(dataclasses.replace(
                k, certified_until=self.now + 3600) for k in skills)),
            "level": dict(skills=tuple(dataclasses.replace(k, level=1) for k in skills)),
            "skills": dict(skills=skills[:1]),
            "tags": dict(tags=frozenset()),
            "home": dict(home_lat=worker.home_lat + 0.03, home_lon=worker.home_lon - 0.03),
            "limits": dict(max_jobs_per_day=1, max_work_minutes_per_day=120),
            "breaks": dict(breaks=random_breaks(self.rng) or (Break(at(12), at(13), HOUR),)),
            "base": {},
        }[edit]
        new_base = base if edit == "base" else old_base
        self.run(self.engine.upsert_workers(
            [dataclasses.replace(worker, credit_score=new_base, **changes)], now=self.now))
        self.credit[worker_id] = (new_base, events)

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
          source=st.sampled_from(list(FeedbackSource)), member=st.integers(-1, 2))
    def feedback(self, index, stars, complaint, on_time, source, member) -> None:
        """Feedback on the whole order, or (``member`` >= 0) on one of its workers."""
        record = self.pick(self.records(OrderState.COMPLETED), index)
        if record is None:
            return
        named = self.member(record, member) if member >= 0 else ""
        feedback = Feedback(stars, complaint, on_time, source=source, worker_id=named)
        order_id = record.order.order_id
        if source in record.feedback:
            with pytest.raises(AlreadyExists):
                self.run(self.engine.submit_feedback(order_id, feedback, self.now))
            return
        standings = self.run(self.engine.submit_feedback(order_id, feedback, self.now))
        workers = [named] if named else record.worker_ids
        assert [s.worker_id for s in standings] == workers
        for worker_id in workers:
            if stars:
                self.credit[worker_id][1].append(CreditEvent(self.now, "review", order_id,
                                                             stars=stars))
            if complaint != Complaint.NONE:
                self.penalise(worker_id, f"complaint_{complaint.name.lower()}", order_id)
            if on_time is False:
                self.penalise(worker_id, "late_arrival", order_id)

    @rule(index=st.integers(0, 1000), member=st.integers(0, 2))
    def no_show(self, index: int, member: int) -> None:
        record = self.pick(self.records(*UNSTARTED), index)
        if record is None:
            return
        worker_id = self.member(record, member)
        after = self.run(self.engine.submit_feedback(
            record.order.order_id, Feedback(no_show=True, worker_id=worker_id), self.now))
        assert [s.worker_id for s in after] == [worker_id]
        self.penalise(worker_id, "no_show", record.order.order_id)

    @rule(index=st.integers(0, 1000), placed=st.booleans())
    def explain(self, index: int, placed: bool) -> None:
        """ExplainOrder on an order (``placed``: one offered or assigned): the constraint
        counts add up to the workers ruled out, and a one-worker order placed an hour or more
        ahead (not linked) has its own worker among the feasible candidates, as dispatch and
        every check since have found it."""
        record = self.pick(self.records(*(UNSTARTED if placed else OrderState)), index)
        if record is None:
            return
        _, why = self.run(self.engine.explain(record.order.order_id, self.now))
        assert sum(why.ruled_out.values()) == why.total_workers - len(why.candidates)
        jobs = self.placement(record.order.order_id)
        if record.state in UNSTARTED and record.order.link is None and len(jobs) == 1 \
                and jobs[0][1] >= self.now + HOUR:
            assert jobs[0][0] in {c.worker_id for c in why.candidates}, (jobs, why)

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
            problems = check_worker_day(self.config, workers[worker_id], jobs, orders, blocked)
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
    def links_hold(self) -> None:
        records = {r.order.order_id: r for r in self.records(*OrderState)}
        plans = self.run(self.engine.store.plans())
        where: dict[str, list[tuple[str, int]]] = {}
        for worker_id, jobs in plans.items():
            for job in jobs:
                where.setdefault(job.order_id, []).append((worker_id, job.start))
        for order_id, record in records.items():
            link = record.order.link
            first = records[link.order_id] if link is not None else None
            if first is None or first.state in GONE or record.state not in PLANNED:
                continue
            if first.state not in PLANNED:
                # left in place when its first order lost its worker: it had started, or
                # its start had come by then
                assert record.state not in UNSTARTED or min(
                    start for _, start in where[order_id]) < self.now, (order_id, first.state)
                continue
            mine, theirs = where[order_id], where[link.order_id]
            if link.kind == LinkType.SAME_WORKER:
                assert mine[0][0] in {w for w, _ in theirs}, (order_id, mine, theirs)
            else:
                gap = mine[0][1] - theirs[0][1]
                assert link.min_gap <= gap <= link.max_gap, (order_id, gap, link)

    @invariant()
    def credit_follows_the_formula(self) -> None:
        for worker in self.run(self.engine.store.workers()):
            base, events = self.credit[worker.worker_id]
            record = self.run(self.engine.store.credit(worker.worker_id))
            assert [(e.kind, e.time, e.points, e.stars) for e in record.events] == [
                (e.kind, e.time, e.points, e.stars) for e in events]
            assert 0.0 <= worker.credit_score <= 100.0
            expected = reference_credit(self.config, base, events, record.refreshed_at)
            assert worker.credit_score == pytest.approx(expected, abs=0.0101)


Lifecycle.TestCase.settings = settings(max_examples=60, stateful_step_count=35, deadline=None,
                                       suppress_health_check=[HealthCheck.too_slow])
TestLifecycle = Lifecycle.TestCase



class LifecycleWithoutOffers(Lifecycle):
    """The same machine where a placement is final at once (``offers.timeout_s = 0``): no
    worker answers, so re-optimisation may move every assigned job that has not started, team
    jobs and linked orders included."""

    config = without_offers(CONFIG)


LifecycleWithoutOffers.TestCase.settings = settings(
    max_examples=40, stateful_step_count=35, deadline=None,
    suppress_health_check=[HealthCheck.too_slow])
TestLifecycleWithoutOffers = LifecycleWithoutOffers.TestCase

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
