"""The lazy views a dispatch reads the world through give what the eager ones gave: the plan
overlay, plans with location anchors worked out on reading, job columns of a few rows, and the
customer-history mask of a few pairs."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from matcher.anchors import AnchoredPlans, anchor_at, anchored
from matcher.model import Job, Location
from matcher.store import FrozenPlan
from matcher.world import JobColumns, PlanOverlay, World, customer_code, plans_of
from matcher.worker_table import WorkerTable
from tests.builders import CENTRE, HOUR, at, make_worker

MAX_AGE_S = 900


def random_world(seed: int, n_workers: int = 30):
    rng = random.Random(seed)
    workers = [make_worker(f"w{i:02d}") for i in range(n_workers)]
    plans, locations = {}, {}
    for worker in workers:
        if rng.random() < 0.6:
            hours = sorted(rng.sample(range(8, 17), rng.randint(1, 3)))
            plans[worker.worker_id] = FrozenPlan(
                [Job(f"o-{worker.worker_id}-{h}", f"c{rng.randint(0, 5)}", "cleaning",
                     CENTRE[0] + rng.random() / 50, CENTRE[1] + rng.random() / 50,
                     at(h), at(h) + HOUR // 2) for h in hours], version=1)
        if rng.random() < 0.5:
            locations[worker.worker_id] = Location(CENTRE[0], CENTRE[1],
                                                   at(rng.choice([7, 9.5, 10, 12])))
    locations["stranger"] = Location(CENTRE[0], CENTRE[1], at(10))  # not in the table
    return WorkerTable(workers), plans, locations


def eager_anchors(table, plans, locations, now):
    """What the engine built before: every plan, anchored where a fresh report applies."""
    out = dict(plans)
    for worker_id, location in locations.items():
        row = table.row.get(worker_id)
        if row is not None:
            jobs = out.get(worker_id, [])
            anchor = anchor_at(table.workers[row], jobs, location, now, MAX_AGE_S)
            if anchor is not None:
                out[worker_id] = anchored(jobs, anchor)
    return out


@pytest.mark.parametrize("seed", range(5))
def test_anchored_plans_read_like_the_eagerly_anchored_ones(seed):
    table, plans, locations = random_world(seed)
    now = at(10)
    lazy = AnchoredPlans(plans, locations, table, now, MAX_AGE_S)
    eager = eager_anchors(table, plans, locations, now)
    assert {w: list(j) for w, j in lazy.items()} == {w: list(j) for w, j in eager.items()}
    for worker_id in [*table.row, "stranger", "nobody"]:
        assert (worker_id in lazy) == (worker_id in eager)
        assert list(lazy.get(worker_id, ())) == list(eager.get(worker_id, ()))


def test_an_overlay_takes_changes_without_touching_what_it_covers():
    base = {"w1": FrozenPlan([], 1), "w2": FrozenPlan([], 1)}
    first = PlanOverlay(base)
    first["w1"] = ["changed"]
    second = PlanOverlay(first)  # one level: the first's changes copied, the same base
    second["w3"] = ["new"]
    assert second.base is base and dict(second.own) == {"w1": ["changed"], "w3": ["new"]}
    assert "w3" not in first and first["w1"] == ["changed"] and list(base["w1"]) == []
    assert sorted(second) == ["w1", "w2", "w3"] and len(second) == 3
    assert list(second.get("w2")) == [] and second.get("w9", "none") == "none"
    with pytest.raises(TypeError):
        del second["w1"]


@pytest.mark.parametrize("seed", range(5))
def test_job_columns_of_a_few_rows_are_those_of_the_whole_city(seed):
    table, plans, _ = random_world(seed)
    rows = np.random.default_rng(seed).integers(0, len(table), size=(3, 7))
    few = JobColumns.of_rows(table, plans, rows)
    whole = JobColumns(table, plans).take(rows)
    assert few.keys() == whole.keys()
    for name in whole:
        assert np.array_equal(few[name], whole[name]), name


@pytest.mark.parametrize("seed", range(5))
def test_job_columns_set_row_by_row_are_those_built_at_once(seed):
    """Days replaced one at a time, longer, shorter (a job cancelled) or emptied, leave the
    columns those of the final plans built at once: what lies past a row's jobs is padding."""
    table, plans, _ = random_world(seed)
    _, other, _ = random_world(seed + 100)
    columns = JobColumns(table, plans)
    rng = random.Random(seed)
    final = dict(plans)
    for _ in range(40):
        worker_id = rng.choice(list(table.row))
        day = list(rng.choice([other.get(worker_id, []), plans.get(worker_id, []), []]))
        day = day[:rng.randint(0, len(day))] if day else day
        columns.set(table.row[worker_id], day)
        final[worker_id] = day
    rows = np.arange(len(table))
    fresh = JobColumns(table, final)
    assert columns.count.tolist() == fresh.count.tolist()
    built, taken = fresh.take(rows), columns.take(rows)
    for name in built:
        assert np.array_equal(taken[name], built[name]), name


