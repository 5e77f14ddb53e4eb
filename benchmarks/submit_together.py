"""Benchmark: the engine's CPU per instant order, one request at a time vs requests answered
together (the drain of :meth:`matcher.engine.Engine.submit_orders`), in one process, no gRPC.

What is measured
----------------
The synthetic Shanghai of ``benchmarks/city.py`` (``--workers`` workers) is upserted into an
engine set up as the server sets it up (``benchmarks/warm_engine.py``: the memory store, its
``gather_turns``, every kernel loaded, 50 instant orders to warm it up), then
phases of ``--orders`` instant orders, each order its own SubmitOrders request with a request
id: "alone" phases await each request before sending the next; "together" phases send
``--group`` requests at once (``asyncio.gather``), which the engine answers in one drain. The
phases alternate alone, together, together, alone, ... (the days fill as they go, so each side
gets early and late phases). Reported: the process's CPU time per order per phase and the
medians per side.

    .venv/bin/python benchmarks/submit_together.py            # 20,000 workers, 8 phases
    .venv/bin/python benchmarks/submit_together.py --group 4
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

from benchmarks.city import make_city  # noqa: E402
from benchmarks.load import plan_day  # noqa: E402
from benchmarks.warm_engine import instant, warm_engine  # noqa: E402
from matcher.config import load_config  # noqa: E402
from matcher.engine import Engine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PATTERN = (1, 0, 0, 1)  # alone (1) or together (0), repeated


async def phase(engine: Engine, orders, now: int, group: int) -> float:
    """CPU seconds per order of submitting ``orders`` in groups of ``group`` at once."""
    started = time.process_time()
    for i in range(0, len(orders), group):
        await asyncio.gather(*(engine.submit_orders([o], now, f"q-{o.order_id}")
                               for o in orders[i:i + group]))
    return (time.process_time() - started) / len(orders)


async def run(args) -> dict[str, list[float]]:
    config = load_config(ROOT / "config" / "dispatch.toml")
    city = make_city(args.seed, args.workers, 1, config.service.service_types, day=plan_day())
    engine = await warm_engine(config, city)
    try:
        per_order: dict[str, list[float]] = {"alone": [], "together": []}
        for k in range(args.phases):
            alone = PATTERN[k % len(PATTERN)]
            orders = instant(city.orders_for(args.orders, stream=k + 1, prefix=f"p{k}o"))
            cpu = await phase(engine, orders, city.now, 1 if alone else args.group)
            per_order["alone" if alone else "together"].append(cpu * 1000)
            print(f"phase {k + 1}: {'alone' if alone else 'together'} "
                  f"{cpu * 1000:.2f} ms CPU per order", flush=True)
        return per_order
    finally:
        engine.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=800, help="instant orders per phase")
    parser.add_argument("--group", type=int, default=8, help="requests sent at once")
    parser.add_argument("--phases", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    per_order = asyncio.run(run(args))
    alone, together = (statistics.median(per_order[k]) for k in ("alone", "together"))
    print(f"\nmedian CPU per order: alone {alone:.2f} ms, {args.group} together "
          f"{together:.2f} ms, together / alone {together / alone:.2f}")


if __name__ == "__main__":
    main()
