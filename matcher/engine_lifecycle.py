"""The engine's lifecycle operations: offers and their answers, work started and completed,
feedback and credit, worker status and locations, and what time alone changes (:meth:`tick`).

A mixin of :class:`matcher.engine.Engine`: these methods use the engine's store, lock, planner
and its ways of sending orders back to the pool and placing them again. The states and the
allowed transitions are in :mod:`matcher.lifecycle`; the credit formula in
:mod:`matcher.credit`.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher import lifecycle
from matcher.credit import CreditEvent, CreditRecord, credit_score, penalty_points
from matcher.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from matcher.lifecycle import UNSTARTED
from matcher.model import (Complaint, Event, EventType, FeedbackSource, Location, OrderRecord,
                           OrderState, Worker, WorkerStatus)
from matcher.store import Commit

DAY_S = 86400
# Seconds of the engine's clock between tick's scans of every worker (credit, certificates).
SCAN_EVERY_S = 60


@dataclass(frozen=True, slots=True)
class Feedback:
    """What SubmitFeedback reports on an order: stars (0 = none), a complaint, punctuality
    (None = not said), or a no-show; from the customer or the centre's follow-up."""

    stars: int = 0
    complaint: Complaint = Complaint.NONE
    on_time: bool | None = None
    no_show: bool = False
    source: FeedbackSource = FeedbackSource.CUSTOMER
    worker_id: str = ""   # one member of a team job; "" = every worker of the order


@dataclass(frozen=True, slots=True)
class CreditStanding:
    worker_id: str
    credit_score: float
    tier: str


