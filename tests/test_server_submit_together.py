"""Concurrent SubmitOrders calls through the real server are answered together (the engine's
drain) and get exactly the answers the same calls get one at a time."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
import numpy as np
from google.protobuf import timestamp_pb2

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.model import DispatchMode
from server import order_to_proto, start_server, worker_to_proto
from tests.builders import at
from tests.city import random_orders, random_workers
from tests.matcher.test_submit_together import CountingStore

NOW = at(6)


async def served(config, store, calls):
    """Start a server on ``store`` (its clock stopped at NOW), run ``calls(stub, engine)``,
    stop."""
    running = await start_server(config, "127.0.0.1:0", clock=lambda: NOW, store=store)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            return await calls(dispatch_pb2_grpc.DispatchServiceStub(channel), running.engine)
    finally:
        await running.stop(0)


async def test_concurrent_calls_get_the_answers_of_calls_one_at_a_time(config):
    """The calls queue while the engine is busy; then the same calls one at a time on another
    server, in the order they queued, give the same answers."""
    rng = np.random.default_rng(5)
    workers = random_workers(rng, 60, spread=0.03)
    orders = [dataclasses.replace(o, mode=DispatchMode.INSTANT, blocked_worker_ids=frozenset())
              for o in random_orders(rng, 40, 60, spread=0.03)]
    as_of = timestamp_pb2.Timestamp(seconds=NOW)
    requests = {f"r{i}": pb.SubmitOrdersRequest(orders=[order_to_proto(o)], as_of_time=as_of,
                                                request_id=f"r{i}")
                for i, o in enumerate(orders)}
    queued: list[str] = []

    async def upsert(stub):
        await stub.UpsertWorkers(pb.UpsertWorkersRequest(
            workers=[worker_to_proto(w) for w in workers]))

    async def concurrently(stub, engine):
        await upsert(stub)
        async with engine._lock:  # busy: the calls queue up as they arrive
            calls = {rid: asyncio.ensure_future(stub.SubmitOrders(r))
                     for rid, r in requests.items()}
            for _ in range(3000):  # at most 30 s
                if len(engine._submits) == len(requests):
                    break
                await asyncio.sleep(0.01)
            assert len(engine._submits) == len(requests)
            queued.extend(r.request_id for r in engine._submits)
        return {rid: await call for rid, call in calls.items()}

    async def one_by_one(stub, engine):
        await upsert(stub)
        return {rid: await stub.SubmitOrders(requests[rid]) for rid in queued}

    store = CountingStore()
    got = await served(config, store, concurrently)
    expected = await served(config, CountingStore(), one_by_one)
    assert got == expected
    assert sum(len(r.assignments) for r in got.values()) > 0
    assert store.views < len(requests)  # planned together
