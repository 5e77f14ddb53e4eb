"""Location anchors: a zero-length stop where a worker between jobs last reported being, so that
the next job's trip starts there (``location.max_age_s`` says how long a report counts).

:class:`AnchoredPlans` puts them into the plans a dispatch reads lazily: a worker's plan gets
its anchor when it is looked up, so a dispatch that reads a few candidates' plans pays for
those, not for every worker that reported a location.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from matcher.model import Job, Location, Worker
from matcher.worker_table import WorkerTable

# The order id of a location anchor: a zero-length stop no real order ever has.
ANCHOR_ID = "@location"


def anchor_at(worker: Worker, jobs: Sequence[Job], location: Location, now: int,
              max_age_s: int) -> Job | None:
    """A zero-length stop at the worker's reported location at ``now``, when the report is
    fresh, ``now`` is inside one of its shifts and the worker is not in a job: the next job's
    trip starts there. None otherwise."""
    fresh = location.time <= now <= location.time + max_age_s
    on_shift = any(s.start <= now < s.end for s in worker.shifts)
    busy = any(j.start <= now < j.end for j in jobs)
    if not fresh or not on_shift or busy:
        return None
    return Job(ANCHOR_ID, "", "", location.lat, location.lon, now, now)


def anchored(jobs: Sequence[Job], anchor: Job | None) -> list[Job]:
    """``jobs`` with ``anchor`` at its place in time."""
    if anchor is None:
        return list(jobs)
    before = [j for j in jobs if j.start < anchor.start]
    return before + [anchor] + [j for j in jobs if j not in before]


class AnchoredPlans(Mapping):
    """``plans`` (read-only) with each worker's anchor at ``now`` from ``locations``, worked
    out for a worker when its plan is first read. A worker of ``table`` without a plan but with
    an anchor has a plan of that anchor alone; workers not in ``table`` get no anchor."""

    def __init__(self, plans: Mapping[str, Sequence[Job]], locations: Mapping[str, Location],
                 table: WorkerTable, now: int, max_age_s: int) -> None:
        self._plans, self._locations, self._table = plans, locations, table
        self._now, self._max_age_s = now, max_age_s
        self._seen: dict[str, Sequence[Job] | None] = {}  # worker id -> plan (None: none)

    def _lookup(self, worker_id: str) -> Sequence[Job] | None:
        if worker_id in self._seen:
            return self._seen[worker_id]
        jobs = self._plans.get(worker_id)
        location = self._locations.get(worker_id)
        row = self._table.row.get(worker_id)
        if location is not None and row is not None:
            anchor = anchor_at(self._table.workers[row], jobs or (), location, self._now,
                               self._max_age_s)
            if anchor is not None:
                jobs = anchored(jobs or (), anchor)
        self._seen[worker_id] = jobs
        return jobs

    def __getitem__(self, worker_id: str) -> Sequence[Job]:
        jobs = self._lookup(worker_id)
        if jobs is None:
            raise KeyError(worker_id)
        return jobs

    def __contains__(self, worker_id: object) -> bool:
        return isinstance(worker_id, str) and self._lookup(worker_id) is not None

    def __iter__(self) -> Iterator[str]:
        yield from self._plans
        yield from (w for w in self._locations
                    if w not in self._plans and self._lookup(w) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)
