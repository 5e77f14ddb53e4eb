"""The revalidation memo answers as the planner's own check would, search or no search."""

from __future__ import annotations

import dataclasses

from matcher.config import DispatchConfig
from matcher.model import Job, Shift
from matcher.planner import Planner
from matcher.refit_memo import RefitMemo
from matcher.world import World
from matcher.worker_table import WorkerTable
from tests.builders import at, make_order, make_worker

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
