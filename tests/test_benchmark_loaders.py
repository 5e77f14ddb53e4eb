"""The VRPTW benchmark's readers and its independent feasibility checker (benchmarks/instances.py).

Uses copies in tests/data/ (C101 and its best-known routes), not ../shared, so the suite runs
without the shared benchmark folder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.instances import (
    check, d10_matrix, read_bks, read_lkh_cvrptw, read_routes, read_solomon,
)

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def c101():
    return read_solomon(DATA / "C101.txt")


@pytest.fixture(scope="module")
def c101_routes():
    return read_routes(DATA / "C101.sol")


def test_solomon_reader(c101):
    assert (c101.name, c101.family, c101.customers) == ("C101", "Solomon", 100)
    assert (c101.fleet, c101.capacity) == (25, 200)
    assert (c101.x[0], c101.y[0], c101.ready[0], c101.due[0], c101.service[0]) == (40, 50, 0,
                                                                                   1236, 0)
    assert (c101.x[1], c101.y[1], c101.demand[1], c101.ready[1], c101.due[1],
            c101.service[1]) == (45, 68, 10, 912, 967, 90)
    assert (c101.x[100], c101.y[100], c101.demand[100]) == (55, 85, 20)
    assert int(c101.demand.sum()) == 1810


def test_d10_is_truncated_tenths(c101):
    dist = d10_matrix(c101)
    assert dist[0, 1] == 186  # sqrt(5² + 18²) = 18.68...
    assert dist[0, 0] == 0 and np.array_equal(dist, dist.T)


def test_bks_and_routes(c101_routes):
    assert read_bks(DATA / "C101_bks.csv", "dist_bks_d10") == {"C101": 8273}
    assert len(c101_routes) == 10
    assert c101_routes[0] == [5, 3, 7, 8, 10, 11, 9, 6, 4, 2, 1, 75]
    assert sorted(c for r in c101_routes for c in r) == list(range(1, 101))


def test_checker_accepts_best_known(c101, c101_routes):
    result = check(c101, c101_routes)
    assert result.valid, result.reason
    assert (result.distance, result.vehicles) == (8273, 10)  # 827.3


def test_checker_rejects_late_start(c101, c101_routes):
    swapped = [[3, 5, *c101_routes[0][2:]], *c101_routes[1:]]  # 5 is due at 67, after 3 (90 long)
    result = check(c101, swapped)
    assert not result.valid and "customer 5 starts" in result.reason


def test_checker_rejects_overload(c101, c101_routes):
    merged = [c101_routes[0], c101_routes[1] + c101_routes[2], *c101_routes[3:]]
    result = check(c101, merged)
    assert not result.valid and "load" in result.reason


def test_checker_rejects_missing_and_repeated(c101, c101_routes):
    assert not check(c101, [c101_routes[0][:-1], *c101_routes[1:]]).valid
    assert not check(c101, [c101_routes[0] + [13], *c101_routes[1:]]).valid


TINY_LKH = """NAME : T1_1_1
TYPE : CVRPTW
DIMENSION : 5
VEHICLES : 3
CAPACITY : 10
SERVICE_TIME : 10
EDGE_WEIGHT_TYPE : EXACT_2D
NODE_COORD_SECTION
1 0 0
2 30 40
3 0 1
4 1 0
5 1 1
DEMAND_SECTION
1 0
2 4
3 2
4 2
5 2
TIME_WINDOW_SECTION
1 0 {depot_due}
2 0 60
3 0 1000
4 0 1000
5 0 1000
DEPOT_SECTION
1
-1
EOF
"""


def test_lkh_reader_and_depot_due(tmp_path):
    path = tmp_path / "t.vrptw"
    path.write_text(TINY_LKH.format(depot_due=150))
    inst = read_lkh_cvrptw(path)
    assert (inst.customers, inst.fleet, inst.capacity) == (4, 1, 10)  # fleet n/4, not VEHICLES
    assert inst.service.tolist() == [0, 10, 10, 10, 10]
    assert inst.demand.tolist() == [0, 4, 2, 2, 2]
    # in tenths: customer 1 starts at 500 (due 600), then 2, 4, 3; back at 1422 <= 1500
    assert check(inst, [[1, 2, 4, 3]]).valid
    assert not check(inst, [[1], [2, 3, 4]]).valid  # two routes, fleet of one
    path.write_text(TINY_LKH.format(depot_due=142))
    late = check(read_lkh_cvrptw(path), [[1, 2, 4, 3]])
    assert not late.valid and "back at" in late.reason


def test_our_routing_solves_c101_and_the_benchmark_checker_agrees(c101):
    from benchmarks.instances import check
    from benchmarks.vrptw import solve_ours

    outcome = solve_ours(c101, 1.0)
    verdict = check(c101, outcome.routes)
    assert verdict.valid, verdict.reason
    assert outcome.first_solution_s is not None
    assert verdict.distance <= 1.10 * 8273   # within 10% of the best-known 827.3