def served(world, rows, order, customers):
    """Per pair: its worker's job columns hold its order's customer (as the score reads them)."""
    codes = np.array([customer_code(c) for c in customers])
    return (world.job_columns(rows)["customer"] == codes[order][:, None]).any(axis=1)


@pytest.mark.parametrize("seed", range(5))
def test_the_customer_history_of_pairs_is_what_their_plans_hold(seed):
    """The job columns' customers, by every way a world gets them:
    a few rows' plans read one by one, every row's columns built, and a world whose own
    plans changed (one worker's day replaced by a job of another customer)."""
    table, plans, _ = random_world(seed)
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, len(table), size=40)
    order = np.sort(rng.integers(0, 4, size=40))
    customers = [f"c{c}" for c in rng.integers(0, 6, size=4)]

    def expected(world_plans):
        return [customers[j] in {job.customer_id for job in world_plans.get(
            table.workers[r].worker_id, ())} for r, j in zip(rows.tolist(), order.tolist())]

    few = served(World(table, PlanOverlay(plans)), rows, order, customers)
    whole_world = World(table, dict(plans))
    assert whole_world.jobs is not None  # every row's columns: the other path
    whole = served(whole_world, rows, order, customers)
    assert few.tolist() == whole.tolist() == expected(plans)
    assert any(expected(plans)) and not all(expected(plans))
    changed = World(table, PlanOverlay(plans))
    changed.place(table.workers[rows[0]].worker_id,
                  [Job("new", customers[order[0]], "cleaning", CENTRE[0], CENTRE[1], at(9),
                       at(9) + HOUR)])
    for world in (changed, changed.copy()):
        assert served(world, rows, order, customers).tolist() == expected(world.plans)
    assert served(changed, rows[:1], order[:1], customers).tolist() == [True]
    nobody = served(World(table, PlanOverlay({})), rows, order, customers)  # no plan at all
    assert nobody.shape == rows.shape and not nobody.any()


@pytest.mark.parametrize("seed", range(5))
def test_columns_kept_between_dispatches_are_those_built_afresh(seed):
    """KeptColumns rewrites only the rows the change log marks, yet after any mix of plans
    gained, lost and emptied it holds what a fresh build of the plans holds."""
    from matcher.supply_log import SupplyLog
    from matcher.world import KeptColumns
    table, plans, _ = random_world(seed)
    rng, log, kept = random.Random(seed), SupplyLog(), KeptColumns()
    plans = dict(plans)
    rows = np.arange(len(table))[None, :]
    for _ in range(8):
        for worker_id in rng.sample(sorted(table.row), 6):
            jobs = [Job(f"o{rng.random()}", "c1", "cleaning", CENTRE[0], CENTRE[1], at(h),
                        at(h) + HOUR) for h in sorted(rng.sample(range(8, 17), rng.randint(0, 5)))]
            version = getattr(plans.get(worker_id), "version", 0) + 1  # as a store counts
            plans[worker_id] = FrozenPlan(jobs, version=version)
        world = World(table, dict(plans))
        log.update(world.plans, table, ())
        kept.follow(world, log, None)
        fresh = JobColumns(table, world.plans).take(rows)
        got = world.job_columns(rows)
        for name in fresh:
            assert np.array_equal(got[name], fresh[name]), name


