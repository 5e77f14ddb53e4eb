"""Load test: instant dispatch over gRPC against a server with 20,000 workers.

What is measured
----------------
A real server (``server.py`` in its own process, memory store unless ``--store`` names a Redis
URL) on 127.0.0.1 gets the synthetic Shanghai of ``benchmarks/city.py`` (``--workers`` workers,
upserted over gRPC, then ``--warmup`` instant orders untimed: the first dispatch after the
workers changed builds the worker table). This process is the client: ``grpc.aio`` on one channel, ``--concurrency``
requests in flight at most (a closed loop: each client sends its next request when the last one
is answered). Per run it measures, back to back on the same server:

- **the transport's ceiling**: ``--calls`` trivial RPCs, ``GetConfig`` (it renders the config
  as TOML) and the standard health ``Check`` (nothing behind it);
- **a retry**: one instant order placed, then its ``SubmitOrders`` request sent ``--calls``
  times again (the same request id: answered from the request-id memory): what the RPC costs
  around a dispatch, parsing, limits, the fingerprint, the lookup and the answer;
- **an order past its window**: ``--calls`` instant orders whose start window ended an hour
  before ``as_of_time``, each in its own request: accepted, written, refused as expired without
  a search and answered, so what an instant order costs besides its search and placement;
- **instant dispatch**: ``--orders`` orders, one per ``SubmitOrders`` request in mode INSTANT
  with a request id and ``as_of_time`` (as a platform would send them), each placed or refused
  before its answer comes back. Every run sends new orders (another stream of the same day).

With ``--reoptimise S``, after the runs: instant orders of a new stream, sent as above for as
long as one ``OptimizePlans`` of ``--reoptimise-workers`` workers (the first by id) with a time
limit of S seconds searches (it started first): does dispatch go on while the routing solver
works, and what came of the re-optimisation (improved, kept, or ABORTED because dispatch
changed what it read).

Reported per phase: throughput (requests per second over the phase's wall time) and the p50,
p99 and p99.9 latency of one request; the ratio of instant dispatch's throughput to the faster
trivial RPC's (the stricter ceiling); the server's CPU seconds per request in the phase;
and the share of the phase's wall time its main thread was busy (it runs the event loop, every
handler and the engine: near 100%, the phase is bound by the server's one thread).
Medians over ``--runs`` runs. The machine has 2 cores shared by the client and the server (and
whatever else runs), so the client's own cost is inside every number, for the trivial RPC too.

The city's day is two days after today (Shanghai time), planned as of 07:00 that day, so the
server's own clock (its offer and certificate checks every second) stays before the planning
time and leaves the offers alone, as on a real morning before the day starts.

Targets (issue 7): at least 1,000 orders/s, p99 under 20 ms, and at least a third of the
trivial RPC's throughput in the same run.

How to run
----------
From the repo root::

    make bench-load                                    # = .venv/bin/python benchmarks/load.py
    .venv/bin/python benchmarks/load.py --quick        # 2,000 workers, 300 orders, 1 run
    .venv/bin/python benchmarks/load.py --target 127.0.0.1:50051   # a server already running
                                                       # (it gets the workers upserted)

The table is printed and written to ``benchmarks/results/load.md`` and ``load.json``
(``load_quick.*`` with ``--quick``).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "proto"))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import dataclasses  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import zoneinfo  # noqa: E402
from collections.abc import Awaitable, Callable, Sequence  # noqa: E402

import grpc  # noqa: E402
import numpy as np  # noqa: E402
from google.protobuf import timestamp_pb2  # noqa: E402
from grpc_health.v1 import health_pb2, health_pb2_grpc  # noqa: E402

from benchmarks.city import TIMEZONE, make_city  # noqa: E402
from benchmarks.dispatch_round import (checkout_commit, command, machine,  # noqa: E402
                                       write_results)
from homedispatch.v1 import dispatch_pb2 as pb  # noqa: E402
from homedispatch.v1 import dispatch_pb2_grpc as pb_grpc  # noqa: E402
from matcher.config import load_config  # noqa: E402
from matcher.model import DispatchMode  # noqa: E402
from server import order_to_proto, worker_to_proto  # noqa: E402

TARGET_RATE, TARGET_P99_MS, TARGET_RATIO = 1000.0, 20.0, 1 / 3
UPSERT_BATCH = 500      # workers per UpsertWorkers request
STARTUP_S = 60.0        # how long a started server may take to answer health checks


@dataclasses.dataclass(frozen=True, slots=True)
class Phase:
    """One phase of a run: how many requests, their wall time, every latency (seconds), and the
    server's CPU seconds meanwhile (None when the server is not ours to watch)."""

    requests: int
    seconds: float
    latencies: list[float]
    server_cpu_s: float | None
    server_main_s: float | None = None  # the CPU seconds of its main thread alone

    def summary(self) -> dict:
        ms = 1000 * np.asarray(self.latencies)
        return {"requests": self.requests, "seconds": self.seconds,
                "per_s": self.requests / self.seconds,
                "p50_ms": float(np.percentile(ms, 50)), "p99_ms": float(np.percentile(ms, 99)),
                "p999_ms": float(np.percentile(ms, 99.9)),
                "server_cpu_ms_per_request": (None if self.server_cpu_s is None
                                              else 1000 * self.server_cpu_s / self.requests),
                "server_main_busy": (None if self.server_main_s is None
                                     else self.server_main_s / self.seconds),
                "server_main_ms_per_request": (None if self.server_main_s is None
                                               else 1000 * self.server_main_s / self.requests)}


