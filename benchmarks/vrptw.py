"""Benchmark: total distance on public VRPTW instances against the best-known, beside peer solvers.

What is measured
----------------
- **Instances.** Solomon C101, C201, R101, R201, RC101, RC201 (100 customers, fleet 25) and
  Gehring-Homberger C1_2_1, R1_2_1, RC1_2_1, C2_2_1, R2_2_1, RC2_2_1 (200 customers, fleet 50)
  and C1_4_1, R1_4_1, RC1_4_1 (400, fleet 100), read by ``benchmarks/instances.py`` from
  ``../shared/benchmarks`` (or ``$HOME_DISPATCH_BENCHMARKS``).
- **Rules.** DIMACS distances (each arc floor(10 x Euclidean) / 10), travel time = distance,
  the file's capacity and service times, windows on the start of service (waiting allowed), back
  at the depot by its due date. All in integer tenths, so totals are exact. Objective: distance.
- **Reference.** Solomon: CVRPLIB's distance-only best-known. Gehring-Homberger: the SINTEF
  best-known routes' length in D10, an upper bound on the distance-only optimum (a solver using
  more vehicles can show a negative gap). Gap = distance / reference - 1.
- **Solvers**, one solve at a time per process on one thread, with the same time limit:
  ``ours`` (``matcher.routing.solve``, every customer droppable at a large cost so the first
  solution never dead-ends), ``ortools-sample`` (OR-Tools' VRPTW sample: path cheapest arc +
  guided local search, no drops, so it may find nothing), ``pyvrp`` (PyVRP 0.14.1,
  ``MaxRuntime``, seed 1) and ``vroom`` (pyvroom 1.15.2, exploration level 5: it has no time
  budget of the same kind, so it runs once per instance and reports its own time).
- **Check.** Every solution goes through ``instances.check``, written from the rules and not
  from any solver: each customer once, fleet, capacity, windows, depot due date. The distance
  shown is recomputed from the routes. Seconds are wall time of the solver call, model building
  included, instance reading not.

How to run
----------
From the repo root (peers come with ``pip install -e '.[bench]'``; a missing one is skipped)::

    make bench-vrptw                    # = .venv/bin/python benchmarks/vrptw.py
    .venv/bin/python benchmarks/vrptw.py --limits 5 --instances C101,R1_2_1 --solvers ours,pyvrp
    .venv/bin/python benchmarks/vrptw.py --jobs 2      # two solves at once on a 2-core machine

The tables are printed and written to ``benchmarks/results/vrptw.md``, the rows to
``vrptw.json``. Targets (ours): Solomon mean gap <= 2% at 5 s and <= 1% at 30 s; GH 200 <= 5%
at 5 s; GH 400 <= 10% at 5 s and <= 5% at 30 s.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script: put the repo root first so `matcher` and `benchmarks` come from this checkout.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import concurrent.futures as cf  # noqa: E402
import datetime as dt  # noqa: E402
import importlib.util  # noqa: E402
import importlib.metadata as md  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

from benchmarks import instances as ins  # noqa: E402

RESULTS = REPO / "benchmarks" / "results"
SOLVERS = ("ours", "ortools-sample", "vroom", "pyvrp")
PACKAGES = {"ours": "ortools", "ortools-sample": "ortools", "vroom": "pyvroom", "pyvrp": "pyvrp"}
DROP_COST = 10**7   # per customer, in tenths: far above any route's length (~10^5)
PYVRP_SEED = 1
VROOM_LEVEL = 5
STARVED = 0.9  # CPU / wall time of a solve below this: it was short of a core
TARGETS = {("Solomon", 5): 0.02, ("Solomon", 30): 0.01, ("GH 200", 5): 0.05,
           ("GH 400", 5): 0.10, ("GH 400", 30): 0.05}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a solver returned: routes of customer numbers, or None for no solution."""

    routes: list[list[int]] | None
    note: str = ""
    first_solution_s: float | None = None


# ------------------------------------------------------------------ solvers


