"""The command line: ``python -m simulations run|compare|sweep`` (README "Simulating demand
peaks")."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from matcher.config import ConfigError, load_config
from simulations.compare import compare
from simulations.policies import POLICIES
from simulations.report import write_report
from simulations.runner import DEFAULT_SPEED, run, run_params
from simulations.scenario import ScenarioError, load_scenario
from simulations.sweep import SweepError, parse_assignments, run_sweep, write_sweep_table
from simulations.trace import TraceError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulations",
                                description="Simulate demand peaks against the dispatch engine.")
    sub = p.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="one policy on one scenario")
    one.add_argument("scenario", help="a scenario TOML file, or a name in simulations/scenarios")
    one.add_argument("--policy", choices=sorted(POLICIES),
                     help="default: the scenario's dispatch.policy")
    many = sub.add_parser("compare", help="several policies on the same scenario and seed")
    many.add_argument("scenario")
    many.add_argument("--policies", default="greedy,instant,batched",
                      help="comma-separated (default: greedy,instant,batched)")
    grid = sub.add_parser("sweep", help="a grid of parameters, runs in parallel processes or on Ray")
    grid.add_argument("scenario")
    grid.add_argument("--policy", choices=sorted(POLICIES),
                      help="default: the scenario's dispatch.policy")
    grid.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                      help="a swept parameter (workers, peak_factor, batch_window_s, policy, "
                           "seed, scale) and its values; repeat for more")
    grid.add_argument("--processes", type=int, help="local worker processes (default: cores)")
    grid.add_argument("--ray-address", help="run on this Ray cluster ('local' starts one)")
    for sp in (one, many, grid):
        sp.add_argument("--seed", type=int, default=0)
        sp.add_argument("--scale", type=float, default=1.0,
                        help="multiply the city's workers and the demand (e.g. 0.1)")
        sp.add_argument("--out", type=Path, help="output folder (default: runs/<scenario>-...)")
        if sp is grid:
            continue
        sp.add_argument("--config", help="the engine's TOML config (default: built-in)")
        sp.add_argument("--trace", help="replay orders from this CSV instead of the demand")
        sp.add_argument("--worker-events", help="worker status events CSV (with --trace)")
        sp.add_argument("--quiet", action="store_true", help="no progress bar")
        sp.add_argument("--target", metavar="HOST:PORT",
                        help="drive the server running there over gRPC instead of an "
                             "in-process engine (a load test; README 'Against a running "
                             "server')")
        sp.add_argument("--speed", type=float, default=DEFAULT_SPEED, metavar="FACTOR",
                        help="with --target: simulated seconds per wall second (default "
                             f"{DEFAULT_SPEED:g}; 0 = as fast as the server answers)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "sweep":
        return _sweep(args)
    try:
        scenario = load_scenario(args.scenario)
        options = {"config": load_config(args.config) if args.config else None,
                   "trace": args.trace, "worker_events": args.worker_events,
                   "target": args.target, "speed": args.speed}
        if args.command == "run":
            policy = args.policy or scenario.dispatch.policy
            out = args.out or Path("runs") / f"{scenario.name}-{policy}-s{args.seed}"
            kpis = run(scenario, policy, args.seed, args.scale, out, quiet=args.quiet,
                       **options)
            write_report(out)
            print(json.dumps(kpis, sort_keys=True, indent=2))
        else:
            policies = [p.strip() for p in args.policies.split(",") if p.strip()]
            unknown = [p for p in policies if p not in POLICIES]
            if unknown or not policies:
                raise ValueError(f"--policies: unknown {', '.join(unknown) or '(none given)'}; "
                                 f"known: {', '.join(POLICIES)}")
            out = args.out or Path("runs") / f"{scenario.name}-compare-s{args.seed}"
            compare(scenario, policies, args.seed, args.scale, out, quiet=args.quiet, **options)
            print((out / "comparison.md").read_text(encoding="utf-8"), end="")
        print(f"written to {out}", file=sys.stderr)
    except (ScenarioError, ConfigError, TraceError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _sweep(args: argparse.Namespace) -> int:
    """Every grid point a run in ``OUT/runs/<point>/``; ``sweep.csv`` and ``sweep.md`` in OUT."""
    out = args.out or Path("runs") / f"{Path(args.scenario).stem}-sweep-s{args.seed}"
    base = {"scenario": args.scenario, "policy": args.policy, "seed": args.seed,
            "scale": args.scale, "runs_dir": str(out / "runs")}
    try:
        load_scenario(args.scenario)
        rows = run_sweep(parse_assignments(args.grid, lists=True), run_params, base,
                         processes=args.processes, ray_address=args.ray_address)
    except (ScenarioError, SweepError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    write_sweep_table(rows, out)
    print((out / "sweep.md").read_text(encoding="utf-8"), end="")
    print(f"written to {out}", file=sys.stderr)
    return 0
