"""Which planned jobs still fit their worker, remembered from the worker's last revalidation.

When a worker's data changes (a credit score falls, a status, a certificate) the engine checks
again each of its jobs not started (:meth:`~matcher.planner.Planner.still_fits`, one search
per job). Credit falls often: a worker's good reviews fade hour by hour, and each fall is
checked. The check reads the worker's credit only in the credit floor (a static check of
:mod:`matcher.eligibility`: nothing else in the search's feasibility or start depends on the
score); the rest of what it reads is the order, the job, the worker's other data, the jobs
before it in the plan and the customer's blocks, not the clock. So a worker at or above the
floor gets the answer it got at its last revalidation when all of those are as they were, and
one below the floor needs no search: the job no longer fits.

A credit refresh lowers the credit of many workers at once; their revalidations can be priced
ahead together (:meth:`RefitMemo.prefetch`), each job against the plan before it as it will be
if every earlier job still fits. The answers are kept as the workers' last ones: a revalidation
that finds the plan as assumed reads them, one that does not (an earlier job no longer fits, a
plan changed meanwhile) searches, as ever.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from collections.abc import Mapping, Sequence

from matcher.model import Job, Order, Worker
from matcher.world import World
from matcher.worker_table import WorkerTable


@dataclass(frozen=True, slots=True)
class Recheck:
    """One job a revalidation will check: its order as the planner sees it, the job, and the
    jobs before it in the worker's plan (as the revalidation's world will hold them)."""

    order: Order
    job: Job
    before: tuple[Job, ...]


class RefitMemo:
    """Per worker, the answers of its last revalidation (for one planner: a new config
    starts afresh)."""

    def __init__(self) -> None:
        self._planner = None
        self._answers: dict[str, dict[tuple, bool]] = {}

    def check(self, worker: Worker, planner) -> "Refit":
        """A revalidation of ``worker`` as it is now: it reads the answers of the last one
        and keeps only its own."""
        self._follow(planner)
        last = self._answers.get(worker.worker_id, {})
        self._answers[worker.worker_id] = answers = {}
        return Refit(worker, planner, last, answers)

    def prefetch(self, planner, rechecks: Sequence[tuple[Worker, Sequence[Recheck]]],
                 blocked: Mapping[str, frozenset[str]]) -> None:
        """Price the rechecks of several workers (each worker as its revalidation will see
        it, its jobs in plan order) that their last answers do not hold, the i-th of every
        worker in one evaluation, and add the answers to the workers' last ones."""
        self._follow(planner)
        rechecks = [(worker, jobs) for worker, jobs in rechecks if jobs]
        if not rechecks:
            return
        table = WorkerTable([worker for worker, _ in rechecks])
        blocks = World(table, {}, blocked)
        todo = []  # per worker: its keys not answered yet and their rechecks
        for worker, jobs in rechecks:
            sans, known = _sans_credit(worker), self._answers.get(worker.worker_id, {})
            floor = planner.search.static.credit_floor
            keyed = [(_key(r.order, r.job, sans, r.before, blocks.blocked_for(r.order)), r)
                     for r in jobs
                     if worker.credit_score >= floor(r.order.service_type)]  # else: no search
            todo.append((worker, [(key, r) for key, r in keyed if key not in known]))
        for i in range(max(len(jobs) for _, jobs in todo)):
            wave = [(worker, jobs[i]) for worker, jobs in todo if i < len(jobs)]
            world = World(table, {w.worker_id: list(r.before) for w, (_, r) in wave}, blocked)
            fits = planner.still_fit_many([(r.order, r.job, w) for w, (_, r) in wave], world)
            for (worker, (key, _)), fit in zip(wave, fits):
                self._answers.setdefault(worker.worker_id, {})[key] = fit

    def _follow(self, planner) -> None:
        if planner is not self._planner:  # a new config: answers start afresh
            self._planner, self._answers = planner, {}


class Refit:
    def __init__(self, worker: Worker, planner, last: dict[tuple, bool],
                 answers: dict[tuple, bool]) -> None:
        self._worker = worker
        self._planner = planner
        self._last = last
        self._answers = answers
        self._sans_credit = _sans_credit(worker)

    def still_fits(self, order: Order, job: Job, world: World) -> bool:
        """:meth:`Planner.still_fits` of ``job`` for the worker, ``world`` holding the worker's
        plan before the job."""
        worker = self._worker
        if worker.credit_score < self._planner.search.static.credit_floor(order.service_type):
            return False
        key = _key(order, job, self._sans_credit, tuple(world.plans[worker.worker_id]),
                   world.blocked_for(order))
        fits = self._last.get(key)
        if fits is None:
            fits = self._planner.still_fits(order, job, worker, world)
        self._answers[key] = fits
        return fits


def _sans_credit(worker: Worker) -> Worker:
    """The worker as the answers depend on it: any credit at or above the floor."""
    return dataclasses.replace(worker, credit_score=0.0)


def _key(order: Order, job: Job, worker: Worker, before: tuple[Job, ...],
         blocked: frozenset[str]) -> tuple:
    """What a check reads besides the worker's credit."""
    return (order, job, worker, before, blocked)