def _rewritten(rng, plans, table, n):
    """``n`` random workers' plans replaced (gained, lost or emptied jobs); their ids."""
    ids = rng.sample(sorted(table.row), n)
    for worker_id in ids:
        jobs = [Job(f"o{rng.random()}", "c1", "cleaning", CENTRE[0], CENTRE[1], at(h),
                    at(h) + HOUR) for h in sorted(rng.sample(range(8, 17), rng.randint(0, 5)))]
        plans[worker_id] = FrozenPlan(jobs, getattr(plans.get(worker_id), "version", 0) + 1)
    return ids


@pytest.mark.parametrize("seed", range(5))
def test_columns_offered_between_rounds_are_those_built_afresh(seed):
    """Between batch rounds a dispatch gets the kept columns brought up to date from the
    store's plan log (and the anchored rows rewritten): its world's columns, with the plans
    it changes itself, are what a fresh build of its plans holds; the kept ones stay as
    offered."""
    from matcher.store import PlanLog
    from matcher.supply_log import SupplyLog
    from matcher.world import KeptColumns
    table, plans, locations = random_world(seed)
    rng, log, kept, plan_log = random.Random(seed), SupplyLog(), KeptColumns(), PlanLog()
    plans, rows = dict(plans), np.arange(len(table))[None, :]
    located = [w for w in locations if w in table.row][:3]
    for step in range(8):
        plan_log.add(_rewritten(rng, plans, table, 6))
        now = at(9 + step / 2)  # the anchors move with the clock
        world = World(table, PlanOverlay(AnchoredPlans(dict(plans), {
            w: locations[w] for w in located}, table, now, MAX_AGE_S)))
        if step % 3 == 0:  # a batch round now and then
            log.update(world.plans, table, located, plan_log.mark())
            kept.follow(world, log, plan_log.mark())
            continue
        kept.offer(world, plan_log.mark(), located)
        assert world._kept is not None
        offered = {name: column.copy() for name, column in world._kept.columns.items()}
        picks = rng.sample(sorted(table.row), 3)
        for worker_id in picks[:2]:  # a plan cut to one job
            world.place(worker_id, [Job("mine", "c2", "cleaning", CENTRE[0], CENTRE[1],
                                        at(15), at(16))])
        if step % 2:  # a plan longer than any kept one
            world.place(picks[2], [Job(f"long{h}", "c2", "cleaning", CENTRE[0], CENTRE[1],
                                       at(6) + h * 900, at(6) + h * 900 + 600)
                                   for h in range(12)])
        some = np.array([[table.row[w] for w in picks] + [0, 1, 0]] * 2)  # repeats, 2-D
        for asked in (rows, some, some[:, 3:]):
            fresh = JobColumns(table, dict(world.plans)).take(asked)
            got = world.job_columns(asked)
            for name in fresh:
                assert got[name].shape == fresh[name].shape, name
                assert np.array_equal(got[name], fresh[name]), name
        fresh = JobColumns(table, dict(world.plans)).take(rows)
        for name, column in world.jobs.take(rows).items():  # the world's own, copied
            assert np.array_equal(column, fresh[name]), name
        for name in offered:
            assert np.array_equal(world._kept.columns[name], offered[name]), name


