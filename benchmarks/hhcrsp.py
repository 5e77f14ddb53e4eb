"""Benchmark: home-care routing on the real-city HHCRSP instances, against the best-known values.

What is measured
----------------
- **Instances.** The Italian instances 000, 002, ..., 048 (25 files, 53 to 378 patients, 8 to 51
  caregivers) and ``toy.json`` of Ceschia, Di Gaspero, Rosati and Schaerf (ITOR 2024), read from
  ``../shared/benchmarks/hhcrsp`` (or ``$HOME_DISPATCH_BENCHMARKS/hhcrsp``); see its SOURCES.md.
- **Through the domain.** Each instance becomes ``matcher.model`` values, validated: a caregiver
  is a ``Worker`` at the central office with its abilities as skills and one shift over the day;
  a patient is one ``Order`` per required caregiver (service type = service id, window = the
  patient's start window). A ``simultaneous`` pair is the second order linked to the first by
  ``START_GAP`` 0..0; a ``sequential`` one by ``START_GAP`` min..max (the first listed service
  first). Travel is the instance's own matrix (minutes x 60) through ``geo.matrix.PointMatrix``.
  The config makes every window soft (up to 1440 late minutes, a late minute costing what a
  travelled minute costs), every caregiver a candidate, routes return to the office and an
  order left out cost 10^6 (so every one is served).
- **Solver.** ``matcher.reoptimise.Reoptimiser.run`` on a scope with no plans and every order
  pending: it dispatches them (batch rounds) into a first plan, then searches ``--time-limit``
  seconds with ``matcher.routing.solve`` from there (the first plan, model building and the
  domain re-check come on top), one thread, one solve per process. With start gaps in the
  problem that search is OR-Tools from the first plan, then twice the large neighbourhood
  search over linked visits (``matcher.lns``) followed by OR-Tools from its answer.
- **Check.** ``tests.checker.check_plans`` (the project's independent checker) over the plans
  with the matrix as its travel function; valid = no problem and every order served once.
  The published rules are checked apart from the file (every service once by an able caregiver,
  no start before the window, travel and service time between visits, the links).
- **Objective.** The published one, from the plans and the file alone: travelled minutes (office,
  the visits in start order, office) + total tardiness + max tardiness (tardiness = start minus
  the window's end, in minutes), all divided by 3. Gap = cost / best-known - 1, where the authors
  publish a best-known value (``best.md``: 15 of the 25 instances; the toy's is recomputed from
  its optimal solution).

How to run
----------
From the repo root::

    make bench-hhcrsp                   # = .venv/bin/python benchmarks/hhcrsp.py
    .venv/bin/python benchmarks/hhcrsp.py --time-limit 5 --instances 010,020,034
    .venv/bin/python benchmarks/hhcrsp.py --jobs 2      # two instances at once on two cores

The table is printed and written to ``benchmarks/results/hhcrsp.md``, the rows to
``hhcrsp.json``. Target: mean gap under 10% at 60 s per instance.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: put the repo root first so `matcher`, `geo`, `tests` come from this checkout.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import concurrent.futures as cf  # noqa: E402
import contextlib  # noqa: E402
import datetime as dt  # noqa: E402
import importlib.metadata as md  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import zoneinfo  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks.instances import data_root  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
TIMEZONE = "Asia/Shanghai"
# 2026-12-01 00:00 Shanghai: minute 0 of every instance (any day would do).
BASE = int(dt.datetime(2026, 12, 1, tzinfo=zoneinfo.ZoneInfo(TIMEZONE)).timestamp())
DAY_S = 86_400
UNSERVED = 1e6        # score units per order left out: far above any plan's travel (< 200 h)
NUDGE = 1e-5          # degrees (about 1 m) between points that would share a location
TARGET = 0.10
STARVED = 0.9         # CPU / wall time of a solve below this: it was short of a core


def folder() -> Path:
    return data_root() / "hhcrsp"


# ------------------------------------------------------------------ instances


@dataclass(frozen=True, slots=True)
class Instance:
    """An instance as in its file. Matrix row 0 is the office, row i patient i (file order);
    ``lat``/``lon`` give every row a distinct point (``moved`` of them nudged or placed)."""

    name: str
    patients: list[dict]
    caregivers: list[dict]
    durations: dict[str, int]        # service id -> default duration, minutes
    minutes: np.ndarray              # travel, minutes
    windows: dict[str, tuple[int, int]]  # patient id -> start window, whole minutes
    lat: np.ndarray
    lon: np.ndarray
    moved: int

    @property
    def row(self) -> dict[str, int]:
        return {p["id"]: i + 1 for i, p in enumerate(self.patients)}

    def services(self, patient: dict) -> list[tuple[str, int]]:
        """(service id, duration in minutes) of each caregiver the patient needs, in order."""
        return [(r["service"], int(r.get("duration") or self.durations[r["service"]]))
                for r in patient["required_caregivers"]]


def short(name: str) -> str:
    """``instance_010-milan-...`` -> ``010``; ``toy`` stays."""
    match = re.match(r"instance_(\d+)", name)
    return match.group(1) if match else name


def names() -> list[str]:
    return sorted(p.stem for p in (folder() / "instances").glob("*.json"))


def load(name: str, root: Path | None = None) -> Instance:
    path = (root or folder() / "instances") / f"{name}.json"
    return parse(name, json.loads(path.read_text(encoding="utf-8")))


def parse(name: str, data: dict) -> Instance:
    """An instance from its JSON. Locations are [longitude, latitude]; a patient without one
    (the toy) is placed at the office, and a point that would share its location with an
    earlier one is nudged north by ``NUDGE`` degrees until it is alone: points are only keys
    into the matrix, whose rows stay the file's. Windows are whole minutes, truncated as the
    authors' tools read them (a file's 401.99999999999994 is 401: their best-known solutions
    start there)."""
    (office,) = data["central_offices"]
    minutes = np.asarray(data["distances"], dtype=np.int64)
    places = [office["location"]] + [p.get("location") or office["location"]
                                     for p in data["patients"]]
    taken: set[tuple[int, int]] = set()
    lat, lon, moved = [], [], 0
    for k, (x, y) in enumerate(places):
        placed = k > 0 and not data["patients"][k - 1].get("location")
        y0 = y
        while (round(y * 1e7), round(x * 1e7)) in taken:
            y = round(y + NUDGE, 7)
        moved += placed or y != y0
        taken.add((round(y * 1e7), round(x * 1e7)))
        lat.append(y)
        lon.append(x)
    if minutes.shape != (len(places), len(places)):
        raise ValueError(f"{name}: distances are {minutes.shape}, expected {len(places)} square")
    windows = {p["id"]: (int(p["time_window"][0]), int(p["time_window"][1]))
               for p in data["patients"]}
    return Instance(name, data["patients"], data["caregivers"],
                    {s["id"]: s["default_duration"] for s in data["services"]}, minutes,
                    windows, np.array(lat), np.array(lon), int(moved))


def best_known(name: str, root: Path | None = None) -> float | None:
    """The authors' best-known total cost from ``best.md``; for an instance without one, the
    cost of its solution file (the toy), else None."""
    root = root or folder()
    for line in (root / "best.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells and cells[0] == f"{name}.json":
            return float(cells[4])
    path = solution_path(name, root)
    if path is None:
        return None
    return published_cost(load(name, root / "instances"), read_solution(path)).total


def solution_path(name: str, root: Path | None = None) -> Path | None:
    root = root or folder()
    found = sorted((root / "solutions").glob(f"sol-{name}-*.json")) + sorted(
        (root / "solutions").glob(f"sol_{name}_*.json"))
    return found[0] if found else None


# ------------------------------------------------------------------ published objective

Visit = tuple[str, str, float]   # patient id, service id, start in minutes
Routes = dict[str, list[Visit]]  # caregiver id -> visits


def read_solution(path: Path) -> Routes:
    """A solution file's routes; ``arrival_time`` is the service start."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {r["caregiver_id"]: [(v.get("patient", v.get("patient_id")),
                                 v.get("service", v.get("service_id")),
                                 float(v["arrival_time"])) for v in r.get("locations", [])]
            for r in data["routes"]}


