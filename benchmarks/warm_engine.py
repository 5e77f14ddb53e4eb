"""An engine set up as the server sets it up, for the in-process benchmarks: the memory store
timed for its metrics, every compiled kernel loaded, the city's workers upserted and a few
untimed instant orders placed (the first builds the worker table and its indexes)."""

from __future__ import annotations

import dataclasses

import server
from matcher import metrics
from matcher.config import DispatchConfig
from matcher.engine import Engine
from matcher.model import DispatchMode
from matcher.store import MemoryStore
from simulations.synthetic_city import City

WARM_ORDERS = 50


def instant(orders: list) -> list:
    return [dataclasses.replace(o, mode=DispatchMode.INSTANT) for o in orders]


async def warm_engine(config: DispatchConfig, city: City) -> Engine:
    engine = Engine(metrics.TimedStore(MemoryStore()), config, gather_turns=server.GATHER_TURNS)
    server.warm_up_kernels(engine.planner.day_rules)
    await engine.upsert_workers(city.workers, now=city.now)
    for order in instant(city.orders_for(WARM_ORDERS, stream=0, prefix="warm")):
        await engine.submit_orders([order], city.now)
    return engine
