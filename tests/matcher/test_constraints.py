"""Each hard constraint: one case where it lets the worker through, one where it rules it out.

Every case runs both the batch round (does the worker get the order?) and ExplainOrder (is the
worker counted under the right constraint?)."""

from __future__ import annotations

import dataclasses

import pytest

from matcher.config import DispatchConfig, LatenessConfig
from matcher.model import Break, Job, Shift, Skill, WorkerStatus
from matcher.planner import Planner
from tests.builders import DAY, HOUR, at, make_order, make_worker, world_of

CONFIG = DispatchConfig()
NOW = at(6)


def outcome(worker, order, plans=None, blocked=None, config=CONFIG):
    """(assigned?, the constraint ExplainOrder blames, or None when feasible)."""
    planner = Planner(config)
    result = planner.dispatch([order], world_of([worker], plans, blocked=blocked), NOW)
    explanation = planner.explain(order, world_of([worker], plans, blocked=blocked), NOW)
    blamed = [name for name, n in explanation.ruled_out.items() if n]
    assert len(blamed) + len(explanation.candidates) == 1
    assert bool(result.assignments) == bool(explanation.candidates)
    return bool(result.assignments), (blamed[0] if blamed else None)


def busy_plan(worker_id, start_h, end_h, lat=31.2304, lon=121.4737):
    return {worker_id: [Job("other", "c9", "cleaning", lat, lon, at(start_h), at(end_h))]}


CASES = {
    # constraint: (pass kwargs, fail kwargs); each kwargs has "worker", "order", maybe "plans"
    "worker_status": (
        dict(worker=make_worker(status=WorkerStatus.ONLINE)),
        dict(worker=make_worker(status=WorkerStatus.SUSPENDED)),
    ),
    "skill": (
        dict(order=make_order(service_type="cleaning")),
        dict(order=make_order(service_type="elder_care")),
    ),
    "skill_level": (
        dict(order=make_order(min_skill_level=3)),
        dict(order=make_order(min_skill_level=4)),
    ),
    "certificate": (
        # valid through the last second of the service day
        dict(worker=make_worker(skills=(Skill("cleaning", 3, DAY + 24 * HOUR - 1),))),
        # expires in the evening of the service day, after the job would end
        dict(worker=make_worker(skills=(Skill("cleaning", 3, at(20)),))),
    ),
    "credit_floor": (
        dict(worker=make_worker(credit_score=60.0)),
        dict(worker=make_worker(credit_score=59.9)),
    ),
    "customer_block": (
        dict(order=make_order(blocked_worker_ids=frozenset({"w2"}))),
        dict(order=make_order(blocked_worker_ids=frozenset({"w1"}))),
    ),
    "required_tags": (
        dict(worker=make_worker(tags=frozenset({"pet_friendly", "non_smoker"})),
             order=make_order(required_tags=frozenset({"pet_friendly"}))),
        dict(worker=make_worker(tags=frozenset({"non_smoker"})),
             order=make_order(required_tags=frozenset({"pet_friendly"}))),
    ),
    "service_radius": (
        dict(order=make_order(lat=31.2304 + 0.13)),   # ~14.5 km north
        dict(order=make_order(lat=31.2304 + 0.14)),   # ~15.6 km north
    ),
    "shift": (
        dict(order=make_order(earliest_start=at(15), latest_start=at(16))),
        dict(order=make_order(earliest_start=at(17), latest_start=at(19))),  # 2 h job, ends 18:00
    ),
    "daily_limit": (
        dict(worker=make_worker(max_jobs_per_day=2), plans=busy_plan("w1", 14, 15)),
        dict(worker=make_worker(max_jobs_per_day=1), plans=busy_plan("w1", 14, 15)),
    ),
    "day_plan": (
        # another job ends at 11:00 next door: the order fits right after it
        dict(order=make_order(earliest_start=at(9), latest_start=at(11) + 900),
             plans=busy_plan("w1", 8.5, 11)),
        # the other job runs all morning: no gap in the window
        dict(order=make_order(earliest_start=at(9), latest_start=at(11)),
             plans=busy_plan("w1", 8.5, 11)),
    ),
    "break": (
        # lunch (an hour between 12:00 and 14:00) fits after the 2-hour job
        dict(worker=make_worker(breaks=(Break(at(12), at(14), HOUR),))),
        # three hours off between 08:00 and 12:00: the job starting by 11:00 leaves no room
        dict(worker=make_worker(breaks=(Break(at(8), at(12), 3 * HOUR),))),
    ),
}


