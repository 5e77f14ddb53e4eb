"""A worker table patched for a few changed workers holds exactly what a table built afresh
from the same workers holds."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.candidates import _shift_days
from matcher.model import Break, Shift, Skill, WorkerStatus
from matcher.service_day import ServiceCalendar
from matcher.supply_log import _changed_workers
from matcher.worker_table import WorkerTable
from tests.builders import CENTRE, DAY, HOUR, at, make_worker

TYPES = ("cleaning", "hourly", "repair")
CALENDAR = ServiceCalendar("Asia/Shanghai")


def day_shift(day_hour: int, hours: int) -> Shift:
    return Shift(at(day_hour + 8), at(day_hour + 8 + hours))


def random_worker(rng: random.Random, i: int):
    return make_worker(
        f"w{i:03d}", home_lat=CENTRE[0] + rng.uniform(-0.1, 0.1),
        home_lon=CENTRE[1] + rng.uniform(-0.1, 0.1), credit_score=rng.uniform(40, 100),
        skills=tuple(Skill(t, rng.randint(1, 5), DAY + rng.randint(1, 90) * 24 * HOUR)
                     for t in TYPES if rng.random() < 0.6),
        shifts=(day_shift(24 * rng.randint(0, 2), rng.randint(4, 10)),),
        breaks=(Break(at(12), at(14), HOUR),) if rng.random() < 0.3 else (),
        tags=frozenset({"pets"}) if rng.random() < 0.3 else frozenset(),
        max_jobs_per_day=rng.randint(0, 4), status=rng.choice(list(WorkerStatus)[1:]))


def changed(rng: random.Random, worker):
    kind = rng.choice(["credit", "status", "skills", "home", "shifts", "tags", "limits"])
    other = random_worker(rng, 0)
    field = {"credit": "credit_score", "status": "status", "skills": "skills",
             "home": "home_lat", "shifts": "shifts", "tags": "tags",
             "limits": "max_jobs_per_day"}[kind]
    return dataclasses.replace(worker, **{field: getattr(other, field)})


def same_table(a: WorkerTable, b: WorkerTable) -> None:
    assert [w.worker_id for w in a.workers] == [w.worker_id for w in b.workers]
    assert a.workers == b.workers and a.row == b.row
    for name in ("lat", "lon", "credit", "status", "max_jobs", "own_max_minutes", "shifts",
                 "breaks"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    assert np.array_equal(a.max_minutes(480), b.max_minutes(480))
    for x, y in zip(_shift_days(a, CALENDAR), _shift_days(b, CALENDAR)):
        assert np.array_equal(x, y)
    rows = np.arange(len(a))
    assert np.array_equal(a.has_tags(rows, frozenset({"pets"})),
                          b.has_tags(rows, frozenset({"pets"})))
    for t in TYPES:
        x, y = a.skill(t), b.skill(t)
        assert np.array_equal(x.level, y.level) and np.array_equal(x.certified_until,
                                                                   y.certified_until)
        assert np.array_equal(x.workers, y.workers)
        near_x = x.index.nearest_many(np.array([CENTRE[0]]), np.array([CENTRE[1]]), 5)
        near_y = y.index.nearest_many(np.array([CENTRE[0]]), np.array([CENTRE[1]]), 5)
        assert np.array_equal(near_x[0], near_y[0]) and np.allclose(near_x[1], near_y[1])


@pytest.mark.parametrize("seed", range(6))
def test_a_patched_table_is_the_table_built_afresh(seed):
    rng = random.Random(seed)
    workers = [random_worker(rng, i) for i in range(64)]
    table = WorkerTable(workers)
    for t in TYPES:  # columns and caches built, so that patching must keep or drop them
        table.skill(t)
    table.shifts, table.breaks, table.max_minutes(480), _shift_days(table, CALENDAR)
    table.has_tags(np.arange(64), frozenset({"pets"}))
    for _ in range(5):
        for i in rng.sample(range(64), rng.randint(1, 4)):
            workers[i] = changed(rng, workers[i])
        table = table.patched(list(workers))
        same_table(table, WorkerTable(workers))


@pytest.mark.parametrize("seed", range(4))
def test_the_workers_a_chain_of_patches_changed_are_those_that_differ(seed):
    """What the supply log reads from the patches is what comparing every worker finds
    (plus, at most, a worker changed and changed back: marked, never missed)."""
    rng = random.Random(seed)
    workers = [random_worker(rng, i) for i in range(64)]
    first = table = WorkerTable(workers)
    for _ in range(4):
        for i in rng.sample(range(64), rng.randint(1, 4)):
            workers[i] = changed(rng, workers[i])
        table = table.patched(list(workers))
        differ = [w.worker_id for old, w in zip(first.workers, workers) if old != w]
        marked = _changed_workers(first, table)
        assert set(differ) <= set(marked) and marked == sorted(set(marked), key=table.row.get)
        assert all(first.workers[first.row[w]] is not table.workers[table.row[w]]
                   for w in marked)
    rebuilt = WorkerTable(workers)  # not a patch: compared worker by worker
    assert _changed_workers(first, rebuilt) == [
        w.worker_id for old, w in zip(first.workers, workers) if old != w]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_among_marks_exactly_the_rows_of_the_given_workers(data):
    """An order's blocked or preferred workers as a mask over pair rows, unknown ids ignored;
    a few ids are compared one by one, many go through np.isin: both give np.isin's mask."""
    n = data.draw(st.integers(1, 30))
    table = WorkerTable([make_worker(f"w{i:03d}") for i in range(n)])
    rows = data.draw(st.lists(st.integers(0, n - 1), max_size=60).map(
        lambda r: np.array(r, dtype=np.int64)))
    ids = data.draw(st.frozensets(st.integers(0, n + 5).map(lambda i: f"w{i:03d}"),
                                  max_size=12))
    expected = np.isin(rows, [i for i in range(n) if f"w{i:03d}" in ids])
    got = table.among(rows, ids)
    assert got.dtype == bool and got.shape == rows.shape
    np.testing.assert_array_equal(got, expected)