@dataclass(frozen=True, slots=True)
class Cost:
    travel: float           # minutes
    total_tardiness: float  # minutes
    max_tardiness: float
    total: float            # (travel + total + max tardiness) / 3


def published_cost(inst: Instance, routes: Routes) -> Cost:
    """The published objective of ``routes``, from the instance file alone."""
    row, window = inst.row, inst.windows
    travel, late = 0, []
    for visits in routes.values():
        path = [0] + [row[p] for p, _, _ in sorted(visits, key=lambda v: v[2])] + [0]
        if len(path) > 2:
            travel += int(sum(inst.minutes[a, b] for a, b in zip(path, path[1:])))
        late += [max(0.0, start - window[p][1]) for p, _, start in visits]
    total, worst = _clean(sum(late)), _clean(max(late, default=0.0))
    return Cost(travel, total, worst, (travel + total + worst) / 3)


def _clean(minutes: float) -> float:
    """Minutes rounded at 1e-6 (windows like 1.0000000000000036 leave float dust)."""
    return round(minutes, 6) + 0.0


def published_problems(inst: Instance, routes: Routes) -> list[str]:
    """Breaks of the published rules: every required service once, by a caregiver with the
    ability; no start before the window; leaving the office at minute 0, travel and service
    time fit between visits; simultaneous starts equal, sequential ones min..max apart."""
    able = {c["id"]: set(c["abilities"]) for c in inst.caregivers}
    row, by_id = inst.row, {p["id"]: p for p in inst.patients}
    eps = 1e-6
    out, start_of = [], {}
    for caregiver, visits in routes.items():
        at, here = 0.0, 0
        for patient, service, start in sorted(visits, key=lambda v: v[2]):
            p = by_id[patient]
            duration = dict(inst.services(p)).get(service)
            if duration is None or service not in able[caregiver]:
                out.append(f"{caregiver} does {patient}/{service}: not required or not able")
                continue
            if (patient, service) in start_of:
                out.append(f"{patient}/{service} served twice")
            start_of[patient, service] = start
            if start < inst.windows[patient][0] - eps:
                out.append(f"{patient}/{service} starts before its window")
            if start < at + inst.minutes[here, row[patient]] - eps:
                out.append(f"{caregiver} cannot reach {patient} by {start}")
            at, here = start + duration, row[patient]
    for p in inst.patients:
        services = inst.services(p)
        missing = [s for s, _ in services if (p["id"], s) not in start_of]
        if missing:
            out.append(f"{p['id']}: {missing} not served")
            continue
        sync = p.get("synchronization")
        if sync:
            gap = start_of[p["id"], services[1][0]] - start_of[p["id"], services[0][0]]
            low, high = sync["distance"] if sync["type"] == "sequential" else (0, 0)
            if not low - eps <= gap <= high + eps:
                out.append(f"{p['id']}: {sync['type']} gap {gap} outside [{low}, {high}]")
    return out


