"""OptimizePlans over a real server: plans get cheaper, never worse, and stay valid."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from matcher.config import load_config
from tests.conftest import ROOT

from homedispatch.v1 import dispatch_pb2 as pb
from server import order_from_proto, order_to_proto, worker_from_proto, worker_to_proto
from tests.builders import CENTRE, DAY, HOUR, at, make_order, make_worker, without_offers

AS_OF = DAY - 12 * HOUR


@pytest.fixture
def config():
    """The shipped config without offers: re-optimisation moves only jobs nobody accepted."""
    return without_offers(load_config(ROOT / "config" / "dispatch.toml"))
EAST, WEST = (CENTRE[0], CENTRE[1] + 0.05), (CENTRE[0], CENTRE[1] - 0.05)
NORTH = (CENTRE[0] + 0.08, CENTRE[1])


def ts(seconds: int):
    from google.protobuf import timestamp_pb2
    return timestamp_pb2.Timestamp(seconds=seconds)


def optimize(as_of: int = AS_OF, **fields) -> pb.OptimizePlansRequest:
    """A request with a short search: the tiny days here are solved at once."""
    request = pb.OptimizePlansRequest(as_of_time=ts(as_of), **fields)
    request.time_limit.nanos = 300_000_000
    return request


def worker(worker_id: str, home) -> pb.Worker:
    return worker_to_proto(make_worker(worker_id, home_lat=home[0], home_lon=home[1]))


def instant(order_id: str, place, hour: float) -> pb.Order:
    order = order_to_proto(make_order(order_id, customer_id=order_id, lat=place[0],
                                      lon=place[1] + 0.001, earliest_start=at(hour),
                                      latest_start=at(hour + 1), duration=HOUR))
    order.mode = pb.DISPATCH_MODE_INSTANT
    return order


async def crossed_day(stub) -> None:
    """West takes the east order while it is alone; east arrives later."""
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker("west", WEST)]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o-east", EAST, 10)],
                                                   as_of_time=ts(AS_OF)))
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker("east", EAST)]))


async def plans_of(stub, *worker_ids):
    plans, workers = {}, {}
    for worker_id in worker_ids:
        schedule = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id=worker_id))
        workers[worker_id] = worker_from_proto(schedule.worker)
        plans[worker_id] = [j.order_id for j in schedule.jobs]
    return workers, plans


async def test_a_crossed_job_moves_to_the_nearer_worker_and_travel_falls(stub, config):
    await crossed_day(stub)
    answer = await stub.OptimizePlans(optimize())
    assert answer.improved and answer.jobs_moved == 1
    assert answer.travel_km_after < answer.travel_km_before / 5
    assert answer.score_after > answer.score_before
    _, plans = await plans_of(stub, "east", "west")
    assert plans == {"east": ["o-east"], "west": []}
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o-east"))).order
    assert status.assignment.worker_id == "east" and status.state == pb.ORDER_STATE_ASSIGNED
    assert status.assignment.config_hash == config.hash


async def test_pending_orders_are_placed_and_a_second_run_keeps_the_plans(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker("west", WEST)]))
    batched = order_to_proto(make_order("o-b", lat=WEST[0], lon=WEST[1]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[batched], as_of_time=ts(AS_OF)))
    first = await stub.OptimizePlans(optimize())
    assert first.improved and list(first.orders_placed) == ["o-b"]
    again = await stub.OptimizePlans(optimize())
    assert not again.improved and again.jobs_moved == 0
    assert again.score_after == again.score_before == first.score_after


async def test_only_the_named_workers_change(stub):
    await crossed_day(stub)
    answer = await stub.OptimizePlans(optimize(worker_ids=["west"]))
    assert not answer.improved
    _, plans = await plans_of(stub, "east", "west")
    assert plans == {"east": [], "west": ["o-east"]}


async def test_a_started_job_stays_put(stub):
    await crossed_day(stub)
    answer = await stub.OptimizePlans(optimize(at(10) + 60))
    assert not answer.improved
    _, plans = await plans_of(stub, "east", "west")
    assert plans["west"] == ["o-east"]


async def test_request_id_replays_the_first_answer(stub):
    await crossed_day(stub)
    request = optimize(request_id="opt-1")
    first = await stub.OptimizePlans(request)
    again = await stub.OptimizePlans(request)
    assert first == again and first.improved


async def test_the_server_answers_while_a_re_optimisation_searches(stub, channel):
    """The search runs in a child process (OR-Tools holds the interpreter while it searches)
    and without the engine's lock: a health check and an instant order sent while it searches
    are answered before it ends, and an order placed elsewhere leaves its plans valid."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    await crossed_day(stub)
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker("north", NORTH)]))
    request = optimize()
    request.time_limit.seconds, request.time_limit.nanos = 3, 0  # (nothing better: all of it)
    search = asyncio.ensure_future(stub.OptimizePlans(request))
    await asyncio.sleep(1.5)  # (the child process starts in about a second, then searches)
    health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    placed = await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[instant("o-north", NORTH, 14)], as_of_time=ts(AS_OF)))
    assert not search.done()
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert [a.worker_id for a in placed.assignments] == ["north"]
    answer = await search
    assert answer.improved and answer.jobs_moved == 1
    _, plans = await plans_of(stub, "east", "west", "north")
    assert plans == {"east": ["o-east"], "west": [], "north": ["o-north"]}


async def test_bad_requests_name_the_field_and_change_nothing(stub, refused):
    await crossed_day(stub)
    await refused(stub.OptimizePlans(optimize(worker_ids=["nobody"])), grpc.StatusCode.NOT_FOUND)
    await refused(stub.OptimizePlans(optimize(worker_ids=["west", "west"])), grpc.StatusCode.INVALID_ARGUMENT,
        "worker_ids[1]")
    request = optimize()
    request.time_limit.seconds, request.time_limit.nanos = -1, 0
    await refused(stub.OptimizePlans(request), grpc.StatusCode.INVALID_ARGUMENT, "time_limit")
    # 2e9 nanos would read as 2 s (within the limits): a malformed Duration is refused instead
    request.time_limit.seconds, request.time_limit.nanos = 0, 2_000_000_000
    await refused(stub.OptimizePlans(request), grpc.StatusCode.INVALID_ARGUMENT, "time_limit")
    _, plans = await plans_of(stub, "east", "west")
    assert plans == {"east": [], "west": ["o-east"]}


async def test_the_periodic_run_improves_plans_without_a_request():
    import asyncio
    import dataclasses

    from matcher.config import DispatchConfig, OptimizerConfig
    from matcher.engine import Engine
    from matcher.store import MemoryStore
    from server import optimize_periodically

    config = dataclasses.replace(without_offers(DispatchConfig()), optimizer=OptimizerConfig(time_limit_s=0.2))
    engine = Engine(MemoryStore(), config)
    west, east = make_worker("west", home_lat=WEST[0], home_lon=WEST[1]), make_worker(
        "east", home_lat=EAST[0], home_lon=EAST[1])
    await engine.upsert_workers([west], now=AS_OF)
    await engine.submit_orders([order_from_proto(instant("o-east", EAST, 10))], AS_OF)
    await engine.upsert_workers([east], now=AS_OF)
    task = asyncio.create_task(optimize_periodically(engine, 0.05, clock=lambda: AS_OF))
    try:
        for _ in range(100):
            if await engine.store.plan("east"):
                break
            await asyncio.sleep(0.1)
    finally:
        task.cancel()
        engine.close()
    assert [j.order_id for j in await engine.store.plan("east")] == ["o-east"]
