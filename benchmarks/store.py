"""Benchmark: the same instant-dispatch workload on the memory store and on the Redis store.

What is measured
----------------
A synthetic Shanghai (``benchmarks/city.py``) of ``--workers`` workers is upserted into an
engine on each store; then ``--orders`` orders of one day are submitted one request at a time
in instant mode (each placed, or refused, before the next comes), by ``--clients`` concurrent
clients. Reported per store: orders per second over the whole stream and the p50 / p99 latency
of one instant SubmitOrders, and the ratio Redis / memory of the throughput, all from one run
(the two stores back to back, median of ``--runs`` runs). Redis is a redis-server this script
starts on a free loopback port (AOF on, ``appendfsync everysec``, as the README asks).
Target (issue 5): the Redis store keeps at least half the memory store's throughput.

It also times candidate retrieval both ways: the 48 nearest workers of every order, from the
in-process spatial index the worker table keeps (``geo.SpatialIndex``, what dispatch uses) and
from a Redis geo set (``GEOADD`` of every home, one ``GEOSEARCH ... COUNT 48 ASC`` per order,
pipelined): the choice between the two, measured.

How to run
----------
From the repo root::

    .venv/bin/python benchmarks/store.py                 # 5,000 workers, 1,000 orders, 3 runs
    .venv/bin/python benchmarks/store.py --quick         # a smoke run

The table is printed and written to ``benchmarks/results/store.md`` and ``store.json``.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import dataclasses  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from benchmarks.city import make_city  # noqa: E402
from geo import SpatialIndex  # noqa: E402
from benchmarks.dispatch_round import command, machine  # noqa: E402
from matcher.config import DispatchConfig, load_config  # noqa: E402
from matcher.engine import Engine  # noqa: E402
from matcher.model import DispatchMode  # noqa: E402
from matcher.redis_store import RedisStore  # noqa: E402
from matcher.store import MemoryStore  # noqa: E402
from tests.redis_process import RedisProcess  # noqa: E402

TARGET_RATIO = 0.5


async def stream(engine: Engine, orders, clients: int, now: int) -> tuple[float, list[float]]:
    """Submit ``orders`` one per request from ``clients`` concurrent clients; the wall time and
    every request's latency."""
    queue = list(orders)
    latencies: list[float] = []

    async def client() -> None:
        while queue:
            order = queue.pop(0)
            started = time.perf_counter()
            await engine.submit_orders([order], now)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - started, latencies


async def measure(store, config: DispatchConfig, city, args) -> dict:
    engine = Engine(store, config)
    try:
        await engine.upsert_workers(city.workers, now=city.now)
        orders = [dataclasses.replace(o, mode=DispatchMode.INSTANT) for o in city.orders]
        seconds, latencies = await stream(engine, orders, args.clients, city.now)
        placed = sum(1 for jobs in (await store.plans()).values() for _ in jobs)
    finally:
        engine.close()
    return {"seconds": seconds, "orders_per_s": len(orders) / seconds,
            "p50_ms": 1000 * float(np.percentile(latencies, 50)),
            "p99_ms": 1000 * float(np.percentile(latencies, 99)), "placed": placed}


