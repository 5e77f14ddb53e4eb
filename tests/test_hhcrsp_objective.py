"""The HHCRSP benchmark's reader, domain mapping and published objective (benchmarks/hhcrsp.py).

Uses copies in tests/data/hhcrsp/ (the toy and instance 010 with their solutions), not ../shared,
so the suite runs without the shared benchmark folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import hhcrsp
from matcher.model import LinkType
from tests.checker import check_plans

DATA = Path(__file__).parent / "data" / "hhcrsp"
MILAN = "instance_010-milan-r15-p76-s2-sim17.7-seq13.7"


@pytest.fixture(scope="module")
def toy():
    return hhcrsp.load("toy", DATA)


@pytest.fixture(scope="module")
def milan():
    return hhcrsp.load(MILAN, DATA)


def test_toy_optimal_solution_costs_what_it_travels(toy):
    routes = hhcrsp.read_solution(DATA / "sol_toy_optimal.json")
    assert hhcrsp.published_problems(toy, routes) == []
    # c1: 7 + 19 + 35 + 27, c2: 7 + 28 + 42 + 27, c3: 56 + 22 + 50 + 13 minutes, all on time
    assert hhcrsp.published_cost(toy, routes) == hhcrsp.Cost(334, 0.0, 0.0, 334 / 3)


def test_best_known_of_010_costs_the_published_value(milan):
    routes = hhcrsp.read_solution(DATA / f"sol-{MILAN}-924343105.json")
    assert hhcrsp.published_problems(milan, routes) == []
    cost = hhcrsp.published_cost(milan, routes)
    # best.md: distance_traveled 1255, max_tardiness 3, total_tardiness 8, total_cost 422
    assert (cost.travel, cost.total_tardiness, cost.max_tardiness) == (1255, 8.0, 3.0)
    assert cost.total == pytest.approx(422.0)


def test_best_known_of_010_passes_the_project_checker(milan):
    """The mapping onto the domain is faithful: the authors' best solution, as day plans, breaks
    no rule of the project's checker (travel from the instance matrix)."""
    dom = hhcrsp.to_domain(milan)
    plans = hhcrsp.plans_of(dom, hhcrsp.read_solution(DATA / f"sol-{MILAN}-924343105.json"))
    assert sum(map(len, plans.values())) == len(dom.orders)
    problems = check_plans(dom.config, {w.worker_id: w for w in dom.workers}, plans,
                           dom.orders, travel=hhcrsp.matrix_travel(milan))
    assert problems == []
    assert hhcrsp.published_cost(milan, hhcrsp.routes_of(plans)).total == pytest.approx(422.0)


def test_a_late_start_and_a_broken_link_count(toy):
    routes = hhcrsp.read_solution(DATA / "sol_toy_optimal.json")
    # c3 serves p5/s3 at 320 (window ends at 420); move it to 430: 10 late, gap 155 > 45
    routes["c3"] = [v if v[:2] != ("p5", "s3") else ("p5", "s3", 430.0) for v in routes["c3"]]
    cost = hhcrsp.published_cost(toy, routes)
    assert (cost.total_tardiness, cost.max_tardiness) == (10.0, 10.0)
    assert cost.total == pytest.approx((334 + 20) / 3)
    assert any("sequential gap" in p for p in hhcrsp.published_problems(toy, routes))


def test_reader_truncates_windows_nudges_shared_points_and_links_orders():
    data = {
        "central_offices": [{"id": "d", "location": [12.0, 45.0]}],
        "services": [{"id": "s1", "default_duration": 30}, {"id": "s2", "default_duration": 15}],
        "caregivers": [{"id": "c1", "abilities": ["s1", "s2"]}],
        "patients": [
            {"id": "p1", "location": [12.0, 45.0], "time_window": [401.99999999999994, 582.0],
             "required_caregivers": [{"service": "s1"}, {"service": "s2", "duration": 20}],
             "synchronization": {"type": "simultaneous"}},
            {"id": "p2", "time_window": [0, 60],
             "required_caregivers": [{"service": "s1"}, {"service": "s2"}],
             "synchronization": {"type": "sequential", "distance": [15, 45]}},
        ],
        "distances": [[0, 5, 6], [5, 0, 7], [6, 7, 0]],
    }
    inst = hhcrsp.parse("tiny", json.loads(json.dumps(data)))
    assert inst.windows == {"p1": (401, 582), "p2": (0, 60)}
    assert inst.moved == 2   # p1 shares the office's place, p2 has none
    assert len({(a, b) for a, b in zip(inst.lat, inst.lon)}) == 3
    dom = hhcrsp.to_domain(inst)
    first, second = dom.orders["p1/s1"], dom.orders["p1/s2"]
    assert (first.link, second.duration) == (None, 20 * 60)
    assert (second.link.order_id, second.link.kind, second.link.min_gap,
            second.link.max_gap) == ("p1/s1", LinkType.START_GAP, 0, 0)
    follow = dom.orders["p2/s2"]
    assert (follow.link.min_gap, follow.link.max_gap, follow.duration) == (900, 2700, 900)
    assert first.earliest_start == hhcrsp.BASE + 401 * 60
    # the planner's matrix answers every pair of points with the file's minutes x 60
    seconds, _ = dom.matrix.leg(inst.lat[:, None], inst.lon[:, None], inst.lat[None, :],
                                inst.lon[None, :])
    assert seconds.tolist() == [[0, 300, 360], [300, 0, 420], [360, 420, 0]]


def test_toy_solved_through_the_reoptimiser_is_valid(toy):
    row = hhcrsp.evaluate(toy, 1.0)
    assert row["valid"] and row["published_rules_ok"], row["note"]
    assert row["cost"] >= 334 / 3 - 1e-9   # the toy's optimum
