"""The service on Redis against real processes on 127.0.0.1: restarts of the service and of
redis-server (AOF on) keep the state, and a Redis that goes away makes requests fail fast with
UNAVAILABLE and the health service report NOT_SERVING until it is back."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from google.protobuf import timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.redis_store import RedisStore
from server import order_to_proto, start_server, worker_to_proto
from tests.builders import DAY, HOUR, make_order, make_worker
from tests.conftest import SERVER_CLOCK

AS_OF = DAY - 12 * HOUR


def ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


async def serve(config, url: str):
    return await start_server(config, "127.0.0.1:0", store=RedisStore(url, timeout_s=0.5),
                              clock=lambda: SERVER_CLOCK)


async def phase_one(stub) -> pb.DispatchResponse:
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[
        worker_to_proto(make_worker(f"w{i}")) for i in range(3)]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order_to_proto(make_order(f"o{i}", customer_id=f"c{i}")) for i in range(3)],
        as_of_time=ts(AS_OF)))
    return await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))


async def test_a_restarted_service_continues_from_the_state_in_redis(config, redis_process):
    first = await serve(config, redis_process.url)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{first.port}") as channel:
        stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
        placed = await phase_one(stub)
        events = stub.WatchEvents(pb.WatchEventsRequest())
        seen = (await events.read()).event
        events.cancel()
    await first.stop(0)
    second = await serve(config, redis_process.url)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{second.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            for a in placed.assignments:
                status = (await stub.GetOrder(pb.GetOrderRequest(order_id=a.order_id))).order
                assert status.state == pb.ORDER_STATE_OFFERED and status.assignment == a
            accepted = await stub.RespondToOffer(pb.RespondToOfferRequest(
                order_id="o0", accept=True, as_of_time=ts(AS_OF + 60)))
            assert accepted.order.state == pb.ORDER_STATE_ASSIGNED
            call = stub.WatchEvents(pb.WatchEventsRequest(after_cursor=seen.cursor))
            after = [(await call.read()).event for _ in range(len(placed.assignments) + 1)]
            call.cancel()
            assert [e.type for e in after][-2:] == [pb.EVENT_TYPE_ACCEPTED,
                                                    pb.EVENT_TYPE_ASSIGNED]
    finally:
        await second.stop(0)


async def test_a_redis_restart_with_aof_keeps_what_the_first_phase_left(config, redis_process):
    running = await serve(config, redis_process.url)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            placed = await phase_one(stub)
            redis_process.shutdown()
            redis_process.start()
            for _ in range(40):  # the pool reconnects on its own
                try:
                    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
                    break
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.UNAVAILABLE
                    await asyncio.sleep(0.1)
            assert status.assignment == next(a for a in placed.assignments
                                             if a.order_id == "o1")
            await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_to_proto(
                make_order("o9", customer_id="c9"))], as_of_time=ts(AS_OF)))
            second = await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
            assert [a.order_id for a in second.assignments] == ["o9"]
    finally:
        await running.stop(0)


async def test_without_redis_requests_fail_fast_and_health_follows(config, redis_process):
    running = await serve(config, redis_process.url)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            health = health_pb2_grpc.HealthStub(channel)
            await phase_one(stub)
            redis_process.kill()
            started = time.monotonic()
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetOrder(pb.GetOrderRequest(order_id="o1"), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "Redis store is unreachable" in caught.value.details()
            assert time.monotonic() - started < 5
            await wait_for_health(health, health_pb2.HealthCheckResponse.NOT_SERVING)
            redis_process.start()
            await wait_for_health(health, health_pb2.HealthCheckResponse.SERVING)
            # recovered without a restart: within seconds a request is answered again (each
            # try has a deadline, so a request caught in the reconnect cannot hold the test)
            deadline = time.monotonic() + 15
            while True:
                try:
                    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"),
                                                  timeout=2)).order
                    break
                except grpc.aio.AioRpcError as error:
                    assert error.code() in (grpc.StatusCode.UNAVAILABLE,
                                            grpc.StatusCode.DEADLINE_EXCEEDED)
                    assert time.monotonic() < deadline, "the service did not recover"
                    await asyncio.sleep(0.2)
            assert status.order.order_id == "o1"
    finally:
        await asyncio.wait_for(running.stop(0), 30)


async def wait_for_health(health, expected, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        reply = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        if reply.status == expected:
            return
        assert time.monotonic() < deadline, f"health stayed {reply.status}"
        await asyncio.sleep(0.1)