# ------------------------------------------------------------------ through the domain


def order_id(patient: str, service: str) -> str:
    return f"{patient}/{service}"


def config_text(service_types: list[str]) -> str:
    """The dispatch config of an instance, as TOML (see the module doc)."""
    lines = ["[service]", f'timezone = "{TIMEZONE}"',
             f"service_types = {json.dumps(service_types)}", "",
             "[limits]", "min_credit_score = 0.0", "max_work_minutes_per_day = 1440",
             "service_radius_km = 20000.0", "",
             "[weights]", "travel = 1.0", "lateness = 1.0", "",
             "[unassigned]", f"penalty_base = {UNSERVED!r}", "penalty_per_priority = 0.0", "",
             "[optimizer]", "candidates_per_order = 1000", "return_home = true", ""]
    for service in service_types:
        lines += [f'[lateness."{service}"]', "max_late_minutes = 1440",
                  f"penalty_per_minute = {1 / 60!r}", ""]
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Domain:
    config: object               # matcher.config.DispatchConfig
    workers: list                # matcher.model.Worker, file order
    orders: dict                 # order id -> matcher.model.Order, file order
    matrix: object               # geo.matrix.PointMatrix


def to_domain(inst: Instance) -> Domain:
    """The instance as validated domain values (see the module doc)."""
    from matcher.config import parse_config
    from matcher.model import LinkType, Order, OrderLink, Shift, Skill, Worker

    config = parse_config(config_text(sorted(inst.durations)))
    day = Shift(BASE, BASE + DAY_S)
    workers = [Worker(c["id"], "hhcrsp", float(inst.lat[0]), float(inst.lon[0]),
                      tuple(Skill(s, 1, BASE + 365 * DAY_S) for s in c["abilities"]), 100.0,
                      (day,), max_jobs_per_day=0)
               for c in inst.caregivers]
    orders: dict = {}
    for k, p in enumerate(inst.patients, start=1):
        earliest, latest = (BASE + t * 60 for t in inst.windows[p["id"]])
        sync, first, link = p.get("synchronization"), None, None
        for service, minutes in inst.services(p):
            if first is not None:
                low, high = sync["distance"] if sync["type"] == "sequential" else (0, 0)
                link = OrderLink(first, LinkType.START_GAP, low * 60, high * 60)
            oid = order_id(p["id"], service)
            orders[oid] = Order(oid, p["id"], service, 1, float(inst.lat[k]), float(inst.lon[k]),
                                earliest, latest, minutes * 60, link=link)
            first = first or oid
    return Domain(config, workers, orders, planner_matrix(inst))


