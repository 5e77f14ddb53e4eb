"""Request size and batch limits from the config: refused with the limit in the message, and
nothing of the refused request applied."""

from __future__ import annotations

import dataclasses

import grpc
import pytest

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.config import RequestsConfig, ServerConfig
from server import start_server
from tests.builders import at
from tests.test_server import AS_OF, order_pb, ts, worker_pb

SMALL = RequestsConfig(max_workers_per_upsert=2, max_orders_per_submit=2,
                       max_order_ids_per_dispatch=2, max_worker_ids_per_optimize=2,
                       max_list_items=2, max_id_length=20, max_top_k=3)


@pytest.fixture
async def small(config):
    running = await start_server(dataclasses.replace(config, requests=SMALL), "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield running, dispatch_pb2_grpc.DispatchServiceStub(channel)
    finally:
        await running.stop(0)


def orders(n: int) -> list[pb.Order]:
    return [order_pb(f"o{i}", earliest_start=at(9 + i), latest_start=at(9 + i))
            for i in range(n)]


CASES = {
    "workers": (lambda stub: stub.UpsertWorkers(pb.UpsertWorkersRequest(
        workers=[worker_pb(f"w{i}") for i in range(3)])), "max_workers_per_upsert", 2),
    "orders": (lambda stub: stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=orders(3), as_of_time=ts(AS_OF))), "max_orders_per_submit", 2),
    "order_ids": (lambda stub: stub.Dispatch(pb.DispatchRequest(
        order_ids=["o0", "o1", "o2"], as_of_time=ts(AS_OF))), "max_order_ids_per_dispatch", 2),
    "worker_ids": (lambda stub: stub.OptimizePlans(pb.OptimizePlansRequest(
        worker_ids=["w0", "w1", "w2"], as_of_time=ts(AS_OF))), "max_worker_ids_per_optimize",
                   2),
    "workers[0].tags": (lambda stub: stub.UpsertWorkers(pb.UpsertWorkersRequest(
        workers=[worker_pb("w9", tags=frozenset({"a", "b", "c"}))])), "max_list_items", 2),
    "orders[0].blocked_worker_ids": (lambda stub: stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order_pb("o9", blocked_worker_ids=frozenset({"x", "y", "z"}))],
        as_of_time=ts(AS_OF))), "max_list_items", 2),
    "orders[0].order_id": (lambda stub: stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order_pb("o" * 21)], as_of_time=ts(AS_OF))), "max_id_length", 20),
    "request_id": (lambda stub: stub.CancelOrder(pb.CancelOrderRequest(
        order_id="o0", request_id="r" * 21)), "max_id_length", 20),
    "top_k": (lambda stub: stub.ExplainOrder(pb.ExplainOrderRequest(
        order_id="o0", top_k=4)), "max_top_k", 3),
}


@pytest.mark.parametrize("field", sorted(CASES))
async def test_a_request_over_a_limit_is_refused_naming_field_and_limit(small, refused, field):
    running, stub = small
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w0")]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=orders(1), as_of_time=ts(AS_OF)))
    before = await _state(running)
    call, key, limit = CASES[field]
    error, _, _ = await refused(call(stub), grpc.StatusCode.INVALID_ARGUMENT, field)
    assert f"requests.{key}" in error.details() and str(limit) in error.details()
    assert await _state(running) == before


async def test_at_the_limit_is_accepted(small):
    _, stub = small
    reply = await stub.UpsertWorkers(pb.UpsertWorkersRequest(
        workers=[worker_pb(f"w{i}", tags=frozenset({"a", "b"})) for i in range(2)]))
    assert reply.upserted_count == 2
    reply = await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=orders(2),
                                                           as_of_time=ts(AS_OF)))
    assert reply.accepted_count == 2


async def test_a_message_over_max_message_bytes_is_resource_exhausted(config):
    limited = dataclasses.replace(config, server=ServerConfig(max_message_bytes=4096))
    running = await start_server(limited, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.UpsertWorkers(pb.UpsertWorkersRequest(
                    workers=[worker_pb(f"w{i}") for i in range(100)]))
            assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "4096" in caught.value.details()
            assert await running.engine.store.workers() == []
            small = await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w")]))
            assert small.upserted_count == 1
    finally:
        await running.stop(0)


async def test_limits_follow_a_reload(stub, refused):
    reply = await stub.ReloadConfig(pb.ReloadConfigRequest(
        config_toml="[requests]\nmax_orders_per_submit = 1\n"))
    assert reply.applied
    error, _, _ = await refused(stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=orders(2), as_of_time=ts(AS_OF))), grpc.StatusCode.INVALID_ARGUMENT, "orders")
    assert "at most 1 " in error.details()


async def _state(running):
    store = running.engine.store
    view = await store.view()
    workers = sorted((w.worker_id, w) for w in await store.workers())
    from matcher.model import OrderState
    records = [(r.order.order_id, r.state) for s in OrderState
               for r in await store.orders_in(s)]
    return workers, sorted(records), {w: list(p) for w, p in view.plans.items()}