@functools.lru_cache(maxsize=4096)
def iso(seconds: int) -> str:
    """A time in event details and histories: ISO 8601 in UTC (remembered: every placement
    formats two, and a day's starts and offer deadlines repeat)."""
    # (what datetime's strftime formats, without building a datetime: a third of the time)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class LifecycleOperations:
    """Offers, work, feedback, credit, worker state and time passing, on an Engine."""

    async def _worker_drops(self, record: OrderRecord, worker_id: str, now: int,
                            penalty: str, why: str) -> OrderRecord:
        """The worker of ``record`` gives it up (a cancellation, a no-show): the credit
        penalty ``penalty``, the order back to the pool without that worker and with its
        priority raised, placed again at once."""
        order_id = record.order.order_id
        lifecycle.require(record, f"{penalty.replace('_', ' ')}", *UNSTARTED)
        worker_id = self._member(record, worker_id)
        why = why.format(w=worker_id)
        commit = Commit(orders=[record])
        record.priority_boost += self.config.cancellation.worker_priority_boost
        await self._unplan([order_id], why, commit, now, exclude=[worker_id])
        await self._credit_events(worker_id, [CreditEvent(
            now, penalty, order_id, points=penalty_points(self.config.credit, penalty))],
            commit, now)
        await self._commit_and_replace(commit, now)
        return await self.order(order_id)

    @staticmethod
    def _member(record: OrderRecord, worker_id: str) -> str:
        """The named worker of the order (any, for a one-worker order, when none is named)."""
        workers = record.worker_ids
        if not worker_id:
            if len(workers) != 1:
                raise InvalidArgument("worker_id", f"order {record.order.order_id!r} has "
                                      f"{len(workers)} workers: name the one")
            return workers[0]
        if worker_id not in workers:
            raise FailedPrecondition(f"worker {worker_id!r} is not a worker of order "
                                     f"{record.order.order_id!r} (its workers: "
                                     f"{', '.join(workers) or 'none'})")
        return worker_id

    # ------------------------------------------------------------------ offers, work, feedback

    async def respond_to_offer(self, order_id: str, worker_id: str, accept: bool, now: int,
                               request_id: str = "") -> OrderRecord:
        """The worker's answer to an offer. Accepting locks the job once every worker of the
        order has accepted; declining sends the order back to the pool without that worker.
        An offer past its deadline has already lapsed (FAILED_PRECONDITION)."""
        async with self._lock:
            return await self._idempotent(
                request_id, ("respond", order_id, worker_id, accept),
                lambda: self._respond(order_id, worker_id, accept, now))

    async def _respond(self, order_id: str, worker_id: str, accept: bool,
                       now: int) -> OrderRecord:
        record = await self.order(order_id)
        if record.state in UNSTARTED:
            # the answer is from a worker the order had when it came: should its offer have
            # lapsed and the order gone to another worker at once, it is not that one's (and
            # one from a worker it never had is refused before anything lapses)
            worker_id = self._member(record, worker_id)
        await self._expire_offers(now, [order_id])
        record = await self.order(order_id)
        if record.state == OrderState.ASSIGNED and accept and worker_id in record.accepted:
            return record  # accepted already
        lifecycle.require(record, "answering an offer", OrderState.OFFERED)
        worker_id = self._member(record, worker_id)
        commit = Commit(orders=[record])
        if not accept:
            why = f"declined by {worker_id}"
            commit.events.append(Event(EventType.DECLINED, now, order_id, worker_id, why))
            await self._unplan([order_id], why, commit, now, exclude=[worker_id])
            await self._commit_and_replace(commit, now, batched=False)
            return await self.order(order_id)
        if worker_id not in record.accepted:
            record.accepted.add(worker_id)
            record.history.append(f"accepted by {worker_id}")
            commit.events.append(Event(EventType.ACCEPTED, now, order_id, worker_id))
        if record.accepted >= set(record.worker_ids):
            lifecycle.move(record, OrderState.ASSIGNED, "every worker accepted: locked")
            record.offer_deadline = 0
            commit.events += [Event(EventType.ASSIGNED, now, order_id, w, "accepted")
                              for w in record.worker_ids]
        await self.store.commit(commit)
        return record

    async def _expire_offers(self, now: int, order_ids: Sequence[str] | None = None) -> None:
        """Offers not accepted by their deadline lapse: the workers who did not answer are
        excluded from the order and it goes back to the pool (instant orders are placed
        again at once)."""
        if order_ids is None:
            records = await self.store.lapsed_offers(now)
        else:
            records = [r for r in [await self.store.order(o) for o in order_ids]
                       if r is not None and r.state == OrderState.OFFERED]
        lapsed = sorted((r for r in records if r.offer_deadline <= now),
                        key=lambda r: (r.offer_deadline, r.order.order_id))
        if not lapsed:
            return
        commit = Commit()
        for record in lapsed:
            if (mine := commit.record(record.order.order_id)) is not None \
                    and mine.state != OrderState.OFFERED:
                continue  # already sent back by an order it follows, which lapsed before it
            silent = [w for w in record.worker_ids if w not in record.accepted]
            why = f"offer timed out: no answer from {', '.join(silent)}"
            commit.events += [Event(EventType.OFFER_TIMED_OUT, now, record.order.order_id, w,
                                    why) for w in silent]
            commit.add(record)
            await self._unplan([record.order.order_id], why, commit, now, exclude=silent)
        await self._commit_and_replace(commit, now, batched=False)

    async def start_order(self, order_id: str, started_at: int, request_id: str = "", *,
                          from_clock: bool = False) -> OrderRecord:
        """The worker started the (accepted) job at ``started_at`` (``from_clock``: the
        server's clock, the client gave no time; a retry, which comes later, is the same
        request)."""
        async with self._lock:
            return await self._idempotent(
                request_id, ("start", order_id, None if from_clock else started_at),
                lambda: self._start(order_id, started_at))

    async def _start(self, order_id: str, started_at: int) -> OrderRecord:
        record = await self.order(order_id)
        if record.state == OrderState.IN_PROGRESS and record.started_at == started_at:
            return record
        lifecycle.require(record, "starting", OrderState.ASSIGNED)
        lifecycle.move(record, OrderState.IN_PROGRESS, f"started at {iso(started_at)}")
        record.started_at = started_at
        commit = Commit(orders=[record], events=[
            Event(EventType.STARTED, started_at, order_id, w) for w in record.worker_ids])
        await self._binds_its_first(record, commit)
        await self.store.commit(commit)
        return record

    async def _binds_its_first(self, record: OrderRecord, commit: Commit) -> None:
        """A linked order that starts (or is done) stays where it is: the order it is linked
        to notes it (``bound_by``), so as to go again, should it lose its worker, only where
        the link still holds (a store finds the orders linked to one only by reading every
        order in a state, and the completed ones are a day's worth)."""
        link = record.order.link
        if link is None:
            return
        first = commit.record(link.order_id) or await self.store.order(link.order_id)
        if first is None or record.order.order_id in first.bound_by:
            return
        first.bound_by.add(record.order.order_id)
        commit.add(first)

    async def complete_order(self, order_id: str, started_at: int | None, ended_at: int,
                             request_id: str = "", *, from_clock: bool = False) -> OrderRecord:
        """The job is done: actual start (None: when it was started) and end (``from_clock``:
        the server's clock, as in :meth:`start_order`). Its jobs stay in the plans as the
        record of the day's work."""
        async with self._lock:
            return await self._idempotent(
                request_id, ("complete", order_id, started_at, None if from_clock else ended_at),
                lambda: self._complete(order_id, started_at, ended_at))

    async def _complete(self, order_id: str, started_at: int | None,
                        ended_at: int) -> OrderRecord:
        record = await self.order(order_id)
        lifecycle.require(record, "completing", OrderState.ASSIGNED, OrderState.IN_PROGRESS)
        start = started_at if started_at is not None else record.started_at
        if not start:
            raise InvalidArgument("actual_start_time", "must be set for an order that was "
                                                       "not started")
        if ended_at <= start:
            raise InvalidArgument("actual_end_time", f"must be after the actual start "
                                                     f"({ended_at} <= {start})")
        lifecycle.move(record, OrderState.COMPLETED, f"completed: {iso(start)} to {iso(ended_at)}")
        record.started_at, record.completed_at = start, ended_at
        commit = Commit(orders=[record], events=[
            Event(EventType.COMPLETED, ended_at, order_id, w) for w in record.worker_ids])
        await self._binds_its_first(record, commit)
        await self.store.commit(commit)
        return record

    async def submit_feedback(self, order_id: str, feedback: Feedback, now: int,
                              request_id: str = "") -> list[CreditStanding]:
        """Feedback on an order, from the customer or the centre's follow-up (once each), and
        the credit it moves (:mod:`matcher.credit`): stars, a complaint and lateness for a
        completed order; a no-show for one not started, which also sends it back to the pool
        without that worker."""
        if not 0 <= feedback.stars <= 5:
            raise InvalidArgument("stars", f"must be 1 to 5 (0: no rating), got {feedback.stars}")
        if feedback.no_show and (feedback.stars or feedback.complaint != Complaint.NONE):
            raise InvalidArgument("no_show", "a no-show carries no stars and no complaint")
        async with self._lock:
            return await self._idempotent(request_id, ("feedback", order_id, feedback),
                                          lambda: self._feedback(order_id, feedback, now))

    async def _feedback(self, order_id: str, feedback: Feedback,
                        now: int) -> list[CreditStanding]:
        record = await self.order(order_id)
        if feedback.no_show:
            lifecycle.require(record, "reporting a no-show", *UNSTARTED)
            worker_id = self._member(record, feedback.worker_id)
            await self._worker_drops(record, worker_id, now, "no_show",
                                     "no-show by worker {w}")
            return [await self._standing(worker_id)]
        lifecycle.require(record, "feedback", OrderState.COMPLETED)
        if feedback.source in record.feedback:
            raise AlreadyExists(f"order {order_id!r} already has {feedback.source.name} "
                                "feedback")
        workers = ([self._member(record, feedback.worker_id)] if feedback.worker_id
                   else record.worker_ids)
        record.feedback.add(feedback.source)
        commit = Commit(orders=[record])
        for worker_id in workers:
            await self._credit_events(worker_id, self._feedback_events(feedback, order_id, now),
                                      commit, now)
        await self._commit_and_replace(commit, now)
        return [await self._standing(w) for w in workers]

    def _feedback_events(self, feedback: Feedback, order_id: str,
                         now: int) -> list[CreditEvent]:
        kinds = []
        if feedback.complaint != Complaint.NONE:
            kinds.append(f"complaint_{feedback.complaint.name.lower()}")
        if feedback.on_time is False:
            kinds.append("late_arrival")
        events = [CreditEvent(now, "review", order_id, stars=feedback.stars)] \
            if feedback.stars else []
        return events + [CreditEvent(now, k, order_id,
                                     points=penalty_points(self.config.credit, k))
                         for k in kinds]

    async def _credit_events(self, worker_id: str, events: list[CreditEvent], commit: Commit,
                             now: int) -> None:
        """Record ``events`` and re-read the worker's credit from all its events."""
        if not events:
            return
        record = commit.credit.get(worker_id) or await self.store.credit(worker_id)
        worker = next((w for w in commit.workers if w.worker_id == worker_id), None) \
            or await self._read_worker(commit, worker_id)
        if record is None:
            record = CreditRecord(worker.credit_score, [], now)
        record.events = record.events + events  # a new list: the old may be the store's
        commit.credit[worker_id] = record
        what = ", ".join(e.kind if e.kind != "review" else f"{e.stars}-star review"
                         for e in events) + f" on {events[0].order_id}"
        await self._rescore(worker, record, commit, now, what)

    async def _rescore(self, worker: Worker, record: CreditRecord, commit: Commit, now: int,
                       what: str, score: float | None = None) -> None:
        """The worker's credit from its record at ``now`` (``score``, when worked out
        already); a change is an event, a tier change another, and jobs the worker may no
        longer do go back to the pool."""
        record.refreshed_at = now
        commit.credit[worker.worker_id] = record
        if score is None:
            score = credit_score(record.base, record.events, now, self.config.credit)
        if score == worker.credit_score:
            return
        tiers = self.planner.tiers
        was, tier = tiers.tier_of(worker.credit_score), tiers.tier_of(score)
        changed = dataclasses.replace(worker, credit_score=score)
        commit.workers = [w for w in commit.workers if w.worker_id != worker.worker_id]
        commit.workers.append(changed)
        commit.events.append(Event(EventType.CREDIT_CHANGED, now, "", worker.worker_id,
                                   f"{worker.credit_score:.2f} -> {score:.2f}: {what}"))
        if tier != was:
            commit.events.append(Event(EventType.TIER_CHANGED, now, "", worker.worker_id,
                                       f"{was} -> {tier}: {what}"))
        if score < worker.credit_score:
            await self._revalidate(changed, commit, now,
                                   f"unassigned: worker {worker.worker_id}'s credit fell to "
                                   f"{score:.2f} ({tier or 'no tier'}) after {what}")

    async def _read_worker(self, commit: Commit, worker_id: str) -> Worker | None:
        """The worker as stored, noting in ``commit`` the version it derives from (read
        first: a write in between refuses the commit rather than being lost)."""
        version = await self.store.worker_version(worker_id)
        commit.expect_workers.setdefault(worker_id, version)
        return await self.store.worker(worker_id)

    async def _standing(self, worker_id: str) -> CreditStanding:
        worker = await self.store.worker(worker_id)
        return CreditStanding(worker_id, worker.credit_score,
                              self.planner.tiers.tier_of(worker.credit_score))

    # ------------------------------------------------------------------ worker state

    async def set_worker_status(self, worker_id: str, status: WorkerStatus, now: int,
                                reason: str = "", request_id: str = "") -> Worker:
        """A worker who is not online loses every job not started by ``now``; those orders
        are placed again at once."""
        async with self._lock:
            return await self._idempotent(
                request_id, ("status", worker_id, status, reason),
                lambda: self._set_status(worker_id, status, now, reason))

    async def _set_status(self, worker_id: str, status: WorkerStatus, now: int,
                          reason: str) -> Worker:
        commit = Commit()
        worker = await self._read_worker(commit, worker_id)
        if worker is None:
            raise NotFound(f"worker {worker_id!r} not found")
        if worker.status == status:
            return worker
        changed = dataclasses.replace(worker, status=status)
        why = f"{worker.status.name} -> {status.name}" + (f": {reason}" if reason else "")
        commit.workers.append(changed)
        commit.events.append(Event(EventType.WORKER_STATUS_CHANGED, now, "", worker_id, why))
        await self._revalidate(changed, commit, now,
                               f"unassigned: worker {worker_id} is {status.name}")
        await self._commit_and_replace(commit, now)
        return changed

    async def update_location(self, worker_id: str, location: Location,
                              request_id: str = "", *, from_clock: bool = False) -> None:
        """The worker's reported position: between jobs, the next job's trip starts there
        (``from_clock``: its time is the server's clock, as in :meth:`start_order`)."""
        asked = (location.lat, location.lon, None if from_clock else location.time)
        async with self._lock:
            await self._idempotent(request_id, ("location", worker_id, asked),
                                   lambda: self._locate(worker_id, location))

    async def _locate(self, worker_id: str, location: Location) -> None:
        if await self.store.worker(worker_id) is None:
            raise NotFound(f"worker {worker_id!r} not found")
        await self.store.commit(Commit(locations={worker_id: location}))

    # ------------------------------------------------------------------ time passing

    async def tick(self, now: int) -> None:
        """What time alone changes, as of ``now``: offers lapse, credit recovers as old
        events decay, certificates near their expiry are warned about and jobs a certificate
        no longer covers go back to the pool. The server runs it every
        ``offers.check_interval_s``; the simulator at its own clock."""
        async with self._lock:
            await self._expire_offers(now)
            # these scan every worker: often enough for decay measured in days
            if now - self._scanned_at >= SCAN_EVERY_S:
                self._scanned_at = now
                await self._refresh_credit(now)
                await self._check_certificates(now)

    async def _refresh_credit(self, now: int) -> None:
        commit = Commit()
        due = await self.store.credits_due(now - self.config.credit.refresh_s)
        rescored = []
        for worker_id, record in sorted(due.items()):
            worker = await self._read_worker(commit, worker_id)
            if worker is not None:
                score = credit_score(record.base, record.events, now, self.config.credit)
                rescored.append((worker, record, score))
        await self._prefetch_refits([dataclasses.replace(worker, credit_score=score)
                                     for worker, _, score in rescored
                                     if score < worker.credit_score], now)
        for worker, record, score in rescored:
            await self._rescore(worker, record, commit, now, "older events decayed", score)
        if commit.credit:
            await self._commit_and_replace(commit, now)

    async def _check_certificates(self, now: int) -> None:
        commit = Commit()
        warn = self.config.certificates.warn_days * DAY_S
        view = await self.store.view()
        plans = view.plans
        table = await self._worker_table(view.workers_version)
        # only workers with a certificate in its warning time, or whose planned jobs a
        # certificate might not cover, can need anything here: found by column and by
        # what changed, then looked at one by one in table order
        due = self._certificates.due(plans, table, now, self.planner, view.plan_mark)
        for service_type in self.config.service.service_types:
            column = table.skill(service_type)
            until = column.certified_until
            due.update(np.flatnonzero((column.level > 0) & (until - warn <= now)
                                      & (now < until)).tolist())
        uncovered = []
        for worker in (table.workers[row] for row in sorted(due)):
            for skill in worker.skills:
                key = f"certificate:{worker.worker_id}:{skill.service_type}:{skill.certified_until}"
                if skill.certified_until - warn <= now < skill.certified_until and \
                        not await self.store.noticed(key):
                    commit.notices.add(key)
                    commit.events.append(Event(
                        EventType.CERTIFICATE_EXPIRING, now, "", worker.worker_id,
                        f"{skill.service_type} certificate expires at {iso(skill.certified_until)}"))
            calendar = self.planner.day_rules.calendar
            lapsed = [j for j in plans.get(worker.worker_id, []) if j.start >= now and (
                (skill := worker.skill(j.service_type)) is None
                or skill.certified_until < calendar.day_end(j.end))]
            if lapsed:
                uncovered.append(worker.worker_id)
                await self._revalidate(worker, commit, now,
                                       f"unassigned: worker {worker.worker_id}'s certificate "
                                       "does not cover the job's day")
        self._certificates.uncovered = uncovered
        if commit.events:
            await self._commit_and_replace(commit, now)

    async def events(self, cursor: str, limit: int, timeout_s: float) -> list[Event]:
        """Events after ``cursor``, waiting up to ``timeout_s`` for the next when none."""
        return await self.store.wait_events(cursor, limit, timeout_s)
