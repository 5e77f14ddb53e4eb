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
