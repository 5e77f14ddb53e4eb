"""Which workers' supply changed, and when: the change log behind
:mod:`matcher.infeasible_memo`.

Each :meth:`SupplyLog.update` is one look at the state a dispatch reads (the plans, the worker
table, the reported locations) and gets a new stamp. A worker whose plan or whose record differs
from the previous look is marked with that stamp; a worker with a reported location is marked at
every look (its location anchor moves with the clock). So the workers changed since stamp ``s``
are exactly those marked after ``s``: every other worker has the same plan and the same record as
then.

A store that logs its plan writes (the memory store's :class:`~matcher.store.PlanLog`) says
which plans were written between two looks: those are marked, and no plan is compared. Else
the plans are compared by identity, else by their version (the store's count of writes of the
plan, which every write changes): the Redis store reads fresh objects with the same versions.
A plan with neither looks changed, which is still exact, only slower.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from matcher.model import Job
from matcher.store import PlanMark, plans_written
from matcher.worker_table import WorkerTable


class SupplyLog:
    def __init__(self) -> None:
        self.stamp = 0
        self._plans: Mapping[str, Sequence[Job]] | None = None
        self._table: WorkerTable | None = None
        self._mark: PlanMark | None = None
        self._changes: list[str] = []  # worker ids as marked, stamp after stamp
        self._starts: list[int] = [0]  # per stamp, where its marks begin in ``_changes``

    def update(self, plans: Mapping[str, Sequence[Job]], table: WorkerTable,
               located: Sequence[str], mark: PlanMark | None = None) -> int:
        """Look at the state again; the new stamp. The first look marks nothing: there is
        nothing before it to compare with (stamp 0 means "before every look"). ``mark``: the
        store's plan log as of ``plans`` (a :class:`~matcher.store.View`'s), if it has one."""
        self.stamp += 1
        self._starts.append(len(self._changes))
        if self._plans is not None:
            written = plans_written(self._mark, mark)
            self._changes += _changed_plans(self._plans, plans) if written is None else written
        if self._table is not None and table is not self._table:
            self._changes += _changed_workers(self._table, table)
        self._changes += located
        self._plans, self._table, self._mark = plans, table, mark
        return self.stamp

    def marked_last(self) -> list[str]:
        """Ids of the workers the last look marked (repeats possible)."""
        return self._changes[self._starts[self.stamp]:]

    def changed_since(self, stamp: int, table: WorkerTable) -> np.ndarray | None:
        """Table rows of the workers changed after ``stamp`` (sorted), or None when the log
        cannot tell (``stamp`` is before its first look)."""
        if stamp < 1:
            return None
        since = self._starts[stamp + 1] if stamp < self.stamp else len(self._changes)
        rows = {table.row[w] for w in self._changes[since:] if w in table.row}
        return np.array(sorted(rows), dtype=np.int64)


def _changed_plans(previous: Mapping[str, Sequence[Job]],
                   plans: Mapping[str, Sequence[Job]]) -> list[str]:
    # identity first: most plans are the very objects of the last look
    return [w for w in [w for w, plan in plans.items() if previous.get(w) is not plan]
            if not _same_plan(previous.get(w), plans[w])]


def _same_plan(old: Sequence[Job] | None, new: Sequence[Job]) -> bool:
    """The same object, or two reads of a plan at one version (a store's plans carry the
    number of writes so far: a store that reads fresh objects (Redis) still compares cheaply)."""
    if old is new:
        return True
    version = getattr(new, "version", None)
    return version is not None and getattr(old, "version", None) == version


def _changed_workers(old: WorkerTable, new: WorkerTable) -> list[str]:
    """Ids of the workers of ``new`` that ``old`` lacks or holds with other data: those its
    patches changed when ``new`` is ``old`` patched (once or more), else found by comparing."""
    patched, table = set(), new
    while table is not old and table.patch_of is not None:
        base, ids = table.patch_of
        patched |= ids
        table = base()
        if table is None:
            break
    if table is old:
        return sorted(patched, key=new.row.__getitem__)
    changed = []
    for worker in new.workers:
        row = old.row.get(worker.worker_id)
        before = old.workers[row] if row is not None else None
        if before is not worker and before != worker:
            changed.append(worker.worker_id)
    return changed
