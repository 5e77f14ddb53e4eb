"""Several service processes on one Redis, as operators run them: two replicas dispatching the
same orders at once, and a replica killed with SIGKILL in the middle of a dispatch. The final
state, read straight from Redis, must account for every order once, book no worker twice and
break no hard constraint."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.config import DispatchConfig, load_config
from matcher.lifecycle import PLANNED
from matcher.model import OrderState
from matcher.redis_store import RedisStore
from server import order_from_proto, worker_from_proto
from tests.checker import check_plans
from tests.conftest import ROOT
from tests.redis_process import free_port
from tests.test_server import AS_OF, city_orders, city_workers, ts

# assignments are final at once: the replicas' clocks are the wall clock, days after AS_OF, and
# offers would lapse at their first tick
CONFIG_TEXT = "[offers]\ntimeout_s = 0\n"


@pytest.fixture(autouse=True)
def _no_replica_outlives_its_test():
    """A test that fails half-way must not leave server processes running on the machine."""
    yield
    while Replica.started:
        process = Replica.started.pop().process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(10)


class Replica:
    """``python server.py`` on ``url``, on a port of its own."""

    started: list["Replica"] = []  # every replica of the running test, killed at its end

    def __init__(self, folder, url: str) -> None:
        self.config = folder / "dispatch.toml"
        self.config.write_text(CONFIG_TEXT)
        self.url, self.port = url, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> "Replica":
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "server.py"), "--config", str(self.config),
             "--listen", self.address], cwd=ROOT, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(ROOT), "HOME_DISPATCH_STORE": self.url})
        Replica.started.append(self)
        async with grpc.aio.insecure_channel(self.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            deadline = time.monotonic() + 60
            while True:
                try:
                    reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return self
                except grpc.aio.AioRpcError:
                    pass
                if time.monotonic() > deadline:
                    self.process.kill()  # no orphan server left behind a failed test
                    raise AssertionError("the replica did not start")
                await asyncio.sleep(0.1)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop with ``sig``; a replica that has not exited 30 s later is killed (so no test
        leaves a server running) and the test fails."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise AssertionError(f"the replica ignored signal {sig} for 30 s") from None


async def dispatch(stub) -> pb.DispatchResponse | None:
    """A round; None when the other replica's writes kept refusing it (ABORTED)."""
    try:
        return await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)), timeout=120)
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.ABORTED, error.details()
        return None


async def check_redis(url: str, workers, orders) -> dict[OrderState, int]:
    """Every order once and consistent with the plans, no worker booked twice, every plan
    valid; the count of orders per state."""
    store = RedisStore(url)
    config = load_config(ROOT / "config" / "dispatch.toml")
    try:
        records = {r.order.order_id: r for s in OrderState for r in await store.orders_in(s)}
        plans = await store.plans()
        blocked = {c: set(ws) for c, ws in (await store.blocked()).items()}
    finally:
        await store.close()
    assert set(records) == {o.order_id for o in orders}
    holders: dict[str, list[str]] = {}
    for worker_id, jobs in plans.items():
        for a, b in zip(jobs, jobs[1:]):
            assert a.end <= b.start, f"{worker_id} double-booked: {a.order_id}, {b.order_id}"
        for j in jobs:
            holders.setdefault(j.order_id, []).append(worker_id)
    for order_id, record in records.items():
        expected = record.worker_ids if record.state in PLANNED else []
        assert sorted(holders.get(order_id, [])) == expected, (order_id, record.state)
    domain = {o.order_id: order_from_proto(o) for o in orders}
    by_id = {w.worker_id: worker_from_proto(w) for w in workers}
    assert check_plans(config, by_id, plans, domain, blocked) == []
    counts: dict[OrderState, int] = {}
    for record in records.values():
        counts[record.state] = counts.get(record.state, 0) + 1
    return counts


async def test_two_replicas_dispatching_at_once_never_double_book(tmp_path, redis_process):
    rng = random.Random(5)
    workers = city_workers(rng, 500)
    orders = city_orders(rng, 5000, len(workers))
    for i, order in enumerate(orders):
        if i % 5 == 0:
            order.mode = pb.DISPATCH_MODE_INSTANT
    replicas = [await Replica(tmp_path / name, redis_process.url).start()
                for name in ("a", "b") if (tmp_path / name).mkdir() is None]
    channels = [grpc.aio.insecure_channel(r.address) for r in replicas]
    stubs = [dispatch_pb2_grpc.DispatchServiceStub(c) for c in channels]
    try:
        await stubs[0].UpsertWorkers(pb.UpsertWorkersRequest(workers=workers))

        async def client(k: int) -> None:
            """Submits its quarter of the orders in batches to both replicas in turn, and
            asks both for a round every few batches."""
            mine = orders[k::4]
            for b in range(0, len(mine), 125):
                stub = stubs[(b // 125 + k) % 2]
                await stub.SubmitOrders(pb.SubmitOrdersRequest(
                    orders=mine[b:b + 125], as_of_time=ts(AS_OF)), timeout=120)
                if b // 125 % 3 == 2:
                    await asyncio.gather(dispatch(stubs[0]), dispatch(stubs[1]))

        await asyncio.gather(*(client(k) for k in range(4)))
        await asyncio.gather(dispatch(stubs[0]), dispatch(stubs[1]))
        await dispatch(stubs[1])
    finally:
        for channel in channels:
            await channel.close()
        for replica in replicas:
            replica.stop()
    counts = await check_redis(redis_process.url, workers, orders)
    assert counts.get(OrderState.ASSIGNED, 0) > 500  # not a vacuous run: many were placed


async def test_a_replica_killed_mid_dispatch_leaves_nothing_half_written(tmp_path, redis_process):
    rng = random.Random(6)
    workers = city_workers(rng, 400)
    orders = city_orders(rng, 3000, len(workers))
    replica = await Replica(tmp_path, redis_process.url).start()
    async with grpc.aio.insecure_channel(replica.address) as channel:
        stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
        await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=workers))
        await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=orders[:500],
                                                       as_of_time=ts(AS_OF)))
        started = time.monotonic()
        before = await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
        took = time.monotonic() - started
        await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=orders[500:],
                                                       as_of_time=ts(AS_OF)))
        call = stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
        # The second round has five times the orders of the first: kill it in the middle, at
        # a time that follows the machine's speed (a fixed second outlived the whole round).
        await asyncio.sleep(1.5 * took)
        replica.stop(signal.SIGKILL)
        try:
            answered = list((await call).assignments)  # finished first after all: it must stay
        except grpc.aio.AioRpcError:
            answered = []
    counts = await check_redis(redis_process.url, workers, orders)
    assert sum(counts.values()) == len(orders)
    again = await Replica(tmp_path, redis_process.url).start()
    try:
        async with grpc.aio.insecure_channel(again.address) as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            for a in [*before.assignments, *answered]:  # what was answered is there
                status = (await stub.GetOrder(pb.GetOrderRequest(order_id=a.order_id))).order
                assert status.state == pb.ORDER_STATE_ASSIGNED and status.assignment == a
            await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
    finally:
        again.stop()
    await check_redis(redis_process.url, workers, orders)


def test_the_replica_config_is_the_default_but_for_offers():
    from matcher.config import parse_config
    config = parse_config(CONFIG_TEXT)
    assert config.offers.timeout_s == 0 and config.weights == DispatchConfig().weights