def solve_ours(inst: ins.Instance, limit: float) -> Outcome:
    """``matcher.routing.solve`` on a RoutingProblem: node 0 the depot, visit i-1 customer i."""
    from matcher import routing

    s = ins.SCALE
    dist = ins.d10_matrix(inst)
    visits = [routing.Visit(node=i, duration=int(inst.service[i]) * s,
                            earliest=int(inst.ready[i]) * s, latest=int(inst.due[i]) * s,
                            load=int(inst.demand[i]), drop_cost=DROP_COST)
              for i in range(1, inst.customers + 1)]
    vehicles = [routing.Vehicle(start_node=0, end_node=0, start=int(inst.ready[0]) * s,
                                end=int(inst.due[0]) * s, capacity=inst.capacity)
                for _ in range(inst.fleet)]
    solution = routing.solve(routing.RoutingProblem(dist, visits, vehicles, cost=dist), limit)
    if not solution.found:
        return Outcome(None, "no solution")
    routes = [[v + 1 for v in route.visits] for route in solution.routes]
    note = f"{len(solution.dropped)} dropped" if solution.dropped else ""
    return Outcome(routes, note, getattr(solution, "first_solution_s", None))


def solve_ortools_sample(inst: ins.Instance, limit: float) -> Outcome:
    """OR-Tools' VRPTW sample as written in its docs: one time dimension with waiting allowed,
    one capacity dimension, path cheapest arc then guided local search, every customer
    mandatory."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    s = ins.SCALE
    dist = ins.d10_matrix(inst)
    manager = pywrapcp.RoutingIndexManager(len(dist), inst.fleet, 0)
    routing = pywrapcp.RoutingModel(manager)
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(dist.tolist()))
    transit = dist + inst.service[:, None] * s   # service at the arc's tail, then travel
    horizon = int(inst.due[0]) * s
    routing.AddDimension(routing.RegisterTransitMatrix(transit.tolist()), horizon, horizon,
                         False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for i in range(1, len(dist)):
        time_dim.CumulVar(manager.NodeToIndex(i)).SetRange(int(inst.ready[i]) * s,
                                                           int(inst.due[i]) * s)
    for k in range(inst.fleet):
        for index in (routing.Start(k), routing.End(k)):
            time_dim.CumulVar(index).SetRange(int(inst.ready[0]) * s, horizon)
            routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(index))
    routing.AddDimensionWithVehicleCapacity(
        routing.RegisterUnaryTransitVector(inst.demand.tolist()), 0,
        [inst.capacity] * inst.fleet, True, "Capacity")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH)
    params.time_limit.FromMilliseconds(int(limit * 1000))
    found = routing.SolveWithParameters(params)
    if found is None:
        return Outcome(None, "no solution")
    routes = []
    for k in range(inst.fleet):
        index, route = found.Value(routing.NextVar(routing.Start(k))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = found.Value(routing.NextVar(index))
        routes.append(route)
    return Outcome(routes)


def solve_vroom(inst: ins.Instance, limit: float | None) -> Outcome:
    """pyvroom at exploration level 5 on one thread; ``limit`` is ignored (see the module doc)."""
    import vroom

    s = ins.SCALE
    problem = vroom.Input()
    problem.set_durations_matrix("car", ins.d10_matrix(inst).tolist())  # cost = duration
    window = vroom.TimeWindow(int(inst.ready[0]) * s, int(inst.due[0]) * s)
    for k in range(inst.fleet):
        problem.add_vehicle(vroom.Vehicle(k, start=0, end=0, capacity=[inst.capacity],
                                          time_window=window))
    problem.add_job([vroom.Job(i, location=i, default_service=int(inst.service[i]) * s,
                               delivery=[int(inst.demand[i])],
                               time_windows=[vroom.TimeWindow(int(inst.ready[i]) * s,
                                                              int(inst.due[i]) * s)])
                     for i in range(1, inst.customers + 1)])
    solution = problem.solve(exploration_level=VROOM_LEVEL, nb_threads=1)
    steps = solution.routes
    jobs = steps[steps["type"] == "job"]
    routes = [group["id"].astype(int).tolist() for _, group in jobs.groupby("vehicle_id")]
    unassigned = len(solution.unassigned) if hasattr(solution, "unassigned") else 0
    return Outcome(routes, f"{unassigned} unassigned" if unassigned else "")


def solve_pyvrp(inst: ins.Instance, limit: float) -> Outcome:
    """PyVRP's default iterated local search for ``limit`` seconds, seed 1."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    s = ins.SCALE
    dist = ins.d10_matrix(inst)
    ready, due = inst.ready * s, inst.due * s
    data = pyvrp.ProblemData(
        locations=[pyvrp.Location(float(x), float(y)) for x, y in zip(inst.x, inst.y)],
        clients=[pyvrp.Client(i, delivery=[int(inst.demand[i])],
                              service_duration=int(inst.service[i]) * s,
                              tw_early=int(ready[i]), tw_late=int(due[i]))
                 for i in range(1, inst.customers + 1)],
        depots=[pyvrp.Depot(0, tw_early=int(ready[0]), tw_late=int(due[0]))],
        vehicle_types=[pyvrp.VehicleType(inst.fleet, capacity=[inst.capacity],
                                         tw_early=int(ready[0]), tw_late=int(due[0]))],
        distance_matrices=[dist], duration_matrices=[dist])
    result = pyvrp.solve(data, MaxRuntime(limit), seed=PYVRP_SEED, display=False)
    routes = [[a.idx + 1 for a in route if a.is_client()] for route in result.best.routes()]
    return Outcome(routes, "" if result.best.is_feasible() else "PyVRP: infeasible")


