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
"""

from __future__ import annotations

import dataclasses

from matcher.model import Job, Order, Worker
from matcher.world import World


class RefitMemo:
    """Per worker, the answers of its last revalidation (for one planner: a new config
    starts afresh)."""

    def __init__(self) -> None:
        self._planner = None
        self._answers: dict[str, dict[tuple, bool]] = {}

    def check(self, worker: Worker, planner) -> "Refit":
        """A revalidation of ``worker`` as it is now: it reads the answers of the last one
        and keeps only its own."""
        if planner is not self._planner:
            self._planner, self._answers = planner, {}
        last = self._answers.get(worker.worker_id, {})
        self._answers[worker.worker_id] = answers = {}
        return Refit(worker, planner, last, answers)


class Refit:
    def __init__(self, worker: Worker, planner, last: dict[tuple, bool],
                 answers: dict[tuple, bool]) -> None:
        self._worker = worker
        self._planner = planner
        self._last = last
        self._answers = answers
        # the worker as the answers depend on it: any credit at or above the floor
        self._sans_credit = dataclasses.replace(worker, credit_score=0.0)

    def still_fits(self, order: Order, job: Job, world: World) -> bool:
        """:meth:`Planner.still_fits` of ``job`` for the worker, ``world`` holding the worker's
        plan before the job."""
        worker = self._worker
        if worker.credit_score < self._planner.search.static.credit_floor(order.service_type):
            return False
        key = (order, job, self._sans_credit, tuple(world.plans[worker.worker_id]),
               world.blocked_for(order))
        fits = self._last.get(key)
        if fits is None:
            fits = self._planner.still_fits(order, job, worker, world)
        self._answers[key] = fits
        return fits
