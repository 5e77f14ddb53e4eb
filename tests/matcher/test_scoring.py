"""The score terms: each value as documented, and weights that change the choice."""

from __future__ import annotations

import dataclasses

import pytest

from matcher.config import DispatchConfig, LatenessConfig, WeightsConfig
from matcher.model import Job, Skill
from matcher.planner import Planner
from tests.builders import CENTRE, DAY, HOUR, at, make_order, make_worker, world_of

NOW = at(6)


def terms_for(worker, order, plans=None, config=DispatchConfig()):
    explanation = Planner(config).explain(order, world_of([worker], plans), NOW)
    (candidate,) = explanation.candidates
    return {t.name: t for t in candidate.terms}, candidate


def test_each_term_has_its_documented_value():
    worker = make_worker(credit_score=84.0, skills=(Skill("cleaning", 4, DAY + 60 * 24 * HOUR),),
                         max_work_minutes_per_day=480)
    plans = {"w1": [Job("x", "c1", "cleaning", CENTRE[0], CENTRE[1], at(14), at(16))]}
    order = make_order(min_skill_level=2, priority=7,
                       preferred_worker_ids=frozenset({"w1"}))
    terms, candidate = terms_for(worker, order, plans)
    assert terms["travel"].value == pytest.approx(-candidate.insertion.added_travel_s / 3600)
    assert terms["credit"].value == pytest.approx(0.84)
    assert terms["skill_surplus"].value == pytest.approx(-0.5)
    assert terms["customer_preference"].value == 1.0
    assert terms["workload_balance"].value == pytest.approx(-120 / 480)
    assert terms["priority"].value == pytest.approx(0.7)
    assert candidate.score == pytest.approx(sum(t.weight * t.value for t in terms.values()))


def test_a_worker_with_another_job_of_the_customer_scores_half_a_preference():
    plans = {"w1": [Job("x", "c1", "cleaning", CENTRE[0], CENTRE[1], at(14), at(16))]}
    assert terms_for(make_worker(), make_order(), plans)[0]["customer_preference"].value == 0.5
    other = {"w1": [Job("x", "c2", "cleaning", CENTRE[0], CENTRE[1], at(14), at(16))]}
    assert terms_for(make_worker(), make_order(), other)[0]["customer_preference"].value == 0.0


def test_weights_steer_the_choice():
    near_low_credit = make_worker("near", credit_score=61.0)
    far_high_credit = make_worker("far", credit_score=100.0, home_lat=CENTRE[0] + 0.06)
    order = make_order(lat=CENTRE[0], lon=CENTRE[1] + 0.01)

    def winner(weights):
        config = dataclasses.replace(DispatchConfig(), weights=weights)
        world = world_of([near_low_credit, far_high_credit])
        (assignment,) = Planner(config).dispatch([order], world, NOW).assignments
        return assignment.worker_id

    assert winner(WeightsConfig()) == "near"
    assert winner(WeightsConfig(travel=0.1, credit=5.0)) == "far"


def test_the_lateness_term_charges_each_late_minute_at_the_types_penalty():
    soft = dataclasses.replace(DispatchConfig(), weights=WeightsConfig(lateness=2.0),
                               lateness=(("cleaning", LatenessConfig(120, 0.1)),))
    plans = {"w1": [Job("x", "c9", "cleaning", CENTRE[0], CENTRE[1], at(8.5), at(11))]}
    order = make_order(earliest_start=at(9), latest_start=at(10), duration=HOUR)
    terms, candidate = terms_for(make_worker(), order, plans, config=soft)
    late_min = candidate.insertion.late_s / 60
    assert late_min > 60
    assert terms["lateness"].value == pytest.approx(-late_min * 0.1)
    assert terms["lateness"].weight == 2.0
    on_time, _ = terms_for(make_worker(), make_order(), config=soft)
    assert on_time["lateness"].value == 0.0 and str(on_time["lateness"].value) == "0.0"


