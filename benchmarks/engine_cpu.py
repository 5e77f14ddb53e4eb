"""Benchmark: what the engine costs per instant order, in process (no gRPC), in CPU time and in
instructions.

What is measured
----------------
The load benchmark's city (``benchmarks/load.py``: the synthetic Shanghai, 20,000 workers, seed
7) on an :class:`~matcher.engine.Engine` over the memory store, set up as the server sets it up
(``benchmarks/warm_engine.py``: the store timed for its metrics, every kernel loaded, 50 untimed
orders; then the server's garbage-collector settings, the city frozen out of the collector's
sight). Then ``--orders`` instant
orders of a new stream go to ``Engine.submit_orders`` from ``--clients`` concurrent clients,
one order per call with a request id, as the server passes them on. ``--expired`` sends orders
whose window ended an hour before instead: accepted, written and refused without a search.

Reported: CPU time per order (``time.process_time``; on a shared machine it swings between runs);
with ``--instructions``, the instructions per order counted by valgrind's callgrind over the
orders alone (the same count for the same code and inputs whatever else the machine does; about
fifty times slower); with ``--calls``, the Python function calls per order (builtins and numpy's
included) counted by cProfile over the orders alone, in a copy of this run with a fixed hash
seed (the same count every time, in seconds: where the engine's time goes is mostly how many
calls it makes, so this tracks the instructions). Compare two versions by running each
checkout's copy.

How to run
----------
From the repo root::

    .venv/bin/python benchmarks/engine_cpu.py                  # CPU time, 3,000 orders
    .venv/bin/python benchmarks/engine_cpu.py --instructions --orders 1000   # ~5 minutes
    .venv/bin/python benchmarks/engine_cpu.py --calls          # + Python calls per order

The table is printed and written to ``benchmarks/results/engine_cpu.md`` and ``.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "proto"))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import cProfile  # noqa: E402
import dataclasses  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import server  # noqa: E402
from benchmarks.city import make_city  # noqa: E402
from benchmarks.dispatch_round import (checkout_commit, command, machine,  # noqa: E402
                                       write_results)
from benchmarks.load import plan_day  # noqa: E402
from benchmarks.warm_engine import instant, warm_engine  # noqa: E402
from matcher.config import load_config  # noqa: E402

COUNTING = "HOME_DISPATCH_CALLGRIND"  # set in the copy of this script valgrind runs
CALLS = "HOME_DISPATCH_COUNT_CALLS"  # set in the copy of this script that counts calls


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent submitters")
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--expired", action="store_true",
                        help="orders past their window: no search")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions under valgrind's callgrind")
    parser.add_argument("--calls", action="store_true",
                        help="count Python function calls (cProfile, a fixed hash seed)")
    parser.add_argument("--config", type=Path, default=REPO / "config" / "dispatch.toml")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    return parser.parse_args(argv)


def _callgrind(on: bool) -> None:
    """Switch callgrind's counting for this process (when it runs under callgrind)."""
    if os.environ.get(COUNTING):
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
                       check=True, capture_output=True)


async def measure(args) -> dict:
    config = load_config(args.config)
    city = make_city(args.seed, args.workers, 1, config.service.service_types, day=plan_day())
    engine = await warm_engine(config, city)
    gc.collect()
    server.keep_out_of_gc()
    orders = instant(city.orders_for(args.orders, stream=1, prefix="o"))
    if args.expired:
        orders = [dataclasses.replace(o, earliest_start=city.now - 7200,
                                      latest_start=city.now - 3600) for o in orders]
    todo = iter(orders)

    async def client() -> None:
        for order in todo:  # one shared iterator: each order is sent once
            await engine.submit_orders([order], city.now, request_id=f"bench-{order.order_id}")

    profile = cProfile.Profile() if os.environ.get(CALLS) else None
    try:
        _callgrind(True)
        if profile:
            profile.enable()
        started = time.process_time()
        await asyncio.gather(*(client() for _ in range(args.clients)))
        cpu_s = time.process_time() - started
        if profile:
            profile.disable()
        _callgrind(False)
    finally:
        engine.close()
    report = {"cpu_us_per_order": 1e6 * cpu_s / len(orders)}
    if profile:
        report["calls"] = sum(entry.callcount for entry in profile.getstats())
    return report


def count_instructions(args, argv: list[str]) -> int:
    """Run this script under callgrind (counting the orders alone); the instructions."""
    if shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind (Debian package valgrind)")
    script = [a for a in argv if a != "--instructions"]
    run = subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
         sys.executable, __file__, *script], env=os.environ | {COUNTING: "1",
                                                              "PYTHONHASHSEED": "0"},
        capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def count_calls(args, argv: list[str]) -> int:
    """Run this script with its orders profiled (a fixed hash seed: the same calls every
    time); the Python function calls they made."""
    script = [a for a in argv if a not in ("--calls", "--instructions")]
    run = subprocess.run([sys.executable, __file__, *script],
                         env=os.environ | {CALLS: "1", "PYTHONHASHSEED": "0"},
                         capture_output=True, text=True, check=True)
    return json.loads(run.stdout.splitlines()[-1])["calls"]


def render(report: dict) -> str:
    p = report["params"]
    kind = "past their window (no search)" if p["expired"] else "instant"
    lines = [f"## Engine cost per order, in process: {p['orders']:,} {kind} orders, "
             f"{p['clients']} clients, {p['workers']:,} workers", "",
             "| measure | per order |", "| --- | --- |",
             f"| CPU time | {report['cpu_us_per_order']:.0f} us |"]
    if "instructions_per_order" in report:
        lines.append(f"| instructions (callgrind) | {report['instructions_per_order']:,.0f} |")
    if "python_calls_per_order" in report:
        lines.append(f"| Python function calls (cProfile) | {report['python_calls_per_order']:,.1f} |")
    lines += ["", f"`{report['command']}`, {report['date']}, commit {report['commit']}, "
              f"{report['machine']['cores']} cores ({report['machine']['platform']})."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    gc.set_threshold(server.GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    report = {"params": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
    report |= asyncio.run(measure(args))
    if os.environ.get(COUNTING):
        return report  # the counted copy: its parent reports
    if os.environ.get(CALLS):
        print(json.dumps({"calls": report["calls"]}))  # the last line its parent reads
        return report
    if args.instructions:
        report["instructions_per_order"] = count_instructions(args, argv) / args.orders
    if args.calls:
        report["python_calls_per_order"] = count_calls(args, argv) / args.orders
    report |= {"machine": machine(), "command": command(),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "commit": checkout_commit()}
    text = render(report)
    print(text)
    write_results(args.out, "engine_cpu_expired" if args.expired else "engine_cpu", text, report)
    return report


if __name__ == "__main__":
    main()