class ServerProcess:
    """``server.py`` in a child process on a free loopback port, its log in ``log_path``."""

    def __init__(self, config: Path, log_path: Path, store: str) -> None:
        self.port = _free_port()
        env = dict(os.environ)
        if store:
            env["HOME_DISPATCH_STORE"] = store
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "server.py"), "--config", str(config),
             "--listen", f"127.0.0.1:{self.port}"],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def cpu_seconds(self) -> tuple[float, float]:
        """User and system CPU time so far (Linux /proc) of the server process, and of its
        main thread alone: the one thread that runs the event loop, every RPC's handler and
        the engine (in nanoseconds where the kernel keeps its schedstat: the clock ticks of
        ``stat`` are 10 ms, too coarse for a phase of a few tenths of a second)."""
        pid = self.process.pid
        return (_proc_cpu_s(Path(f"/proc/{pid}/stat")),
                _thread_cpu_s(Path(f"/proc/{pid}/task/{pid}")))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def _proc_cpu_s(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _thread_cpu_s(task: Path) -> float:
    schedstat = task / "schedstat"
    if schedstat.exists():
        return int(schedstat.read_text().split()[0]) / 1e9
    return _proc_cpu_s(task / "stat")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_serving(channel: grpc.aio.Channel, server: ServerProcess | None) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + STARTUP_S
    while True:
        if server is not None and server.process.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.process.returncode}")
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=2)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.aio.AioRpcError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no healthy server within {STARTUP_S:.0f} s")
        await asyncio.sleep(0.2)


async def closed_loop(requests: Sequence[Callable[[], Awaitable]], concurrency: int,
                      cpu: Callable[[], tuple[float, float]] | None) -> Phase:
    """Send ``requests`` with at most ``concurrency`` in flight; time each one (and, with
    ``cpu``, the server's CPU seconds meanwhile: the process's and its main thread's)."""
    todo = iter(requests)
    latencies: list[float] = []

    async def client() -> None:
        for call in todo:  # one shared iterator: each request is sent once
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    cpu_before = cpu() if cpu else None
    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    if cpu is None:
        return Phase(len(requests), seconds, latencies, None)
    used, main = (after - before for after, before in zip(cpu(), cpu_before))
    return Phase(len(requests), seconds, latencies, used, main)


def plan_day() -> dt.date:
    """Two days after today in Shanghai: the server's clock stays before the planned morning."""
    return dt.datetime.now(zoneinfo.ZoneInfo(TIMEZONE)).date() + dt.timedelta(days=2)


