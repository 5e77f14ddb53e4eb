"""Which workers tick's certificate check must read again, so that it does not read every
worker's day at every tick.

Whether a worker's planned jobs are covered by its certificates depends only on its plan, its
record and the service calendar (the config), and time passing only drops jobs from the check
(the ones started). So a worker whose plan and record are as at the last check, and whose jobs
were all covered then, still has them covered. The others are due: every worker with jobs at
the first check, under a new config, or when the clock went back; afterwards the workers with
jobs whose plan or record changed (:class:`~matcher.supply_log.SupplyLog`), and the ones whose
jobs the last check found not covered (revalidation may have kept some).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from matcher.model import Job
from matcher.store import PlanMark
from matcher.supply_log import SupplyLog
from matcher.worker_table import WorkerTable


class CertificateWatch:
    def __init__(self) -> None:
        self._log = SupplyLog()
        self._now: int | None = None
        self._planner = None
        self.uncovered: list[str] = []  # workers the last check found with jobs not covered

    def due(self, plans: Mapping[str, Sequence[Job]], table: WorkerTable, now: int,
            planner, mark: PlanMark | None = None) -> set[int]:
        """Table rows of the workers with jobs whose coverage must be checked at ``now``;
        ``mark``: the store's plan log as of ``plans`` (see :meth:`SupplyLog.update`)."""
        stamp = self._log.update(plans, table, (), mark)
        afresh = stamp == 1 or planner is not self._planner or now < self._now
        self._planner, self._now = planner, now
        if afresh:
            return {row for w, jobs in plans.items()
                    if jobs and (row := table.row.get(w)) is not None}
        changed = self._log.changed_since(stamp - 1, table).tolist()
        workers = table.workers
        due = {row for row in changed if plans.get(workers[row].worker_id)}
        return due | {table.row[w] for w in self.uncovered if w in table.row}