@pytest.mark.parametrize("constraint", sorted(CASES))
def test_constraint_lets_the_worker_through(constraint):
    kwargs = {"worker": make_worker(), "order": make_order(), **CASES[constraint][0]}
    assert outcome(**kwargs) == (True, None)


@pytest.mark.parametrize("constraint", sorted(CASES))
def test_constraint_rules_the_worker_out(constraint):
    kwargs = {"worker": make_worker(), "order": make_order(), **CASES[constraint][1]}
    assert outcome(**kwargs) == (False, constraint)


def test_every_constraint_has_cases():
    from matcher.eligibility import ALL_CHECKS
    assert set(CASES) == set(ALL_CHECKS)


@pytest.mark.parametrize("status", [WorkerStatus.OFFLINE, WorkerStatus.ON_LEAVE])
def test_workers_not_online_take_nothing(status):
    assert outcome(make_worker(status=status), make_order()) == (False, "worker_status")


def test_a_customer_block_outlives_the_order_that_set_it():
    blocked = {"c1": frozenset({"w1"})}
    assert outcome(make_worker(), make_order(), blocked=blocked) == (False, "customer_block")
    assert outcome(make_worker(), make_order(customer_id="c2"), blocked=blocked) == (True, None)


def test_daily_working_minutes_limit():
    plans = busy_plan("w1", 14, 17)  # 3 h already planned
    assert outcome(make_worker(max_work_minutes_per_day=300), make_order(), plans) == (
        True, None)  # 3 h + 2 h = 300 min
    assert outcome(make_worker(max_work_minutes_per_day=299), make_order(), plans) == (
        False, "daily_limit")


def test_the_daily_limit_counts_only_the_jobs_service_day():
    worker = make_worker(max_jobs_per_day=1,
                         shifts=(Shift(at(8), at(18)), Shift(at(32), at(42))))
    plans = busy_plan("w1", 33, 34)  # a job on the next day
    assert outcome(worker, make_order(), plans) == (True, None)


def test_travel_from_home_counts_at_the_shift_start():
    # 10 km away at 25 km/h x 1.3 detour is about 31 min: an 08:00 shift cannot start at 08:10
    far = make_order(lat=31.2304 + 0.09, earliest_start=at(8), latest_start=at(8) + 600)
    assert outcome(make_worker(), far) == (False, "day_plan")
    near = dataclasses.replace(far, latest_start=at(9))
    assert outcome(make_worker(), near) == (True, None)


def test_orders_whose_window_has_passed_expire():
    planner = Planner(CONFIG)
    order = make_order(earliest_start=at(1), latest_start=at(2))
    result = planner.dispatch([order], world_of([make_worker()]), NOW)
    assert [u.reason.name for u in result.unassigned] == ["EXPIRED"]


def test_jobs_never_start_before_now():
    planner = Planner(CONFIG)
    order = make_order(earliest_start=at(9), latest_start=at(11))
    result = planner.dispatch([order], world_of([make_worker()]), at(10))
    assert result.assignments[0].planned_start >= at(10)


# ---------------------------------------------------------------- soft lateness

SOFT = dataclasses.replace(CONFIG, lateness=(("cleaning", LatenessConfig(90, 0.1)),))


def test_a_soft_window_lets_a_job_start_late_up_to_its_limit():
    # next door 08:30-11:00; the order wants to start by 10:00
    plans = busy_plan("w1", 8.5, 11)
    order = make_order(earliest_start=at(9), latest_start=at(10), duration=HOUR)
    assert outcome(make_worker(), order, plans) == (False, "day_plan")
    assert outcome(make_worker(), order, plans, config=SOFT) == (True, None)
    (placed,) = Planner(SOFT).dispatch([order], world_of([make_worker()], plans),
                                       NOW).assignments
    assert placed.late_s == placed.planned_start - at(10) > HOUR
    # beyond the limit (busy until 11:30 is more than 90 min late with the trip) it is hard
    assert outcome(make_worker(), order, busy_plan("w1", 8.5, 11.5), config=SOFT) == (
        False, "day_plan")


