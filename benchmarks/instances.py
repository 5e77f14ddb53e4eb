"""Public VRPTW instances, their best-known values and an independent feasibility check.

Readers for the Solomon text format, LKH-3's CVRPTW format (Gehring-Homberger), the ``bks.csv``
tables and route files (CVRPLIB ``.sol`` and SINTEF ``.txt``) under ``../shared/benchmarks``
(override with ``HOME_DISPATCH_BENCHMARKS``). Everything is converted to integer units of 0.1
(the DIMACS convention: each arc is floor(10 x Euclidean)), so distances and times are exact and
a solver's total can be compared with the best-known value digit for digit.
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SCALE = 10  # integer units per unit of the files: D10 distances are exact in tenths

SOLOMON = ("C101", "C201", "R101", "R201", "RC101", "RC201")
GH = ("C1_2_1", "R1_2_1", "RC1_2_1", "C2_2_1", "R2_2_1", "RC2_2_1", "C1_4_1", "R1_4_1", "RC1_4_1")
FAMILIES = ("Solomon", "GH 200", "GH 400")


def data_root() -> Path:
    """The shared benchmark folder: ``$HOME_DISPATCH_BENCHMARKS`` or ``../shared/benchmarks``."""
    return Path(os.environ.get("HOME_DISPATCH_BENCHMARKS", REPO.parent / "shared" / "benchmarks"))


@dataclass(frozen=True, slots=True)
class Instance:
    """A VRPTW instance as in its file; node 0 is the depot, node i is customer i.

    ``ready``/``due`` bound the start of service (waiting is allowed); the depot's due date
    closes the day: every route is back at the depot by then.
    """

    name: str
    family: str
    x: np.ndarray
    y: np.ndarray
    demand: np.ndarray
    ready: np.ndarray
    due: np.ndarray
    service: np.ndarray
    capacity: int
    fleet: int

    @property
    def customers(self) -> int:
        return len(self.x) - 1


def d10_matrix(inst: Instance) -> np.ndarray:
    """Arc lengths in tenths, floor(10 x Euclidean), exact: an integer square root of
    100 x (dx² + dy²) rather than a float that might land just under an integer."""
    dx = inst.x[:, None] - inst.x[None, :]
    dy = inst.y[:, None] - inst.y[None, :]
    squared = 100 * (dx * dx + dy * dy)
    root = np.floor(np.sqrt(squared)).astype(np.int64)
    root -= root * root > squared            # float sqrt rounded up past the integer root
    root += (root + 1) * (root + 1) <= squared  # or down below it
    return root


def family_of(name: str) -> str:
    if "_" not in name:
        return "Solomon"
    return f"GH {name.split('_')[1]}00"


def read_solomon(path: Path) -> Instance:
    """Solomon's text format: fleet and capacity after ``NUMBER CAPACITY``, then one row per
    node (number, x, y, demand, ready, due, service)."""
    lines = path.read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["NUMBER", "CAPACITY"])
    fleet, capacity = (int(v) for v in lines[header + 1].split())
    rows = [line.split() for line in lines[header + 2:]]
    table = np.array([[int(v) for v in row] for row in rows if row and row[0].isdigit()],
                     dtype=np.int64)
    if not np.array_equal(table[:, 0], np.arange(len(table))):
        raise ValueError(f"{path}: node numbers are not 0..n in order")
    name = lines[0].strip()
    return Instance(name, family_of(name), *table[:, 1:7].T, capacity=capacity, fleet=fleet)


def _lkh_sections(text: str) -> tuple[dict[str, str], dict[str, list[list[int]]]]:
    """Header ``KEY : value`` pairs and the integer rows of each ``*_SECTION``."""
    header: dict[str, str] = {}
    sections: dict[str, list[list[int]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if line.endswith("_SECTION"):
            current = sections.setdefault(line, [])
        elif ":" in line and current is None:
            key, value = line.split(":", 1)
            header[key.strip()] = value.strip()
        elif line and line not in ("EOF", "-1") and current is not None:
            current.append([int(v) for v in line.split()])
    return header, sections


def read_lkh_cvrptw(path: Path) -> Instance:
    """LKH-3's CVRPTW format (node 1 = depot, node k+1 = customer k; one ``SERVICE_TIME`` for
    every customer). The fleet is n/4, the original limit, not the file's ``VEHICLES`` (the
    best-known fleet)."""
    header, sections = _lkh_sections(path.read_text())
    n = int(header["DIMENSION"])
    coords = np.array(sections["NODE_COORD_SECTION"], dtype=np.int64)
    demand = np.array(sections["DEMAND_SECTION"], dtype=np.int64)
    windows = np.array(sections["TIME_WINDOW_SECTION"], dtype=np.int64)
    for table in (coords, demand, windows):
        if not np.array_equal(table[:, 0], np.arange(1, n + 1)):
            raise ValueError(f"{path}: a section does not list nodes 1..{n} in order")
    if sections["DEPOT_SECTION"] != [[1]]:
        raise ValueError(f"{path}: the depot is not node 1")
    service = np.full(n, int(header["SERVICE_TIME"]), dtype=np.int64)
    service[0] = 0
    name = header["NAME"]
    return Instance(name, family_of(name), coords[:, 1], coords[:, 2], demand[:, 1],
                    windows[:, 1], windows[:, 2], service, capacity=int(header["CAPACITY"]),
                    fleet=(n - 1) // 4)


def read_routes(path: Path) -> list[list[int]]:
    """Customer numbers per route from a CVRPLIB ``.sol`` (``Route #1: ...``) or a SINTEF file
    (``Route 1 : ...``)."""
    found = (re.match(r"\s*Route\s*#?\s*\d+\s*:(.*)", line)
             for line in path.read_text().splitlines())
    return [[int(v) for v in m.group(1).split()] for m in found if m]


def read_bks(path: Path, column: str) -> dict[str, int]:
    """``instance -> reference`` in tenths, from one column of a ``bks.csv``."""
    with path.open(newline="") as f:
        return {row["instance"]: round(float(row[column]) * SCALE)
                for row in csv.DictReader(f) if row[column]}


def load(name: str, root: Path | None = None) -> Instance:
    """The named Solomon or Gehring-Homberger instance from the shared folder."""
    root = data_root() if root is None else root
    if family_of(name) == "Solomon":
        return read_solomon(root / "solomon" / "instances" / f"{name}.txt")
    (path,) = (root / "gehring-homberger" / "instances").glob(f"{name}.*.vrptw")
    return read_lkh_cvrptw(path)


def best_known(name: str, root: Path | None = None) -> int:
    """The gap reference in tenths: the distance BKS (Solomon) or the SINTEF routes in D10."""
    root = data_root() if root is None else root
    if family_of(name) == "Solomon":
        return read_bks(root / "solomon" / "bks.csv", "dist_bks_d10")[name]
    return read_bks(root / "gehring-homberger" / "bks.csv", "sintef_routes_d10")[name]


def best_known_routes(name: str, root: Path | None = None) -> list[list[int]]:
    """The routes behind :func:`best_known`, to check the checker against them."""
    root = data_root() if root is None else root
    if family_of(name) == "Solomon":
        return read_routes(root / "solomon" / "bks-distance" / f"{name}.sol")
    (path,) = (root / "gehring-homberger" / "bks-hierarchical").glob(f"{name.lower()}.*.txt")
    return read_routes(path)


@dataclass(frozen=True, slots=True)
class Check:
    valid: bool
    distance: int       # tenths, recomputed from the routes
    vehicles: int       # non-empty routes
    reason: str = ""    # the first violation found


def check(inst: Instance, routes: list[list[int]]) -> Check:
    """Feasibility of ``routes`` (customer numbers) written from the rules, not from any solver:
    every customer exactly once, at most ``fleet`` routes, load within capacity, service starts
    within each window (waiting allowed), back at the depot by its due date."""
    dist = d10_matrix(inst)
    ready, due, service = inst.ready * SCALE, inst.due * SCALE, inst.service * SCALE
    routes = [r for r in routes if r]
    total = sum(int(dist[a, b]) for r in routes for a, b in zip([0, *r], [*r, 0]))
    seen = sorted(c for r in routes for c in r)
    problems = []
    if seen != list(range(1, inst.customers + 1)):
        missing = set(range(1, inst.customers + 1)) - set(seen)
        problems.append(f"{len(missing)} customers missing, {len(seen) - len(set(seen))} "
                        f"repeated, or numbers out of range")
    if len(routes) > inst.fleet:
        problems.append(f"{len(routes)} routes for a fleet of {inst.fleet}")
    for k, route in enumerate(routes):
        problems += _route_problems(k, route, inst, dist, ready, due, service)
    return Check(not problems, total, len(routes), problems[0] if problems else "")


def _route_problems(k: int, route: list[int], inst: Instance, dist: np.ndarray,
                    ready: np.ndarray, due: np.ndarray, service: np.ndarray) -> list[str]:
    if not all(1 <= c <= inst.customers for c in route):
        return [f"route {k}: a customer number out of range"]
    problems = []
    if int(inst.demand[route].sum()) > inst.capacity:
        problems.append(f"route {k}: load {int(inst.demand[route].sum())} > {inst.capacity}")
    time, here = int(ready[0]), 0
    for c in route:
        time = max(time + int(dist[here, c]), int(ready[c]))
        if time > due[c]:
            problems.append(f"route {k}: customer {c} starts at {time} > {int(due[c])}")
        time, here = time + int(service[c]), c
    if time + int(dist[here, 0]) > due[0]:
        problems.append(f"route {k}: back at {time + int(dist[here, 0])} > {int(due[0])}")
    return problems