SOLVE = {"ours": solve_ours, "ortools-sample": solve_ortools_sample, "vroom": solve_vroom,
         "pyvrp": solve_pyvrp}


def missing(solver: str) -> str | None:
    """Why ``solver`` cannot run here, or None."""
    if solver == "ours":
        try:
            routing = importlib.import_module("matcher.routing")
        except ImportError as e:
            return f"matcher.routing does not import ({e})"
        return None if hasattr(routing, "solve") else "matcher.routing has no solve() yet"
    module = {"ortools-sample": "ortools", "vroom": "vroom", "pyvrp": "pyvrp"}[solver]
    if importlib.util.find_spec(module) is None:
        return f"{PACKAGES[solver]} is not installed (pip install -e '.[bench]')"
    return None


# ------------------------------------------------------------------ one run


def run(solver: str, name: str, limit: float | None) -> dict:
    """One solve, checked: a row of the results."""
    inst = ins.load(name)
    reference = ins.best_known(name)
    started, cpu = time.perf_counter(), time.process_time()
    outcome = SOLVE[solver](inst, limit)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    row = {"instance": name, "family": inst.family, "solver": solver, "time_limit_s": limit,
           "distance": None, "best_known": reference / ins.SCALE, "gap": None,
           "vehicles": None, "valid": False, "seconds": round(seconds, 3),
           "cpu_s": round(cpu, 3),
           "note": outcome.note, "first_solution_s": outcome.first_solution_s}
    if outcome.routes is None:
        return row
    checked = ins.check(inst, outcome.routes)
    row.update(distance=checked.distance / ins.SCALE, gap=checked.distance / reference - 1,
               vehicles=checked.vehicles, valid=checked.valid,
               note="; ".join(filter(None, [outcome.note, checked.reason])))
    return row


def _run_task(task: tuple[str, str, float | None]) -> dict:
    return run(*task)


def run_all(tasks: list[tuple[str, str, float | None]], jobs: int) -> list[dict]:
    """Every task, ``jobs`` at a time, each in its own process when ``jobs`` > 1 (spawned, so
    no solver state is shared); progress on stderr."""
    rows = []

    def done(row: dict) -> None:
        rows.append(row)
        limit = "once" if row["time_limit_s"] is None else f"{row['time_limit_s']:g} s"
        print(f"[{len(rows)}/{len(tasks)}] {row['solver']} {row['instance']} {limit}: "
              f"{_cell(row)}", file=sys.stderr, flush=True)

    if jobs <= 1:
        for task in tasks:
            done(_run_task(task))
        return rows
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(jobs, mp_context=context, max_tasks_per_child=1) as pool:
        for future in cf.as_completed([pool.submit(_run_task, t) for t in tasks]):
            done(future.result())
    return rows


def preflight(names: list[str]) -> list[str]:
    """Check the checker: each reference's own routes must pass and add up to the reference."""
    warnings = []
    for name in names:
        got = ins.check(ins.load(name), ins.best_known_routes(name))
        if not got.valid or got.distance != ins.best_known(name):
            warnings.append(f"{name}: best-known routes check as {got}")
    return warnings


# ------------------------------------------------------------------ report


def _cell(row: dict | None) -> str:
    if row is None:
        return "–"
    if row["distance"] is None:
        return row["note"] or "no solution"
    text = f"{row['gap']:+.2%} ({row['vehicles']} v)"
    if row["time_limit_s"] is None:
        text += f" in {row['seconds']:.1f} s"
    if not row["valid"]:
        text = f"**invalid** {text}: {row['note']}"
    return text