def planner_matrix(inst: Instance):
    """The instance's travel in seconds, as the planner's ``PointMatrix``."""
    from geo.matrix import PointMatrix

    return PointMatrix(inst.lat, inst.lon, inst.minutes * 60)


def routes_of(plans: dict) -> Routes:
    """Day plans as published routes: (patient, service, start minute) per caregiver."""
    return {w: [(j.customer_id, j.service_type, (j.start - BASE) / 60) for j in jobs]
            for w, jobs in plans.items()}


def plans_of(dom: Domain, routes: Routes) -> dict:
    """Published routes as day plans (the inverse of :func:`routes_of`)."""
    from matcher.model import Job

    plans = {}
    for worker in dom.workers:
        jobs = []
        for patient, service, start in routes.get(worker.worker_id, []):
            order = dom.orders[order_id(patient, service)]
            at = BASE + round(start * 60)
            jobs.append(Job(order.order_id, patient, service, order.lat, order.lon, at,
                            at + order.duration))
        plans[worker.worker_id] = sorted(jobs, key=lambda j: j.start)
    return plans


def matrix_travel(inst: Instance):
    """``travel(lat1, lon1, lat2, lon2) -> seconds`` for the checker: a plain lookup of the
    file's matrix by point (no code from ``geo``)."""
    index = {(round(a * 1e7), round(b * 1e7)): i
             for i, (a, b) in enumerate(zip(inst.lat.tolist(), inst.lon.tolist()))}

    def travel(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
        i = index[round(lat1 * 1e7), round(lon1 * 1e7)]
        j = index[round(lat2 * 1e7), round(lon2 * 1e7)]
        return int(inst.minutes[i, j]) * 60

    return travel


@dataclass(frozen=True, slots=True)
class Solved:
    plans: dict
    note: str
    first_solution_s: float | None
    seconds: float
    cpu_s: float


def solve(inst: Instance, dom: Domain, limit: float) -> Solved:
    """Every order pending, no plans: one re-optimisation of ``limit`` seconds."""
    from matcher.planner import Planner
    from matcher.reoptimise import PlanScope, Reoptimiser

    started, cpu = time.perf_counter(), time.process_time()
    scope = PlanScope(dom.workers, plans={}, orders=dom.orders, pending=tuple(dom.orders),
                      now=BASE)
    result = Reoptimiser(Planner(dom.config, matrix=dom.matrix)).run(scope, limit)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Solved(result.plans, result.note, result.first_plan_s, seconds, cpu)


# ------------------------------------------------------------------ one run


def run(name: str, limit: float) -> dict:
    """One instance solved and checked: a row of the results."""
    row = evaluate(load(name), limit)
    reference = best_known(name)
    cost = row.pop("cost")
    gap = None if reference is None else cost / reference - 1
    return {"instance": name, "time_limit_s": limit, "cost": round(cost, 3),
            "best_known": reference, "gap": gap, **row}


def evaluate(inst: Instance, limit: float) -> dict:
    """Solve ``inst`` through the domain, check the plans, price them the published way."""
    from tests.checker import check_plans

    dom = to_domain(inst)
    solved = solve(inst, dom, limit)
    plans = {w.worker_id: solved.plans.get(w.worker_id, []) for w in dom.workers}
    served = [j.order_id for jobs in plans.values() for j in jobs]
    unserved = len(dom.orders) - len(set(served))
    problems = check_plans(dom.config, {w.worker_id: w for w in dom.workers}, plans,
                           dom.orders, travel=matrix_travel(inst))
    routes = routes_of(plans)
    published = published_problems(inst, routes)
    cost = published_cost(inst, routes)
    valid = not problems and unserved == 0 and len(served) == len(set(served))
    notes = [solved.note, f"{unserved} orders unserved" if unserved else "",
             *(problems[:3]), *(f"published rules: {p}" for p in published[:3])]
    if inst.moved:
        notes.append(f"{inst.moved} points nudged or placed (no location of their own)")
    return {"cost": cost.total, "valid": valid, "published_rules_ok": not published,
            "patients": len(inst.patients), "caregivers": len(inst.caregivers),
            "orders": len(dom.orders), "travel": cost.travel,
            "total_tardiness": cost.total_tardiness, "max_tardiness": cost.max_tardiness,
            "first_solution_s": solved.first_solution_s, "seconds": round(solved.seconds, 3),
            "cpu_s": round(solved.cpu_s, 3), "problems": len(problems),
            "note": "; ".join(n for n in notes if n)}


def _run_task(task: tuple[str, float]) -> dict:
    """A row, or a row that says why the solve failed (the others still run)."""
    name, limit = task
    try:
        return run(name, limit)
    except Exception as exc:  # noqa: BLE001 - reported in the row, the run goes on
        inst = load(name)
        return {"instance": name, "time_limit_s": limit, "cost": None,
                "best_known": best_known(name), "gap": None, "valid": False,
                "published_rules_ok": False, "patients": len(inst.patients),
                "caregivers": len(inst.caregivers), "orders": None, "travel": None,
                "total_tardiness": None, "max_tardiness": None, "first_solution_s": None,
                "seconds": 0.0, "cpu_s": 0.0, "problems": None,
                "note": f"failed: {type(exc).__name__}: {exc}"}


def run_all(tasks: list[tuple[str, float]], jobs: int) -> list[dict]:
    """Every task, ``jobs`` at a time, each in its own spawned process when ``jobs`` > 1;
    progress on stderr."""
    rows: list[dict] = []

    def done(row: dict) -> None:
        rows.append(row)
        gap = "–" if row["gap"] is None else f"{row['gap']:+.2%}"
        print(f"[{len(rows)}/{len(tasks)}] {short(row['instance'])} {row['time_limit_s']:g} s: "
              f"cost {_num(row['cost'])} gap {gap} valid {row['valid']} "
              f"({row['seconds']:.0f} s) {row['note']}", file=sys.stderr, flush=True)

    if jobs <= 1:
        for task in tasks:
            done(_run_task(task))
        return rows
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(jobs, mp_context=context, max_tasks_per_child=1) as pool:
        for future in cf.as_completed([pool.submit(_run_task, t) for t in tasks]):
            done(future.result())
    return rows


def preflight(selected: list[str]) -> list[str]:
    """Check the objective: each best-known solution must pass the published rules and cost
    what ``best.md`` says."""
    warnings = []
    for name in selected:
        path = solution_path(name)
        reference = best_known(name)
        if path is None or reference is None:
            continue
        inst, routes = load(name), read_solution(path)
        problems = published_problems(inst, routes)
        got = published_cost(inst, routes).total
        if problems or abs(got - reference) > 0.01:
            warnings.append(f"{name}: best-known solution costs {got:.3f}, "
                            f"{problems[:1] or 'no problem'}")
    return warnings


# ------------------------------------------------------------------ report


def _num(value: float | None, fmt: str = "{:.2f}") -> str:
    return "–" if value is None else fmt.format(value)


def summary(rows: list[dict]) -> dict:
    """Mean gap over the valid rows that have a best-known value; met only when every such
    row is valid and the mean is under the target."""
    ranked = [r for r in rows if r["best_known"] is not None]
    valid = [r for r in ranked if r["valid"] and r["gap"] is not None]
    mean = float(np.mean([r["gap"] for r in valid])) if valid else None
    return {"mean_gap": mean, "with_best_known": len(ranked), "valid": len(valid),
            "all_valid": all(r["valid"] for r in rows),
            "met": mean is not None and mean < TARGET and len(valid) == len(ranked)}


def render(report: dict) -> str:
    rows, p = report["rows"], report["params"]
    first = any(r["first_solution_s"] is not None for r in rows)
    head = ["instance", "patients", "caregivers", "best-known", "ours", "gap", "valid"]
    head += ["first solution (s)"] if first else []
    head += ["travel", "total tardiness", "max tardiness"]
    lines = [f"## HHCRSP, {p['time_limit']:g} s per instance: published cost against the "
             "best-known", "", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in rows:
        cells = [r["instance"], str(r["patients"]), str(r["caregivers"]),
                 _num(r["best_known"]), _num(r["cost"]),
                 "–" if r["gap"] is None else f"{r['gap']:+.2%}",
                 "yes" if r["valid"] else f"**no**: {r['note']}"]
        cells += [_num(r["first_solution_s"])] if first else []
        cells += [_num(r[k], "{:g}") for k in ("travel", "total_tardiness", "max_tardiness")]
        lines.append("| " + " | ".join(cells) + " |")
    s = report["summary"]
    mean = _num(s["mean_gap"], "{:+.2%}")
    lines.append(f"| **mean gap** (valid rows of the {s['with_best_known']} with a best-known) "
                 f"| | | | | {mean} | "
                 f"{s['valid']}/{s['with_best_known']} valid |" + " |" * (len(head) - 7))
    lines += ["", f"Target: mean gap < {TARGET:.0%} at 60 s per instance: {mean} "
              + ("met" if s["met"] else "**not met**")
              + ("" if p["time_limit"] == 60 else f" (this run: {p['time_limit']:g} s)") + "."]
    v = report["machine"]
    notes = [
        "Cost = (travelled minutes + total tardiness + max tardiness) / 3, recomputed from the "
        "plans and the instance file; best-known = the authors' `best.md` (the toy: its optimal "
        "solution file, recomputed). Instances without a published value show no gap and are "
        "not in the mean.",
        "Valid = `tests.checker.check_plans` finds nothing (travel from the instance matrix) and "
        "every order is served once; every row also passes the published rules unless its note "
        "says otherwise.",
        "The solver minimises travel + total tardiness (a late minute = a travelled minute); "
        "the max-tardiness term of the published cost is not in its objective. Search: "
        "OR-Tools, then twice `matcher.lns` (pairs and teams taken out and put back together) "
        "and OR-Tools again from its answer (`matcher.routing.LNS_ROUNDS`).",
        *(["First solution (s): `Reoptimised.first_plan_s`, the time until the re-optimiser "
           "had a whole plan (the pending orders dispatched by the batch rounds, its warm "
           "start); the routing search then runs for the time limit."] if first else []),
        "One thread per solve; " + ("one solve at a time." if p["jobs"] == 1 else
                                    f"{p['jobs']} solves at a time in separate processes.")
        + f" Seconds past the time limit are model building and the domain re-check "
        f"(max wall time of a solve here: {max(r['seconds'] for r in rows):.0f} s).",
        *starved(rows),
        *[f"Note {short(r['instance'])}: {r['note']}" for r in rows if r["note"] and r["valid"]],
        *[f"**Reference check failed**: {w}" for w in report["reference_warnings"]],
        f"Machine: {v['cores']} cores, {v['platform']}, Python {v['python']}, ortools "
        f"{v['ortools']}, numpy {v['numpy']}. Code: commit {report['code'][0]}"
        + ("" if report["code"][0] == report["code"][1] else
           f" at the start, {report['code'][1]} at the end")
        + f". Date {report['date']}; the whole run took {report['total_s']:.0f} s.",
        f"Command: `{report['command']}`",
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


def starved(rows: list[dict]) -> list[str]:
    slow = [f"{short(r['instance'])} ({r['cpu_s'] / r['seconds']:.0%})" for r in rows
            if r["seconds"] > 1 and r["cpu_s"] < STARVED * r["seconds"]]
    return [f"Less than {STARVED:.0%} of a core (CPU / wall time): " + ", ".join(slow)
            + "; their search was shorter than the limit says."] if slow else []


def _git(*args: str) -> str:
    """Output of a git command in the repo ("" when git is not there)."""
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return ""


def code_state() -> str:
    """The commit, and the solver files changed since it (others may edit while a run goes)."""
    changed = _git("status", "--porcelain", "--", "matcher", "geo").split()[1::2]
    commit = _git("rev-parse", "--short", "HEAD") or "?"
    return commit + (f" with uncommitted changes in {', '.join(changed)}" if changed else "")


def versions() -> dict:
    out = {"python": platform.python_version(), "cores": os.cpu_count(),
           "platform": platform.platform()}
    for package in ("ortools", "numpy"):
        try:
            out[package] = md.version(package)
        except md.PackageNotFoundError:
            out[package] = None
    return out


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--time-limit", type=float, default=60.0,
                        help="search seconds per instance (60)")
    parser.add_argument("--instances", default="",
                        help="comma-separated names or numbers, e.g. 010,020,toy (all)")
    parser.add_argument("--jobs", type=int, default=1, help="solves in parallel processes (1)")
    parser.add_argument("--out", type=Path, default=RESULTS / "hhcrsp",
                        help="results path without suffix (benchmarks/results/hhcrsp)")
    args = parser.parse_args(argv)
    every = names()
    if not every:
        parser.error(f"no instances under {folder()}")
    wanted = [w.strip() for w in args.instances.split(",") if w.strip()]
    chosen = []
    for w in wanted:
        hits = [n for n in every if n == w or short(n) == w.zfill(3) or short(n) == w]
        if not hits:
            parser.error(f"unknown instance {w!r}; choose from {', '.join(map(short, every))}")
        chosen += hits
    args.instances = chosen or every
    return args


def command() -> str:
    python = Path(sys.executable)
    with contextlib.suppress(ValueError):
        python = python.relative_to(Path.cwd())
    return shlex.join([str(python), *sys.argv])


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started, code = time.perf_counter(), code_state()
    warnings = preflight(args.instances)
    for w in warnings:
        print(f"reference check failed: {w}", file=sys.stderr)
    size = {n: len(load(n).patients) for n in args.instances}
    tasks = sorted(((n, args.time_limit) for n in args.instances), key=lambda t: -size[t[0]])
    rows = run_all(tasks, args.jobs)
    rows.sort(key=lambda r: args.instances.index(r["instance"]))
    report = {"params": {"time_limit": args.time_limit, "instances": args.instances,
                         "jobs": args.jobs},
              "rows": rows, "summary": summary(rows), "reference_warnings": warnings,
              "machine": versions(), "code": (code, code_state()), "command": command(),
              "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "total_s": time.perf_counter() - started}
    text = render(report)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(text, encoding="utf-8")
    args.out.with_suffix(".json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
