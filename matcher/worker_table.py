"""The worker table: every worker's attributes in numpy columns, for vectorised filtering.

Built from a list of workers; when a few workers change (a status, a credit score) the next table
is this one patched (:meth:`WorkerTable.patched`), sharing what they did not change. Per service type it also keeps a spatial index over the workers certified for
it, so candidate retrieval costs with the candidates, not with the city.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from geo import SpatialIndex
from matcher.model import Worker


@dataclass(frozen=True, slots=True)
class SkillColumn:
    """One service type: every row's level and certificate expiry (0 where the worker lacks the
    skill), and a spatial index over the homes of the workers who have it."""

    level: np.ndarray            # int16 per table row
    certified_until: np.ndarray  # int64 per table row
    workers: np.ndarray          # int64 rows with the skill, in the index's order
    index: SpatialIndex


# (attribute, Worker field, dtype) of the plain per-row columns
_ROW_COLUMNS = (("lat", "home_lat", np.float64), ("lon", "home_lon", np.float64),
                ("credit", "credit_score", np.float64), ("status", "status", np.int8),
                ("max_jobs", "max_jobs_per_day", np.int64),
                ("own_max_minutes", "max_work_minutes_per_day", np.int64))


def _value(worker: Worker, field: str):
    value = getattr(worker, field)
    return int(value) if field == "status" else value


class WorkerTable:
    """Columns over a fixed list of workers; row ``i`` is ``workers[i]``."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = list(workers)
        self.row = {w.worker_id: i for i, w in enumerate(self.workers)}
        # own_max_minutes: 0 where the worker sets no limit of its own (the config's applies)
        for name, field, dtype in _ROW_COLUMNS:
            setattr(self, name, np.array([_value(w, field) for w in self.workers], dtype=dtype))
        self._skills: dict[str, SkillColumn] = {}
        self._max_minutes: dict[int, np.ndarray] = {}
        # values worked out from the shifts alone (by whoever needs them), shared with the
        # patched tables that share the shifts
        self.of_shifts: dict = {}
        # values worked out from the columns (by whoever needs them): a patch starts without
        self.derived: dict = {}
        self.patch_of: tuple[weakref.ref, frozenset[str]] | None = None

    def __len__(self) -> int:
        return len(self.workers)

    def patched(self, workers: list[Worker]) -> "WorkerTable":
        """The table of ``workers``: this one with the rows that changed patched when they
        are the same workers in the same order and few changed, else a new one. What the
        changes leave as it was (a skill's column and spatial index, the shifts) is shared:
        tables are never changed once built."""
        changed = [i for i, (old, new) in enumerate(zip(self.workers, workers))
                   if old is not new and old != new]
        if len(workers) != len(self) or len(changed) > max(1, len(self) // 16) or any(
                self.workers[i].worker_id != workers[i].worker_id for i in changed):
            return WorkerTable(workers)
        table = object.__new__(WorkerTable)
        table.workers, table.row = list(workers), self.row
        # which table this one patches and the ids it changed (weakly: no chain of old tables)
        table.patch_of = (weakref.ref(self), frozenset(w.worker_id for w in
                                                       (workers[i] for i in changed)))
        rows = np.array(changed, dtype=np.int64)
        new = [workers[i] for i in changed]
        for name, field, dtype in _ROW_COLUMNS:
            column = getattr(self, name).copy()
            column[rows] = np.array([_value(w, field) for w in new], dtype=dtype)
            setattr(table, name, column)
        table._max_minutes = {} if np.any(self.own_max_minutes[rows] != table.own_max_minutes[rows]) \
            else self._max_minutes
        moved = np.any((self.lat[rows] != table.lat[rows]) | (self.lon[rows] != table.lon[rows]))
        table._skills = {} if moved else {
            service_type: column for service_type, column in self._skills.items()
            if all(self.workers[i].skill(service_type) == workers[i].skill(service_type)
                   for i in changed)}
        if "worker_ids" in self.__dict__:  # a patch keeps every worker id in its row
            table.__dict__["worker_ids"] = self.__dict__["worker_ids"]
        for name, same in (("shifts", lambda a, b: a.shifts == b.shifts),
                           ("breaks", lambda a, b: a.breaks == b.breaks),
                           ("_tag_columns", lambda a, b: a.tags == b.tags)):
            if name in self.__dict__ and all(same(self.workers[i], workers[i]) for i in changed):
                table.__dict__[name] = self.__dict__[name]
        table.of_shifts = self.of_shifts if "shifts" in table.__dict__ else {}
        table.derived = {}
        return table

    def max_minutes(self, default: int) -> np.ndarray:
        """Working minutes per service day per row: the worker's own limit, else ``default``."""
        cached = self._max_minutes.get(default)
        if cached is None:
            cached = np.where(self.own_max_minutes > 0, self.own_max_minutes, default)
            self._max_minutes[default] = cached
        return cached

    def skill(self, service_type: str) -> SkillColumn:
        """The column of workers certified for ``service_type`` (empty if none)."""
        column = self._skills.get(service_type)
        if column is None:
            column = self._build_skill(service_type)
            self._skills[service_type] = column
        return column

    def _build_skill(self, service_type: str) -> SkillColumn:
        level = np.zeros(len(self), dtype=np.int16)
        until = np.zeros(len(self), dtype=np.int64)
        for i, worker in enumerate(self.workers):
            skill = worker.skill(service_type)
            if skill is not None:
                level[i], until[i] = skill.level, skill.certified_until
        rows = np.flatnonzero(level > 0)
        return SkillColumn(level, until, rows, SpatialIndex(self.lat[rows], self.lon[rows]))

    @cached_property
    def worker_ids(self) -> tuple[str, ...]:
        """The worker id of each row (an instant order looks up the plans of a few dozen
        rows several times: an index here, not an attribute of each worker)."""
        return tuple(w.worker_id for w in self.workers)

    @cached_property
    def shifts(self) -> np.ndarray:
        """(rows, most shifts, 2) start and end; padding is an empty shift (0, 0)."""
        width = max((len(w.shifts) for w in self.workers), default=0)
        shifts = np.zeros((len(self), max(width, 1), 2), dtype=np.int64)
        for i, worker in enumerate(self.workers):
            for k, shift in enumerate(worker.shifts):
                shifts[i, k] = shift.start, shift.end
        return shifts

    @cached_property
    def breaks(self) -> np.ndarray:
        """(rows, most breaks, 3) window start, window end and duration; padding is all 0 (a
        zero-length break, which never binds). Width 0 when no worker has a break."""
        width = max((len(w.breaks) for w in self.workers), default=0)
        breaks = np.zeros((len(self), width, 3), dtype=np.int64)
        for i, worker in enumerate(self.workers):
            for k, pause in enumerate(worker.breaks):
                breaks[i, k] = pause.start, pause.end, pause.duration
        return breaks

    @cached_property
    def _tag_columns(self) -> dict[str, np.ndarray]:
        columns: dict[str, np.ndarray] = {}
        for i, worker in enumerate(self.workers):
            for tag in worker.tags:
                columns.setdefault(tag, np.zeros(len(self), dtype=bool))[i] = True
        return columns

    def has_tags(self, rows: np.ndarray, tags: frozenset[str]) -> np.ndarray:
        """Boolean mask over ``rows``: the worker carries every tag in ``tags``."""
        mask = np.ones(rows.shape, dtype=bool)
        for tag in tags:
            column = self._tag_columns.get(tag)
            mask &= column[rows] if column is not None else False
        return mask

    def among(self, rows: np.ndarray, worker_ids: frozenset[str] | set[str]) -> np.ndarray:
        """Boolean mask over ``rows``: the row is a worker of ``worker_ids`` (an order's
        blocked or preferred workers, mostly one or two: a comparison each, where np.isin
        took 40 us a call, sorting or tabling the rows first)."""
        wanted = [self.row[w] for w in worker_ids if w in self.row]
        if len(wanted) > 8:
            return np.isin(rows, wanted)
        mask = np.zeros(rows.shape, dtype=bool)
        for row in wanted:
            mask |= rows == row
        return mask