def family_mean(rows: list[dict], family: str, names: list[str]) -> tuple[float | None, int, int]:
    """Mean gap over the family's valid rows, how many were valid, how many instances."""
    expected = [n for n in names if ins.family_of(n) == family]
    gaps = [r["gap"] for r in rows if r["family"] == family and r["valid"]]
    return (float(np.mean(gaps)) if gaps else None), len(gaps), len(expected)


def _mean_cell(mean: float | None, valid: int, expected: int) -> str:
    if mean is None:
        return "–"
    return f"{mean:+.2%}" + ("" if valid == expected else f" ({valid}/{expected} valid)")


def _row_for(rows: list[dict], solver: str, name: str, limit: float) -> dict | None:
    for r in rows:
        if r["solver"] == solver and r["instance"] == name and (
                r["time_limit_s"] in (limit, None)):
            return r
    return None


def render_limit(rows: list[dict], limit: float, names: list[str], solvers: list[str]) -> str:
    """The table for one time limit: gap (vehicles) per instance and solver, family means,
    targets for ours."""
    label = {s: s for s in solvers}
    if "vroom" in label:
        label["vroom"] = f"vroom (level {VROOM_LEVEL}, own time)"
    lines = [f"## VRPTW, {limit:g} s per solve: gap to the best-known distance (vehicles)", "",
             "| instance | best-known | " + " | ".join(label[s] for s in solvers) + " |",
             "| --- | --- |" + " --- |" * len(solvers)]
    for name in names:
        cells = [_cell(_row_for(rows, s, name, limit)) for s in solvers]
        reference = ins.best_known(name) / ins.SCALE
        lines.append(f"| {name} | {reference:.1f} | " + " | ".join(cells) + " |")
    for family in ins.FAMILIES:
        if not any(ins.family_of(n) == family for n in names):
            continue
        cells = [_mean_cell(*family_mean(
            [r for r in (_row_for(rows, s, n, limit) for n in names) if r], family, names))
            for s in solvers]
        lines.append(f"| **mean {family}** | | " + " | ".join(cells) + " |")
    return "\n".join(lines + ["", *target_lines(rows, limit, names)]).rstrip()


def target_lines(rows: list[dict], limit: float, names: list[str]) -> list[str]:
    """Targets for ours at this limit, plus its time to the first solution when exposed."""
    ours = [r for r in (_row_for(rows, "ours", n, limit) for n in names) if r]
    if not ours:
        return []
    parts = []
    for (family, at), target in TARGETS.items():
        if at != limit or not any(ins.family_of(n) == family for n in names):
            continue
        mean, valid, expected = family_mean(ours, family, names)
        met = mean is not None and valid == expected and mean <= target
        shown = "–" if mean is None else f"{mean:+.2%}"
        parts.append(f"{family} mean <= {target:.0%}: {shown} {'met' if met else '**not met**'}")
    lines = [f"Targets (ours, {limit:g} s): " + "; ".join(parts) + "."] if parts else []
    first = [r["first_solution_s"] for r in ours if r["first_solution_s"] is not None]
    if first:
        lines.append(f"Ours, time to the first feasible solution: median {np.median(first):.2f} s, "
                     f"max {max(first):.2f} s.")
    return lines


def starved(rows: list[dict]) -> list[str]:
    """Solves that got less than 90% of a core (other load on the machine): within a time
    limit they searched less than the limit says, so their gap is pessimistic."""
    slow = [f"{r['solver']} {r['instance']} ({r['cpu_s'] / r['seconds']:.0%})" for r in rows
            if r["seconds"] > 1 and r["cpu_s"] < STARVED * r["seconds"]]
    return [f"Less than {STARVED:.0%} of a core (CPU / wall time): " + ", ".join(slow)
            + "; rerun these on a quiet machine."] if slow else []


def versions() -> dict:
    out = {"python": platform.python_version(), "cores": os.cpu_count(),
           "platform": platform.platform()}
    for package in ("ortools", "pyvroom", "pyvrp", "numpy"):
        try:
            out[package] = md.version(package)
        except md.PackageNotFoundError:
            out[package] = None
    return out