def test_the_shift_check_counts_the_soft_limit():
    # the window closes at 07:00, before the 08:00 shift: only 90 minutes of grace reach it
    order = make_order(earliest_start=at(6), latest_start=at(7), duration=HOUR)
    assert outcome(make_worker(), order) == (False, "shift")
    assert outcome(make_worker(), order, config=SOFT) == (True, None)


def test_the_certificate_check_counts_the_soft_limit():
    # the job may end at 01:30 past midnight when late: the certificate must cover that day
    worker = make_worker(shifts=(Shift(at(20), at(26)),),
                         skills=(Skill("cleaning", 3, DAY + 24 * HOUR - 1),))
    order = make_order(earliest_start=at(22), latest_start=at(23), duration=HOUR)
    assert outcome(worker, order) == (True, None)
    assert outcome(worker, order, config=SOFT) == (False, "certificate")


def test_an_order_expires_when_its_soft_limit_has_passed():
    order = make_order(earliest_start=at(5), latest_start=at(7), duration=HOUR)
    now = at(7.25)
    expired = Planner(CONFIG).dispatch([order], world_of([make_worker()]), now)
    assert [u.reason.name for u in expired.unassigned] == ["EXPIRED"]
    late = Planner(SOFT).dispatch([order], world_of([make_worker()]), now)
    assert late.assignments[0].planned_start <= at(8.5)


@pytest.mark.parametrize("seed", range(6))
def test_the_pass_mask_is_every_check_at_once(seed):
    """StaticRules.passing (one column per table and service type for the worker's own checks)
    passes exactly the pairs that pass every check ExplainOrder counts, on random workers
    (status, skill levels, certificates, credit, tags) and orders (levels, blocks, tags),
    under a stricter floor for one service type."""
    import numpy as np

    from matcher.config import CreditFloorConfig
    from matcher.eligibility import StaticRules
    from matcher.order_batch import OrderBatch
    from matcher.worker_table import WorkerTable

    rng = np.random.default_rng(seed)
    config = dataclasses.replace(CONFIG, credit_floor=(("elder_care",
                                                        CreditFloorConfig(min_credit_score=70.0)),))
    workers = [make_worker(
        f"w{i}", status=(WorkerStatus.ONLINE if rng.random() < 0.7
                         else list(WorkerStatus)[rng.integers(len(WorkerStatus))]),
        credit_score=float(rng.integers(40, 100)),
        tags=frozenset(t for t in ("own_tools", "pets_ok") if rng.random() < 0.5),
        skills=tuple(Skill(t, int(rng.integers(1, 6)), NOW + int(rng.integers(-1, 3)) * 24 * HOUR)
                     for t in ("cleaning", "elder_care") if rng.random() < 0.7))
        for i in range(40)]
    table, rules = WorkerTable(workers), StaticRules.of(config)
    for service_type in ("cleaning", "elder_care"):
        orders = [make_order(f"o{j}", service_type=service_type,
                             min_skill_level=int(rng.integers(1, 5)),
                             blocked_worker_ids=frozenset(f"w{i}" for i in rng.integers(0, 40, 3))
                             if j % 2 else frozenset(),
                             required_tags=frozenset({"own_tools"}) if j % 3 == 0 else frozenset())
                  for j in range(5)]
        batch = OrderBatch.of(orders, Planner(config).day_rules.calendar)
        rows = np.stack([rng.permutation(40)[:25] for _ in orders])
        km = rng.uniform(0, 1.5 * config.limits.service_radius_km, rows.shape)
        blocked = [o.blocked_worker_ids for o in orders]
        every = np.ones(rows.shape, dtype=bool)
        for _, ok in rules.checks(batch, table, rows, km, blocked):
            every &= ok
        assert 0 < every.sum() < every.size
        assert rules.passing(batch, table, rows, km, blocked).tolist() == every.tolist()
        # a wider pool's new columns come as a slice of its distances
        assert rules.passing(batch, table, rows[:, 5:], km[:, 5:], blocked).tolist() \
            == every[:, 5:].tolist()


def test_warm_up_compiles_the_checks_for_the_types_a_real_search_passes():
    """The server loads the compiled checks before serving: a search after ``warm_up`` needs
    no other compiled version (one would be compiled in the first order's answer)."""
    from matcher.eligibility import _passing_alone, warm_up
    warm_up()
    compiled = list(_passing_alone.signatures)
    worker = make_worker("w1")
    Planner(CONFIG).dispatch([make_order("o1")], world_of([worker], {}), NOW)
    assert list(_passing_alone.signatures) == compiled