def test_columns_are_offered_only_where_they_can_be_kept_up_to_date():
    """A store without a plan log, too many anchored workers, a world that changed plans
    already: the world reads its plans itself. Nothing kept yet, another log's mark or a new
    table: the columns are built afresh and offered."""
    from matcher.store import PlanLog
    from matcher.supply_log import SupplyLog
    from matcher.world import FEW_LOCATED, KeptColumns
    table, plans, _ = random_world(0)
    kept, log, plan_log = KeptColumns(), SupplyLog(), PlanLog()

    def offered(mark, located=(), own=False) -> bool:
        world = World(table, PlanOverlay(plans))
        if own:
            world.plans["w00"] = []
        kept.offer(world, mark, located)
        return world._kept is not None

    assert not offered(None)
    assert offered(plan_log.mark())  # nothing kept yet: built
    world = World(table, PlanOverlay(plans))
    log.update(world.plans, table, (), plan_log.mark())
    kept.follow(world, log, plan_log.mark())
    assert offered(plan_log.mark())
    assert offered(PlanLog().mark())  # built again
    assert not offered(plan_log.mark(), located=[f"x{i}" for i in range(FEW_LOCATED + 1)])
    assert not offered(plan_log.mark(), own=True)
    assert offered(plan_log.mark())


@pytest.mark.parametrize("seed", range(3))
def test_plans_of_rows_read_an_overlay_as_its_get_does(seed):
    table, plans, _ = random_world(seed)
    overlay = PlanOverlay(plans)
    overlay["w00"] = []                     # a plan emptied over the base's
    overlay["w01"] = list(plans.get("w02", ()))
    rows = [0, 1, 2, 5, 0, len(table) - 1]
    expected = [list(overlay.get(table.workers[r].worker_id, ())) for r in rows]
    assert [list(day) for day in plans_of(overlay, table, rows)] == expected
    assert [list(day) for day in plans_of(dict(overlay), table, rows)] == expected
    few = JobColumns.of_rows(table, overlay, np.array([rows]))
    whole = JobColumns(table, dict(overlay)).take(np.array([rows]))
    for name in whole:
        assert np.array_equal(few[name], whole[name]), name


def test_a_patched_table_keeps_the_worker_ids_of_its_rows():
    table, _, _ = random_world(0)
    assert table.worker_ids == tuple(w.worker_id for w in table.workers)
    workers = list(table.workers)
    workers[3] = dataclasses.replace(workers[3], credit_score=workers[3].credit_score - 1)
    patched = table.patched(workers)
    assert patched is not table and patched.worker_ids == table.worker_ids
    assert WorkerTable(workers[::-1]).worker_ids == table.worker_ids[::-1]


def test_a_customer_code_is_the_same_in_every_process_and_never_the_padding():
    """Job columns from one process must compare with codes from another (hash randomisation
    aside), and no code is NO_CUSTOMER."""
    import os
    import subprocess
    import sys

    from matcher.world import NO_CUSTOMER, customer_code
    ids = ["c1", "", "客户-7", "x" * 200]
    script = ("import sys; from matcher.world import customer_code; "
              f"print([customer_code(c) for c in {ids!r}])")
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True, env={**os.environ, "PYTHONHASHSEED": seed},
                             cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
        assert out.stdout.strip() == str([customer_code(c) for c in ids])
    codes = [customer_code(c) for c in ids]
    assert len(set(codes)) == len(codes) and NO_CUSTOMER not in codes
    assert all(0 <= c < 2 ** 63 for c in codes)


@pytest.mark.parametrize("seed", range(5))
def test_taken_job_columns_are_the_rows_of_the_columns_cut_to_the_widest_day(seed):
    table, plans, _ = random_world(seed)
    columns = JobColumns(table, plans)
    rng = np.random.default_rng(seed)
    for rows in (rng.integers(0, len(table), size=9), rng.integers(0, len(table), size=(2, 5)),
                 np.zeros(0, dtype=np.int64)):
        width = max(int(columns.count[rows].max(initial=0)), 1)
        taken = columns.take(rows)
        assert list(taken) == list(columns.columns)
        for name, column in columns.columns.items():
            assert taken[name].dtype == column.dtype
            assert np.array_equal(taken[name], column[rows, :width]), name


def test_warm_up_compiles_the_take_a_real_search_asks():
    """The server loads the compiled take before serving: a search's rows need no other
    compiled version."""
    from matcher import world
    world.warm_up()
    compiled = list(world.take_columns.signatures)
    table, plans, _ = random_world(1)
    JobColumns(table, plans).take(np.arange(len(table))[None, :6])  # rows as a pool gives them
    assert list(world.take_columns.signatures) == compiled