async def retrieval(url: str, city, k: int = 48) -> dict:
    """Per order, the ``k`` nearest workers: in process, and by GEOSEARCH."""
    lat = np.array([w.home_lat for w in city.workers])
    lon = np.array([w.home_lon for w in city.workers])
    qlat = np.array([o.lat for o in city.orders])
    qlon = np.array([o.lon for o in city.orders])
    started = time.perf_counter()
    index = SpatialIndex(lat, lon)
    built = time.perf_counter() - started
    started = time.perf_counter()
    index.nearest_many(qlat, qlon, k)
    local = time.perf_counter() - started
    client = aioredis.Redis.from_url(url)
    try:
        key = "bench:geo"
        await client.delete(key)
        started = time.perf_counter()
        for i in range(0, len(city.workers), 1000):
            await client.geoadd(key, [v for w in city.workers[i:i + 1000]
                                      for v in (w.home_lon, w.home_lat, w.worker_id)])
        loaded = time.perf_counter() - started
        started = time.perf_counter()
        async with client.pipeline(transaction=False) as pipe:
            for o in city.orders:
                pipe.geosearch(key, longitude=o.lon, latitude=o.lat, radius=50, unit="km",
                               sort="ASC", count=k)
            found = await pipe.execute()
        remote = time.perf_counter() - started
        assert all(len(f) == min(k, len(city.workers)) for f in found)
    finally:
        await client.aclose()
    n = len(city.orders)
    return {"queries": n, "k": k, "index_build_s": built, "geoadd_s": loaded,
            "local_us": 1e6 * local / n, "redis_us": 1e6 * remote / n}


async def run(args) -> dict:
    config = load_config(REPO / "config" / "dispatch.toml")
    city = make_city(args.seed, args.workers, args.orders, config.service.service_types)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        redis = RedisProcess(folder).start()
        try:
            for k in range(args.runs):
                memory = await measure(MemoryStore(), config, city, args)
                store = RedisStore(redis.url, prefix=f"bench{k}")
                try:
                    remote = await measure(store, config, city, args)
                finally:
                    await store.close()
                runs.append({"memory": memory, "redis": remote,
                             "ratio": remote["orders_per_s"] / memory["orders_per_s"]})
            geo = await retrieval(redis.url, city)
        finally:
            redis.kill()
    return {"params": {**vars(args), "out": str(args.out)}, "runs": runs, "retrieval": geo, "machine": machine(), "command": command(),
            "date": time.strftime("%Y-%m-%d")}


def median(runs: list[dict], store: str, key: str) -> float:
    return statistics.median(r[store][key] for r in runs)


def render(report: dict) -> str:
    p, runs = report["params"], report["runs"]
    ratio = statistics.median(r["ratio"] for r in runs)
    lines = [f"## Instant dispatch by store: {p['workers']:,} workers, {p['orders']:,} orders, "
             f"{p['clients']} clients (median of {len(runs)} runs)", "",
             "| store | orders/s | p50 latency | p99 latency | jobs placed |",
             "| --- | --- | --- | --- | --- |"]
    for store in ("memory", "redis"):
        lines.append(f"| {store} | {median(runs, store, 'orders_per_s'):.0f} "
                     f"| {median(runs, store, 'p50_ms'):.1f} ms "
                     f"| {median(runs, store, 'p99_ms'):.1f} ms "
                     f"| {median(runs, store, 'placed'):.0f} |")
    verdict = "met" if ratio >= TARGET_RATIO else "**not met**"
    lines += ["", f"Throughput ratio Redis / memory: **{ratio:.2f}** (per run: "
              + ", ".join(f"{r['ratio']:.2f}" for r in runs)
              + f"); target at least {TARGET_RATIO}: {verdict}.", "",
              f"`{report['command']}`, {report['date']}, {report['machine']['cores']} cores."]
    g = report["retrieval"]
    lines += ["", f"Candidate retrieval, the {g['k']} nearest workers of each of {g['queries']:,} "
              "orders:", "", "| where | per order | set-up |", "| --- | --- | --- |",
              f"| in-process spatial index (what dispatch uses) | {g['local_us']:.0f} µs "
              f"| built in {g['index_build_s'] * 1000:.0f} ms |",
              f"| Redis GEOSEARCH, pipelined | {g['redis_us']:.0f} µs "
              f"| GEOADD in {g['geoadd_s'] * 1000:.0f} ms |"]
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=5000)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="500 workers, 100 orders, 1 run")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args(argv)
    if args.quick:
        args.workers, args.orders, args.runs = 500, 100, 1
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    text = render(report)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "store_quick" if args.quick else "store"  # (a smoke run keeps the full results)
    (args.out / f"{name}.md").write_text(text)
    (args.out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