async def upsert(stub: pb_grpc.DispatchServiceStub, workers) -> float:
    started = time.perf_counter()
    for i in range(0, len(workers), UPSERT_BATCH):
        chunk = workers[i:i + UPSERT_BATCH]
        await stub.UpsertWorkers(pb.UpsertWorkersRequest(
            workers=[worker_to_proto(w) for w in chunk], request_id=f"load-workers-{i}"),
            timeout=120)
    return time.perf_counter() - started


async def warm_up(stub, city, n: int) -> None:
    """``n`` instant orders (stream 0), untimed: the server builds its worker table and
    per-skill indexes on the first dispatch after the workers changed."""
    as_of = timestamp_pb2.Timestamp(seconds=city.now)
    for order in city.orders_for(n, stream=0, prefix="warm"):
        order = dataclasses.replace(order, mode=DispatchMode.INSTANT)
        await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_to_proto(order)],
                                                       as_of_time=as_of), timeout=120)


async def one_run(stub, health_stub, city, k: int, args, cpu) -> dict:
    """The trivial RPCs, then the instant orders of stream ``k``."""
    trivial = {}
    config_call = lambda: stub.GetConfig(pb.GetConfigRequest(), timeout=30)  # noqa: E731
    check_call = lambda: health_stub.Check(health_pb2.HealthCheckRequest(),  # noqa: E731
                                           timeout=30)
    for name, call in (("GetConfig", config_call), ("health Check", check_call)):
        phase = await closed_loop([call] * args.calls, args.concurrency, cpu)
        trivial[name] = phase.summary()
    orders = [dataclasses.replace(o, mode=DispatchMode.INSTANT)
              for o in city.orders_for(args.orders, stream=k + 1, prefix=f"r{k}o")]
    as_of = timestamp_pb2.Timestamp(seconds=city.now)
    # the RPC's own cost without a search: one order placed, then its request sent again
    # and again (each retry is answered from the request-id memory)
    placed = dataclasses.replace(city.orders_for(1, stream=1000 + k, prefix=f"r{k}retry")[0],
                                 mode=DispatchMode.INSTANT)
    again = pb.SubmitOrdersRequest(orders=[order_to_proto(placed)], as_of_time=as_of,
                                   request_id=f"load-retry-{k}")
    await stub.SubmitOrders(again, timeout=60)
    retry_call = lambda: stub.SubmitOrders(again, timeout=30)  # noqa: E731

    def submit(order, outcome=None):
        """One order in its own request (its answer counted in ``outcome`` when given)."""
        request = pb.SubmitOrdersRequest(orders=[order_to_proto(order)], as_of_time=as_of,
                                         request_id=f"load-{order.order_id}")

        async def call():
            reply = await stub.SubmitOrders(request, timeout=60)
            if outcome is not None:
                outcome["assigned"] += len(reply.assignments) > 0
                outcome["unassigned"] += len(reply.unassigned) > 0
        return call

    retry = (await closed_loop([retry_call] * args.calls, args.concurrency, cpu)).summary()
    past = [dataclasses.replace(o, mode=DispatchMode.INSTANT, earliest_start=city.now - 7200,
                                latest_start=city.now - 3600)
            for o in city.orders_for(args.calls, stream=2000 + k, prefix=f"r{k}past")]
    expired = (await closed_loop([submit(o) for o in past], args.concurrency, cpu)).summary()
    outcome = {"assigned": 0, "unassigned": 0}
    phase = await closed_loop([submit(o, outcome) for o in orders], args.concurrency, cpu)
    instant = {**phase.summary(), **outcome}
    ceiling = max(trivial.values(), key=lambda t: t["per_s"])
    return {"trivial": trivial, "retry": retry, "expired": expired, "instant": instant,
            "ratio": instant["per_s"] / ceiling["per_s"]}


