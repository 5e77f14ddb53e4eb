"""What the planner sees: the worker table, every worker's day plan, and the customers' blocks.

The planner changes plans only through :meth:`World.place`, which keeps what is derived from the
plans in step: the day plans as padded numpy columns per table row (what vectorised insertion
reads) and which workers have jobs of which customer (the customer's history term).

Cost follows the candidates, not the city: the plans are any read-only mapping (a store's
snapshot), a copy of the world is an overlay on it, and a question about a few rows (their job
columns, whether they served a customer) reads only those rows' plans. The whole-city columns
and indexes are built only for a question about many rows (a batch round), then kept.
"""

from __future__ import annotations

import functools
import hashlib
import operator
from collections.abc import Collection, Iterable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

import numba
import numpy as np

from matcher.insertion import NO_JOB
from matcher.model import Job, Order
from matcher.store import PlanMark, plans_written
from matcher.worker_table import WorkerTable


# a job's fields in the order of JobColumns._FIELDS
_JOB_FIELDS = operator.attrgetter("start", "end", "lat", "lon", "customer_id")

NO_CUSTOMER = -1


@functools.lru_cache(maxsize=1 << 16)
def customer_code(customer_id: str) -> int:
    """A customer as job columns hold it: 63 bits of a BLAKE2b digest of the id, the same in
    every process and never NO_CUSTOMER. (An interned table would grow with every customer a
    long-running server ever sees.) Two customers share a code with chance 2**-63 a pair; then
    a worker would score the "already serves the customer" half preference for the other
    one, a soft term: no hard constraint reads it."""
    digest = hashlib.blake2b(customer_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _job_values(jobs: Iterable[Job]) -> list[Sequence]:
    """The jobs' values per field of :attr:`JobColumns._FIELDS`, in its order."""
    values = list(zip(*map(_JOB_FIELDS, jobs))) or [()] * len(JobColumns._FIELDS)
    values[-1] = list(map(customer_code, values[-1]))
    return values


class JobColumns:
    """Every row's planned jobs as (rows, capacity) arrays ``start``, ``end``, ``lat``,
    ``lon`` and ``customer`` (:func:`customer_code`); a row's first ``count`` columns hold its
    jobs, the rest are padding (NO_JOB, NO_CUSTOMER)."""

    _FIELDS = (("start", NO_JOB, np.int64), ("end", NO_JOB, np.int64),
               ("lat", 0.0, np.float64), ("lon", 0.0, np.float64),
               ("customer", NO_CUSTOMER, np.int64))

    def __init__(self, table: WorkerTable, plans: Mapping[str, Sequence[Job]]) -> None:
        self.count = np.zeros(len(table), dtype=np.int64)
        self.columns = _fill(len(table), ((table.row.get(w), day) for w, day in plans.items()),
                             self.count)

    def take(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The job columns of ``rows`` (any shape), trimmed to the widest of their days."""
        ints, floats = take_columns(np.ascontiguousarray(rows, dtype=np.int64).ravel(),
                                    self.count, *self.columns.values())
        taken = (ints[0], ints[1], floats[0], floats[1], ints[2])  # in _FIELDS order
        if rows.ndim == 1:
            return dict(zip(self.columns, taken))
        return {name: column.reshape(rows.shape + column.shape[-1:])
                for name, column in zip(self.columns, taken)}

    def set(self, row: int, jobs: list[Job]) -> None:
        n, before = len(jobs), int(self.count[row])
        if n > self.columns["start"].shape[1]:
            self._grow(2 * n)
        self.count[row] = n
        for (name, fill, _), values in zip(self._FIELDS, _job_values(jobs)):
            column = self.columns[name]
            column[row, :n] = values
            if before > n:  # (past a row's count every column is padding already)
                column[row, n:before] = fill

    def _grow(self, capacity: int) -> None:
        for name, fill, dtype in self._FIELDS:
            old = self.columns[name]
            self.columns[name] = np.full((len(old), capacity), fill, dtype=dtype)
            self.columns[name][:, :old.shape[1]] = old

    def copy(self) -> "JobColumns":
        twin = object.__new__(JobColumns)
        twin.count = self.count.copy()
        twin.columns = {name: column.copy() for name, column in self.columns.items()}
        return twin

    @classmethod
    def of_rows(cls, table: WorkerTable, plans: Mapping[str, Sequence[Job]],
                rows: np.ndarray) -> dict[str, np.ndarray]:
        """What ``JobColumns(table, plans).take(rows)`` gives, reading only the plans of
        ``rows``."""
        # each row's plan read once however many pairs it is in (no np.unique: on the few
        # dozen rows of an instant order its call costs more than this): the columns of the
        # distinct rows, then one take per column
        distinct: dict[int, int] = {}
        inverse = [distinct.setdefault(r, len(distinct)) for r in rows.ravel().tolist()]
        days = plans_of(plans, table, distinct)
        width = max(max(map(len, days), default=0), 1)
        at = [i * width + k for i, day in enumerate(days) for k in range(len(day))]
        values = _job_values(job for day in days for job in day)
        columns = {}
        for (name, fill, dtype), value in zip(cls._FIELDS, values):
            column = np.full(len(days) * width, fill, dtype=dtype)
            if at:
                column[at] = value
            if len(days) < len(inverse):  # some row in several pairs
                column = column.reshape(len(days), width)[inverse]
            columns[name] = column.reshape(rows.shape + (width,))
        return columns


@numba.njit(cache=True, nogil=True, boundscheck=False)
def take_columns(rows, count, start, end, lat, lon, customer):
    """:meth:`JobColumns.take` of 1-D ``rows``: the five columns gathered in one loop (as
    numpy it was one gather per column, and their fixed cost was most of it on the few dozen
    rows of an instant order's pass), as (3, n, width) int64 (start, end, customer) and
    (2, n, width) float64 (lat, lon): each array a kernel returns costs a boxing."""
    n = rows.shape[0]
    width = 1
    for i in range(n):
        width = max(width, count[rows[i]])
    ints, floats = np.empty((3, n, width), np.int64), np.empty((2, n, width))
    for i in range(n):
        r = rows[i]
        for j in range(width):
            ints[0, i, j], ints[1, i, j], ints[2, i, j] = start[r, j], end[r, j], customer[r, j]
            floats[0, i, j], floats[1, i, j] = lat[r, j], lon[r, j]
    return ints, floats


def warm_up() -> None:
    """Load :func:`take_columns` now (numba's cache; compiled on a first run) rather than in
    the first order's answer."""
    ints, floats = np.zeros((1, 1), dtype=np.int64), np.zeros((1, 1))
    take_columns(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), ints, ints, floats,
                 floats, ints)


def _fill(n_rows: int, days, count: np.ndarray) -> dict[str, np.ndarray]:
    """(n_rows, widest day) job columns from (row, jobs) pairs (row None: skipped); ``count``
    gets each row's number of jobs."""
    days = [(row, day) for row, day in days if row is not None and len(day)]
    capacity = max((len(day) for _, day in days), default=1)
    columns = {name: np.full((n_rows, capacity), fill, dtype=dtype)
               for name, fill, dtype in JobColumns._FIELDS}
    rows, cols, jobs = [], [], []
    for row, day in days:
        count[row] = len(day)
        rows += [row] * len(day)
        cols += range(len(day))
        jobs += day
    for (name, _, _), values in zip(JobColumns._FIELDS, _job_values(jobs)):
        columns[name][rows, cols] = values
    return columns


class PlanOverlay(MutableMapping):
    """Day plans changed here (``own``) over read-only ``base`` plans: what a world that may
    change copies instead of every plan. An overlay of an overlay keeps one level (it copies
    the other's changes only). Plans are replaced, never removed."""

    __slots__ = ("base", "own")

    def __init__(self, base: Mapping[str, Sequence[Job]]) -> None:
        if isinstance(base, PlanOverlay):
            self.base, self.own = base.base, dict(base.own)
        else:
            self.base, self.own = base, {}

    def __getitem__(self, worker_id: str) -> Sequence[Job]:
        jobs = self.own.get(worker_id)
        return self.base[worker_id] if jobs is None else jobs

    def get(self, worker_id: str, default=None):
        jobs = self.own.get(worker_id)
        return self.base.get(worker_id, default) if jobs is None else jobs

    def __contains__(self, worker_id: object) -> bool:
        return worker_id in self.own or worker_id in self.base

    def __setitem__(self, worker_id: str, jobs: Sequence[Job]) -> None:
        self.own[worker_id] = jobs

    def __delitem__(self, worker_id: str) -> None:
        raise TypeError("a plan is replaced (by an empty one), not removed")

    def __iter__(self) -> Iterator[str]:
        yield from self.own
        yield from (w for w in self.base if w not in self.own)

    def __len__(self) -> int:
        return len(self.own) + sum(1 for w in self.base if w not in self.own)


def plans_of(plans: Mapping[str, Sequence[Job]], table: WorkerTable,
             rows: Iterable[int]) -> list[Sequence[Job]]:
    """The plan of each of ``rows`` (no plan: empty), in their order. An instant order reads a
    few dozen plans several times, through an overlay: its two dicts are read here directly,
    not through a method call per plan."""
    every = table.worker_ids
    ids = [every[r] for r in rows]
    if type(plans) is PlanOverlay:
        own_get, base_get = plans.own.get, plans.base.get  # as PlanOverlay.get reads them
        return [base_get(w, ()) if (jobs := own_get(w)) is None else jobs for w in ids]
    get = plans.get
    return [get(w, ()) for w in ids]


# A question about at most this many distinct rows reads their plans one by one; a larger one
# builds (once) the columns or index of the whole city.
FEW_ROWS = 4096


def _few(rows: np.ndarray) -> bool:
    return rows.size <= FEW_ROWS or len(np.unique(rows)) <= FEW_ROWS


@dataclass(slots=True)
class World:
    table: WorkerTable
    plans: MutableMapping[str, Sequence[Job]] | Mapping[str, Sequence[Job]]  # -> jobs by start
    blocked: dict[str, frozenset[str]] = field(default_factory=dict)  # customer -> workers
    _jobs: JobColumns | None = None
    # the job columns of the plans under ``plans`` (a PlanOverlay), kept between dispatches
    # (:class:`KeptColumns`) and shared: read only (rows are taken from them, the rows of the
    # overlay's own plans read from those)
    _kept: JobColumns | None = None
    _orders: dict[str, list[tuple[str, Job]]] | None = None
    # the table row of every plan :meth:`place` replaced, in order (what a search kept from
    # before can check: its pairs are still exact unless one of its rows is among them)
    moved: list[int] = field(default_factory=list)

    def blocked_for(self, order: Order) -> frozenset[str]:
        # (no union when one side is empty: a round asks this of every pending order, each
        # pass, and most orders and customers block nobody)
        by_customer = self.blocked.get(order.customer_id)
        if not by_customer:
            return order.blocked_worker_ids
        return order.blocked_worker_ids | by_customer if order.blocked_worker_ids \
            else by_customer

    @property
    def jobs(self) -> JobColumns:
        if self._jobs is None:
            self._jobs = self._from_kept() if self._kept is not None else \
                JobColumns(self.table, self.plans)
        return self._jobs

    def _from_kept(self) -> JobColumns:
        """The kept columns of the plans under the overlay, with the plans it changed."""
        jobs = self._kept.copy()
        for worker_id, day in self.plans.own.items():
            row = self.table.row.get(worker_id)
            if row is not None:
                jobs.set(row, list(day))
        return jobs

    def job_columns(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The job columns of ``rows`` (any shape), as :meth:`JobColumns.take` gives them."""
        if self._jobs is None:
            if self._kept is not None:
                return self._over_kept(rows)
            if _few(rows):
                return JobColumns.of_rows(self.table, self.plans, rows)
        return self.jobs.take(rows)

    def _over_kept(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`job_columns` taken from the kept columns, the rows of the plans this world
        changed read from those plans."""
        kept, row_of = self._kept, self.table.row
        own = {row_of[w]: len(day) for w, day in self.plans.own.items() if w in row_of}
        if not own:
            return kept.take(rows)
        changed = np.zeros(len(self.table), dtype=bool)  # (np.isin cost more on few rows)
        changed[list(own)] = True
        mine = changed[rows]
        if not mine.any():
            return kept.take(rows)
        count = kept.count[rows]
        count[mine] = [own[r] for r in rows[mine].tolist()]
        width = max(int(count.max(initial=0)), 1)
        fresh = JobColumns.of_rows(self.table, self.plans, rows[mine])
        columns = {}
        for name, fill, dtype in JobColumns._FIELDS:
            column = kept.columns[name]
            if width <= column.shape[1]:
                taken = column[rows, :width]
            else:  # a plan of this world's is longer than any kept one
                taken = np.full(rows.shape + (width,), fill, dtype=dtype)
                taken[..., :column.shape[1]] = column[rows]
            taken[mine] = fill
            taken[mine, :fresh[name].shape[-1]] = fresh[name]
            columns[name] = taken
        return columns

    def placed(self, order_id: str) -> list[tuple[str, Job]]:
        """(worker id, job) of every planned job of ``order_id``: one, a team's several, or
        none."""
        if self._orders is None:
            self._orders = {}
            for worker_id, jobs in sorted(self.plans.items()):
                for job in jobs:
                    self._orders.setdefault(job.order_id, []).append((worker_id, job))
        return list(self._orders.get(order_id, []))

    def place(self, worker_id: str, jobs: list[Job]) -> None:
        """Replace a worker's day plan with ``jobs`` (the indexes built so far follow: a
        round places many jobs, and rebuilding them reads every plan)."""
        before = self.plans.get(worker_id, ())
        self.plans[worker_id] = jobs
        self.moved.append(self.table.row.get(worker_id, -1))
        if self._jobs is not None:
            self._jobs.set(self.table.row[worker_id], jobs)
        if self._orders is not None:
            for order_id in {job.order_id for job in before}:
                self._orders[order_id] = [(w, j) for w, j in self._orders[order_id]
                                          if w != worker_id]
            for job in jobs:  # kept in worker id order, as built
                placed = self._orders.setdefault(job.order_id, [])
                placed.append((worker_id, job))
                placed.sort(key=lambda entry: entry[0])

    def max_minutes(self, rules) -> np.ndarray:
        """Working minutes allowed per service day, per table row."""
        return self.table.max_minutes(rules.default_max_minutes)

    def copy(self) -> "World":
        """A world whose plans can change without touching this one's (an overlay on them:
        copying costs nothing however many plans there are; job columns already built are
        copied, which costs a few numpy copies)."""
        return World(self.table, PlanOverlay(self.plans), self.blocked,
                     None if self._jobs is None else self._jobs.copy(), self._kept)


class KeptColumns:
    """Job columns kept from one dispatch to the next: the rows of the workers whose plans
    changed are rewritten, the others kept (building them afresh reads every plan, and
    finished jobs stay in the plans). They are built afresh when the table's rows change or
    the change log does not cover everything since the last call: the supply log of the batch
    rounds (:meth:`follow`), the store's plan log for every other dispatch (:meth:`offer`)."""

    def __init__(self) -> None:
        self._columns: JobColumns | None = None
        self._rows: dict[str, int] | None = None
        self._log, self._stamp = None, 0  # the SupplyLog and its stamp last followed
        self._mark: PlanMark | None = None  # the store's plan log where last brought up to date

    def follow(self, world: World, log, mark: PlanMark | None) -> None:
        """Bring the columns to ``world``'s plans and give them to ``world``; ``log`` (a
        :class:`~matcher.supply_log.SupplyLog`) has just looked at those plans, which are
        those of the store's plan log at ``mark`` (None: a store without one)."""
        table = world.table
        if self._columns is None or table.row is not self._rows or log is not self._log \
                or log.stamp != self._stamp + 1:
            self._columns, self._rows = JobColumns(table, world.plans), table.row
        else:
            self._rewrite(world, log.marked_last())
        self._log, self._stamp, self._mark = log, log.stamp, mark
        world._jobs = self._columns

    def offer(self, world: World, mark: PlanMark | None, located: Collection[str]) -> None:
        """Share the columns with ``world`` (fresh from a view: no plan of its own yet),
        brought up to date from the store's plan log (``mark``: the view's; None, a store
        without one: not shared) when few workers have a location anchor (``located``: their
        anchors move with the clock, so their rows are rewritten every time). The world takes
        its rows from them and reads only the plans it changes itself."""
        if mark is None or len(located) > FEW_LOCATED or type(world.plans) is not PlanOverlay \
                or world.plans.own:
            return
        written = plans_written(self._mark, mark)
        if self._columns is None or world.table.row is not self._rows or written is None:
            # (an engine that has run no batch round yet, or a new table: read every plan once)
            self._columns, self._rows = JobColumns(world.table, world.plans), world.table.row
        else:
            self._rewrite(world, [*written, *located])
        self._mark = mark
        world._kept = self._columns

    def _rewrite(self, world: World, worker_ids: Iterable[str]) -> None:
        row_of = world.table.row
        for worker_id in dict.fromkeys(worker_ids):
            row = row_of.get(worker_id)
            if row is not None:
                self._columns.set(row, list(world.plans.get(worker_id, ())))


# More located workers than this, and a dispatch between batch rounds reads its plans itself.
FEW_LOCATED = 256