def test_a_late_worker_loses_to_an_on_time_one():
    soft = dataclasses.replace(DispatchConfig(),
                               lateness=(("cleaning", LatenessConfig(120, 0.1)),))
    busy = {"near": [Job("x", "c9", "cleaning", CENTRE[0], CENTRE[1], at(8.5), at(11))]}
    near, far = make_worker("near"), make_worker("far", home_lat=CENTRE[0] + 0.03)
    order = make_order(earliest_start=at(9), latest_start=at(10), duration=HOUR)
    (assignment,) = Planner(soft).dispatch([order], world_of([near, far], busy),
                                           NOW).assignments
    assert (assignment.worker_id, assignment.late_s) == ("far", 0)


def numpy_term_values(code, rows, added_s, day_minutes, late_s, preferred, known, level,
                      min_level, priority, credit, bonus, max_minutes, penalty):
    """The terms as the documented numpy formulas give them, for the feasible pairs."""
    import numpy as np

    from matcher.model import MAX_LEVEL, MAX_PRIORITY, MIN_LEVEL
    j, c = np.nonzero(code == 0)
    r = rows[j, c]
    return np.column_stack((
        -added_s[j, c] / 3600.0, credit[r] / 100.0 + bonus[r],
        -(level[r] - np.maximum(min_level[j], MIN_LEVEL)) / (MAX_LEVEL - MIN_LEVEL),
        np.where(preferred[j, c], 1.0, np.where(known, 0.5, 0.0)),
        -day_minutes[j, c] / max_minutes[r], priority[j] / MAX_PRIORITY,
        0.0 - late_s[j, c] / 60.0 * penalty))


@pytest.mark.parametrize("seed", range(20))
def test_the_compiled_terms_are_the_numpy_formulas_to_the_bit(seed):
    import numpy as np

    from matcher.scoring import TERMS, term_values
    rng = np.random.default_rng(seed)
    n, m, k = 50, int(rng.integers(1, 6)), int(rng.integers(1, 30))
    code = rng.integers(-1, 3, size=(m, k)).astype(np.int8)
    rows = rng.integers(0, n, size=(m, k))
    added_s = rng.integers(0, 5000, size=(m, k))
    day_minutes = rng.uniform(0, 600, size=(m, k)).round(rng.integers(0, 3))
    late_s = rng.integers(0, 3600, size=(m, k)) * (rng.random((m, k)) < 0.3)
    preferred = rng.random((m, k)) < 0.2
    known = rng.random(int(np.count_nonzero(code == 0))) < 0.3
    # the feasible pairs' planned customers (after ``first`` rows of other blocks): other
    # customers, and the order's own in some column where ``known``
    customer, first = rng.integers(1, 1000, size=m), int(rng.integers(0, 4))
    planned = rng.integers(1000, 2000, size=(first + len(known), int(rng.integers(1, 4))))
    for t, i in enumerate(np.nonzero(code == 0)[0]):
        if known[t]:
            planned[first + t, rng.integers(0, planned.shape[1])] = customer[i]
    level = rng.integers(0, 6, size=n).astype(np.int16)
    min_level, priority = rng.integers(0, 6, size=m), rng.integers(0, 11, size=m)
    credit, bonus = rng.uniform(0, 100, size=n), rng.choice([0.0, 0.05, -0.1], size=n)
    max_minutes, penalty = rng.integers(60, 720, size=n), float(rng.choice([0.0, 0.02, 0.5]))
    values = np.full((m, k, len(TERMS)), 7.0)
    assert term_values(code, rows, added_s, day_minutes, late_s, preferred, planned, first,
                       customer, level, min_level, priority, credit, bonus, max_minutes,
                       penalty, values) == len(known)
    expected = numpy_term_values(code, rows, added_s, day_minutes, late_s, preferred, known,
                                 level, min_level, priority, credit, bonus, max_minutes,
                                 penalty)
    assert values[code == 0].tolist() == expected.tolist()
    assert (values[code != 0] == 7.0).all()  # other pairs are left alone


def test_warm_up_compiles_the_terms_for_the_types_a_real_block_passes():
    from matcher.scoring import term_values, warm_up
    warm_up()
    compiled = list(term_values.signatures)
    Planner(DispatchConfig()).dispatch([make_order("o1")], world_of([make_worker("w1")], {}),
                                       at(6))
    assert list(term_values.signatures) == compiled