async def while_reoptimising(stub, city, args, cpu) -> dict:
    """Instant orders (stream 900) sent with ``args.concurrency`` in flight for as long as one
    OptimizePlans of the first ``args.reoptimise_workers`` workers searches."""
    as_of = timestamp_pb2.Timestamp(seconds=city.now)
    request = pb.OptimizePlansRequest(
        worker_ids=sorted(w.worker_id for w in city.workers)[:args.reoptimise_workers],
        as_of_time=as_of)
    request.time_limit.FromNanoseconds(int(args.reoptimise * 1e9))
    orders = iter([dataclasses.replace(o, mode=DispatchMode.INSTANT) for o in
                   city.orders_for(int(2000 * (args.reoptimise + 5)), stream=900,
                                   prefix="reopt")])
    started = time.perf_counter()
    search = asyncio.ensure_future(stub.OptimizePlans(request, timeout=10 * args.reoptimise + 60))
    latencies: list[float] = []

    async def client() -> None:
        for order in orders:
            if search.done():
                return
            sent = time.perf_counter()
            await stub.SubmitOrders(pb.SubmitOrdersRequest(
                orders=[order_to_proto(order)], as_of_time=as_of,
                request_id=f"load-{order.order_id}"), timeout=60)
            latencies.append(time.perf_counter() - sent)

    cpu_before = cpu() if cpu else None
    await asyncio.gather(*(client() for _ in range(args.concurrency)))
    phase_s = time.perf_counter() - started
    try:
        answer = await search
        outcome = "improved" if answer.improved else "kept the plans"
    except grpc.aio.AioRpcError as error:
        outcome = f"{error.code().name}: {error.details()}"
    used, main = ((after - before for after, before in zip(cpu(), cpu_before)) if cpu
                  else (None, None))
    phase = Phase(len(latencies), phase_s, latencies, used, main).summary()
    return {**phase, "search_s": time.perf_counter() - started, "outcome": outcome,
            "workers": args.reoptimise_workers, "time_limit_s": args.reoptimise}


