"""The revalidation memo answers as the planner's own check would, search or no search."""

from __future__ import annotations

import dataclasses
import random

import pytest

from matcher.config import DispatchConfig
from matcher.model import Job, Shift, Skill
from matcher.planner import Planner
from matcher.refit_memo import Recheck, RefitMemo
from matcher.world import World
from matcher.worker_table import WorkerTable
from tests.builders import DAY, HOUR, at, make_order, make_worker

ORDERS = [make_order("o1", earliest_start=at(9), latest_start=at(9)),
          make_order("o2", earliest_start=at(12), latest_start=at(12)),
          make_order("o3", earliest_start=at(16), latest_start=at(16))]


def job_of(order) -> Job:
    return Job(order.order_id, order.customer_id, order.service_type, order.lat, order.lon,
               order.earliest_start, order.earliest_start + order.duration)


def revalidate(check, worker) -> list[bool]:
    """Each job's answer, the plan before it holding the jobs that still fit (as the engine's
    revalidation builds it)."""
    table, kept, answers = WorkerTable([worker]), [], []
    for order in ORDERS:
        job = job_of(order)
        fits = check(order, job, World(table, {worker.worker_id: list(kept)}))
        answers.append(fits)
        if fits:
            kept.append(job)
    return answers


def test_answers_are_the_planners_as_credit_shifts_and_plans_change():
    planner, memo = Planner(DispatchConfig()), RefitMemo()  # credit floor 60
    workers = [make_worker(credit_score=score, shifts=shifts)
               for shifts in [(Shift(at(8), at(18)),), (Shift(at(8), at(14)),),
                              (Shift(at(8), at(18)),)]
               for score in (90.0, 75.0, 60.0, 59.99, 80.0, 80.0)]
    for worker in workers:
        expected = revalidate(lambda o, j, w: planner.still_fits(o, j, worker, w), worker)
        assert revalidate(memo.check(worker, planner).still_fits, worker) == expected
    assert revalidate(memo.check(workers[0], planner).still_fits, workers[0]) == [True] * 3
    assert revalidate(memo.check(workers[8], planner).still_fits, workers[8]) == \
        [True, True, False]  # the short shift: the last job no longer fits
    assert revalidate(memo.check(workers[3], planner).still_fits, workers[3]) == [False] * 3


def test_a_new_config_is_searched_afresh():
    memo, worker = RefitMemo(), make_worker()
    assert revalidate(memo.check(worker, Planner(DispatchConfig())).still_fits, worker) == \
        [True] * 3
    config = DispatchConfig()
    nearer = dataclasses.replace(config, limits=dataclasses.replace(
        config.limits, service_radius_km=1.0))  # the orders are about 1.5 km from home
    assert revalidate(memo.check(worker, Planner(nearer)).still_fits, worker) == [False] * 3


class CountingPlanner(Planner):
    """A real planner that counts the checks it searches one at a time, and all it prices."""

    searched = priced = 0

    def still_fits(self, order, job, worker, world):
        self.searched += 1
        return super().still_fits(order, job, worker, world)

    def still_fit_many(self, checks, world):
        self.priced += len(checks)
        return super().still_fit_many(checks, world)


def rechecks_of(worker) -> tuple:
    """Every job of the plan, each after all the ones before it (as the engine assumes)."""
    jobs = [job_of(order) for order in ORDERS]
    return worker, [Recheck(order, job, tuple(jobs[:i]))
                    for i, (order, job) in enumerate(zip(ORDERS, jobs))]


def test_prefetched_answers_are_the_searchs_and_spare_it_while_the_plan_is_as_assumed():
    workers = [make_worker("all-fit"),
               make_worker("late-gone", shifts=(Shift(at(8), at(14)),)),
               make_worker("early-gone", shifts=(Shift(at(11), at(18)),)),
               make_worker("below-floor", credit_score=59.99)]
    fresh = Planner(DispatchConfig())
    expected = {w.worker_id: revalidate(
        lambda o, j, world, w=w: fresh.still_fits(o, j, w, world), w) for w in workers}
    assert expected == {"all-fit": [True] * 3, "late-gone": [True, True, False],
                        "early-gone": [False, True, True], "below-floor": [False] * 3}
    planner, memo = CountingPlanner(DispatchConfig()), RefitMemo()
    memo.prefetch(planner, [rechecks_of(w) for w in workers], {})
    # priced together, not one by one; none for the worker below the floor
    assert (planner.searched, planner.priced) == (0, 9)
    for worker in workers:
        assert revalidate(memo.check(worker, planner).still_fits, worker) == \
            expected[worker.worker_id]
    # only "early-gone" found its plan otherwise than assumed: o2 and o3 without o1 before
    assert (planner.searched, planner.priced) == (2, 11)
    memo.prefetch(planner, [rechecks_of(w) for w in workers], {})
    # answers known are not priced again: only early-gone's o2 and o3 after o1
    assert planner.priced == 13


def test_prefetched_answers_hold_under_their_config_only():
    worker, memo = make_worker(), RefitMemo()
    memo.prefetch(Planner(DispatchConfig()), [rechecks_of(worker)], {})
    config = DispatchConfig()
    nearer = dataclasses.replace(config, limits=dataclasses.replace(
        config.limits, service_radius_km=1.0))  # the orders are about 1.5 km from home
    assert revalidate(memo.check(worker, Planner(nearer)).still_fits, worker) == [False] * 3


@pytest.mark.parametrize("seed", range(3))
def test_checks_priced_together_answer_as_one_by_one(seed):
    """Mixed service types, shifts, levels and plans: still_fit_many is still_fits of each."""
    rng = random.Random(seed)
    config = DispatchConfig()
    types = list(config.service.service_types)[:3]
    planner = Planner(config)
    workers = [make_worker(f"w{i}", shifts=(Shift(at(rng.choice([7, 9, 11])),
                                                  at(rng.choice([13, 16, 19]))),),
                           skills=tuple(Skill(t, rng.randint(1, 5), DAY + 90 * 24 * HOUR)
                                        for t in rng.sample(types, 2)))
               for i in range(12)]
    checks, plans = [], {}
    for worker in workers:
        start = at(rng.choice([8, 10, 12, 14, 16]))
        order = make_order(f"o-{worker.worker_id}", service_type=rng.choice(types),
                           min_skill_level=rng.randint(1, 4), earliest_start=start,
                           latest_start=start, duration=HOUR * rng.choice([1, 2, 3]))
        plans[worker.worker_id] = [job_of(make_order(
            f"p-{worker.worker_id}", earliest_start=start - 2 * HOUR,
            latest_start=start - 2 * HOUR, duration=HOUR * rng.choice([1, 2])))]
        checks.append((order, job_of(order), worker))
    world = World(WorkerTable(workers), plans)
    together = planner.still_fit_many(checks, world)
    assert together == [planner.still_fits(o, j, w, world) for o, j, w in checks]
    assert any(together) and not all(together)