def render(report: dict) -> str:
    p = report["params"]
    tables = [render_limit(report["rows"], limit, p["instances"], p["solvers"])
              for limit in p["limits"]]
    v = report["machine"]
    notes = [
        "Distances in D10 (floor(10 x Euclidean) / 10 per arc), travel time = distance; every "
        "row is checked independently (`benchmarks/instances.py: check`) and its distance "
        "recomputed from the routes. References: Solomon = CVRPLIB distance BKS; "
        "Gehring-Homberger = SINTEF best-known routes in D10 (an upper bound: more vehicles can "
        "beat it). Fleet: 25 (Solomon), n/4 (Gehring-Homberger).",
        "One thread per solve; "
        + ("one solve at a time." if p["jobs"] == 1 else f"{p['jobs']} solves at a time in "
           "separate processes.")
        + f" PyVRP seed {PYVRP_SEED}; ours drops a customer only at {DROP_COST:,} per "
        "customer; the OR-Tools sample has no drops, so it can find no solution.",
        *starved(report["rows"]),
        *[f"Skipped: {s}: {why}" for s, why in report["skipped"].items()],
        *[f"**Reference check failed**: {w}" for w in report["reference_warnings"]],
        f"Machine: {v['cores']} cores, {v['platform']}, Python {v['python']}, ortools "
        f"{v['ortools']}, pyvroom {v['pyvroom']}, pyvrp {v['pyvrp']}, numpy {v['numpy']}. "
        f"Date {report['date']}; the whole run took {report['total_s']:.0f} s.",
        f"Command: `{report['command']}`",
    ]
    return "\n\n".join(tables) + "\n\n" + "\n".join(f"- {n}" for n in notes) + "\n"


# ------------------------------------------------------------------ main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limits", default="5,30", help="time limits in seconds (5,30)")
    parser.add_argument("--instances", default=",".join(ins.SOLOMON + ins.GH),
                        help="comma-separated names (all 15)")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help=",".join(SOLVERS))
    parser.add_argument("--jobs", type=int, default=1, help="solves in parallel processes (1)")
    parser.add_argument("--out", type=Path, default=RESULTS / "vrptw",
                        help="results path without suffix (benchmarks/results/vrptw)")
    args = parser.parse_args(argv)
    args.limits = [float(v) for v in args.limits.split(",")]
    known = {n.lower(): n for n in ins.SOLOMON + ins.GH}
    args.instances = [known.get(n.strip().lower(), n.strip()) for n in args.instances.split(",")]
    for name in args.instances:
        if name not in known.values():
            parser.error(f"unknown instance {name!r}; choose from {', '.join(known.values())}")
    args.solvers = [s.strip() for s in args.solvers.split(",")]
    for solver in args.solvers:
        if solver not in SOLVERS:
            parser.error(f"unknown solver {solver!r}; choose from {', '.join(SOLVERS)}")
    return args


def tasks_for(names: list[str], solvers: list[str], limits: list[float]) -> list[tuple]:
    """(solver, instance, limit) for every combination; vroom once per instance (limit None).
    Largest instances first, so parallel runs end together."""
    tasks = [(s, n, None) for n in names for s in solvers if s == "vroom"]
    tasks += [(s, n, limit) for limit in limits for n in names for s in solvers if s != "vroom"]
    size = {n: ins.load(n).customers for n in names}
    return sorted(tasks, key=lambda t: -size[t[1]])


def command() -> str:
    python = Path(sys.executable)
    try:
        python = python.relative_to(Path.cwd())
    except ValueError:
        pass
    return shlex.join([str(python), *sys.argv])


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    skipped = {s: why for s in args.solvers if (why := missing(s))}
    for solver, why in skipped.items():
        print(f"skipping {solver}: {why}", file=sys.stderr)
    runnable = [s for s in args.solvers if s not in skipped]
    warnings = preflight(args.instances)
    rows = run_all(tasks_for(args.instances, runnable, args.limits), args.jobs)
    order = {(s, n): i for i, (s, n) in enumerate(
        (s, n) for n in args.instances for s in args.solvers)}
    rows.sort(key=lambda r: (r["time_limit_s"] or 0, order[r["solver"], r["instance"]]))
    report = {"params": {"limits": args.limits, "instances": args.instances,
                         "solvers": args.solvers, "jobs": args.jobs},
              "rows": rows, "skipped": skipped, "reference_warnings": warnings,
              "machine": versions(), "command": command(),
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