async def run(args) -> dict:
    config = load_config(args.config)
    city = make_city(args.seed, args.workers, 1, config.service.service_types,
                     day=plan_day())
    server = None
    with tempfile.TemporaryDirectory() as folder:
        if not args.target:
            server = ServerProcess(args.config, Path(folder) / "server.log", args.store)
        address = args.target or server.address
        try:
            async with grpc.aio.insecure_channel(address) as channel:
                await wait_serving(channel, server)
                stub = pb_grpc.DispatchServiceStub(channel)
                health_stub = health_pb2_grpc.HealthStub(channel)
                upsert_s = await upsert(stub, city.workers)
                await warm_up(stub, city, args.warmup)
                cpu = server.cpu_seconds if server else None
                runs = [await one_run(stub, health_stub, city, k, args, cpu)
                        for k in range(args.runs)]
                during = (await while_reoptimising(stub, city, args, cpu)
                          if args.reoptimise else None)
        finally:
            if server is not None:
                server.stop()
    return {"params": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "upsert_s": upsert_s, "runs": runs, "while_reoptimising": during,
            "machine": machine(), "command": command(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "server": "started by the benchmark" if server else args.target}


def _median(values) -> float:
    return statistics.median(values)


def render(report: dict) -> str:
    p, runs = report["params"], report["runs"]
    lines = [f"## Load: instant dispatch over gRPC, {p['workers']:,} workers, "
             f"{p['concurrency']} requests in flight (median of {len(runs)} runs)", "",
             "| RPC | requests per run | per second | p50 | p99 | p99.9 | server CPU per request "
             "| server main thread per request | server main thread busy |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def row(name: str, pick: Callable[[dict], dict]) -> str:
        m = lambda key: _median(pick(r)[key] for r in runs)  # noqa: E731
        cpu = [pick(r)["server_cpu_ms_per_request"] for r in runs]
        cpu_text = f"{_median(cpu):.2f} ms" if None not in cpu else "n/a"
        main = [pick(r).get("server_main_ms_per_request") for r in runs]
        main_text = f"{_median(main):.3f} ms" if None not in main else "n/a"
        busy = [pick(r).get("server_main_busy") for r in runs]
        busy_text = f"{_median(busy):.0%}" if None not in busy else "n/a"
        return (f"| {name} | {pick(runs[0])['requests']:,} | {m('per_s'):.0f} "
                f"| {m('p50_ms'):.2f} ms | {m('p99_ms'):.2f} ms | {m('p999_ms'):.2f} ms "
                f"| {cpu_text} | {main_text} | {busy_text} |")

    for name in runs[0]["trivial"]:
        lines.append(row(f"{name} (trivial)", lambda r, n=name: r["trivial"][n]))
    if "retry" in runs[0]:
        lines.append(row("SubmitOrders, a retry (answered from memory)", lambda r: r["retry"]))
    if "expired" in runs[0]:
        lines.append(row("SubmitOrders, 1 instant order past its window (no search)",
                         lambda r: r["expired"]))
    lines.append(row("SubmitOrders, 1 instant order", lambda r: r["instant"]))
    during = report.get("while_reoptimising")
    if during:
        lines.append(row(f"SubmitOrders, 1 instant order, while OptimizePlans searches "
                         f"(1 run)", lambda r: during))
    rate = _median(r["instant"]["per_s"] for r in runs)
    p99 = _median(r["instant"]["p99_ms"] for r in runs)
    ratio = _median(r["ratio"] for r in runs)
    assigned = _median(r["instant"]["assigned"] / r["instant"]["requests"] for r in runs)
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    lines += ["", f"Instant dispatch / the faster trivial RPC, throughput: **{ratio:.2f}** (per "
              "run: " + ", ".join(f"{r['ratio']:.2f}" for r in runs) + "). "
              f"Orders placed at once: {assigned:.0%}." + _retry_share(runs)
              + _main_thread_share(runs), "",
              "The server runs every handler and the engine on one thread (its event loop): "
              "a phase whose main thread is busy nearly all the time is bound by the server's "
              "one core, one where it is not by the client and the rest of the machine.", "",
              f"Targets: at least {TARGET_RATE:,.0f} orders/s: {rate:,.0f}, "
              f"{verdict(rate >= TARGET_RATE)}; p99 under {TARGET_P99_MS:.0f} ms: {p99:.1f} ms, "
              f"{verdict(p99 < TARGET_P99_MS)}; at least a third of the trivial RPC: "
              f"{ratio:.2f}, {verdict(ratio >= TARGET_RATIO)}.", "",
              f"`{report['command']}`, {report['date']}, {report['machine']['cores']} cores "
              f"({report['machine']['platform']}, Python {report['machine']['python']}); "
              f"server: {report['server']}, store {p['store'] or 'memory'}; "
              f"{p['workers']:,} workers upserted in {report['upsert_s']:.1f} s."]
    if during:
        lines += ["", f"While reoptimising: OptimizePlans of {during['workers']:,} workers with a "
                  f"{during['time_limit_s']:g} s time limit answered after "
                  f"{during['search_s']:.1f} s ({during['outcome']}); meanwhile "
                  f"{during['requests']:,} instant orders were answered."]
    return "\n".join(lines) + "\n"


def _main_thread_share(runs: list[dict]) -> str:
    """An instant order's time on the server's main thread, in trivial calls' worth, and the
    most it may take there for instant dispatch to reach a third of the faster trivial RPC's
    rate while that thread is its bound (98-99% busy here)."""
    if runs[0]["instant"].get("server_main_ms_per_request") is None:
        return ""
    trivial = max(runs[0]["trivial"], key=lambda n: _median(r["trivial"][n]["per_s"]
                                                            for r in runs))
    call = _median(r["trivial"][trivial]["server_main_ms_per_request"] for r in runs)
    rate = _median(r["trivial"][trivial]["per_s"] for r in runs)
    order = _median(r["instant"]["server_main_ms_per_request"] for r in runs)
    return (f" On the server's main thread an instant order took {order:.3f} ms, "
            f"{order / call:.1f} {trivial} calls' worth ({call:.3f} ms each); a third of "
            f"{trivial}'s {rate:,.0f}/s leaves it {3000 / rate:.3f} ms there at most.")


def _retry_share(runs: list[dict]) -> str:
    """What the search costs beside the RPC around it: instant dispatch's server CPU per order
    less a retry's, as a share of it."""
    if "retry" not in runs[0] or runs[0]["retry"]["server_cpu_ms_per_request"] is None:
        return ""
    order = _median(r["instant"]["server_cpu_ms_per_request"] for r in runs)
    rpc = _median(r["retry"]["server_cpu_ms_per_request"] for r in runs)
    text = (f" A retry of SubmitOrders (the same request id: parsed, checked, looked up and "
            f"answered, no search) costs {rpc:.2f} ms of server CPU, so the dispatch itself is "
            f"{order - rpc:.2f} ms of an instant order's {order:.2f} ms.")
    if "expired" not in runs[0]:
        return text
    late = _median(r["expired"]["server_cpu_ms_per_request"] for r in runs)
    return text + (f" An order past its window (accepted, written and refused, no search) "
                   f"costs {late:.2f} ms: the search and the placement are "
                   f"{order - late:.2f} ms.")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=3000, help="instant orders per run")
    parser.add_argument("--calls", type=int, default=3000, help="trivial RPCs per run, each")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at most")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=50,
                        help="untimed instant orders sent first, one at a time")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--config", type=Path, default=REPO / "config" / "dispatch.toml")
    parser.add_argument("--store", default="", help="a Redis URL for the started server "
                                                    "(default: the config's store)")
    parser.add_argument("--target", default="", help="HOST:PORT of a running server "
                                                     "(default: start one)")
    parser.add_argument("--reoptimise", type=float, default=0.0, metavar="S",
                        help="after the runs, instant orders while an OptimizePlans with this "
                             "time limit searches (0: not measured)")
    parser.add_argument("--reoptimise-workers", type=int, default=500,
                        help="workers that OptimizePlans re-optimises (the first by id)")
    parser.add_argument("--quick", action="store_true", help="2,000 workers, 300 orders, 1 run")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--before", type=Path, help="a load.json of an earlier version, "
                        "measured the same way: its medians are shown beside these, as ratios")
    args = parser.parse_args(argv)
    if args.quick:
        args.workers, args.orders, args.calls, args.runs = 2000, 300, 300, 1
    return args


def compare(report: dict, before: dict, name: str) -> str:
    """This run's medians beside an earlier version's (``name``), as ratios."""
    def medians(r: dict) -> dict:
        return {key: _median(run["instant"][key] for run in r["runs"])
                for key in ("per_s", "p50_ms", "p99_ms", "p999_ms",
                            "server_cpu_ms_per_request")}
    now, then = medians(report), medians(before)
    ratio = _median(r["ratio"] for r in report["runs"])
    ratio_then = _median(r["ratio"] for r in before["runs"])
    lines = ["", f"### Instant dispatch before and after (before: `{name}`, "
             f"{before['date']}, commit {before.get('commit', '?')})", "",
             "| | orders/s | p50 | p99 | p99.9 | server CPU per order | / trivial RPC |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for label, m, r in (("before", then, ratio_then), ("after", now, ratio)):
        lines.append(f"| {label} | {m['per_s']:.0f} | {m['p50_ms']:.1f} ms | {m['p99_ms']:.1f} ms "
                     f"| {m['p999_ms']:.1f} ms | {m['server_cpu_ms_per_request']:.2f} ms "
                     f"| {r:.2f} |")
    lines.append(f"| after / before | {now['per_s'] / then['per_s']:.1f}x "
                 f"| {now['p50_ms'] / then['p50_ms']:.2f} | {now['p99_ms'] / then['p99_ms']:.2f} "
                 f"| {now['p999_ms'] / then['p999_ms']:.2f} "
                 f"| {now['server_cpu_ms_per_request'] / then['server_cpu_ms_per_request']:.2f} "
                 f"| {ratio / ratio_then:.1f}x |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    report["commit"] = checkout_commit()
    text = render(report)
    if args.before:
        report["before"] = json.loads(args.before.read_text())
        text += compare(report, report["before"], args.before.name)
    print(text)
    write_results(args.out, "load_quick" if args.quick else "load", text, report)
    return report


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
