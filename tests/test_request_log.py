"""JSON-lines logs with a request id that follows one request from the server through the
engine, and comes back to the client in the trailing metadata."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re

import grpc
import pytest

from homedispatch.v1 import dispatch_pb2 as pb
from tests.builders import at
from tests.test_server import AS_OF, order_pb, ts, worker_pb
from server import json_log_handler


@pytest.fixture
def log_lines():
    """The JSON lines the homedispatch loggers write (debug and up) while the test runs."""
    stream = io.StringIO()
    handler = json_log_handler(stream)
    logger = logging.getLogger("homedispatch")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def instant(order_id: str, hour: float) -> pb.Order:
    order = order_pb(order_id, earliest_start=at(hour), latest_start=at(hour))
    order.mode = pb.DISPATCH_MODE_INSTANT
    return order


def returned_id(trailing) -> str:
    return dict(trailing or ())["x-request-id"]


async def test_one_requests_lines_share_the_clients_id(stub, log_lines):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    call = stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o1", 9)],
                                                    as_of_time=ts(AS_OF)),
                             metadata=(("x-request-id", "trace-123"),))
    await call
    assert returned_id(await call.trailing_metadata()) == "trace-123"
    mine = [line for line in log_lines() if line.get("request_id") == "trace-123"]
    loggers = {line["logger"] for line in mine}
    assert {"homedispatch.server", "homedispatch.engine"} <= loggers, mine
    assert any(line["message"].startswith("dispatch: 1 orders, 1 assigned") for line in mine)
    assert any(line["message"].startswith("SubmitOrders OK") for line in mine)


async def test_a_request_without_an_id_gets_one(stub, log_lines):
    call = stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    await call
    generated = returned_id(await call.trailing_metadata())
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert [line["message"].split()[0] for line in log_lines()
            if line.get("request_id") == generated] == ["UpsertWorkers"]


@pytest.mark.parametrize("bad", ["", "x" * 500, "has space", "new\nline"])
async def test_an_unacceptable_client_id_is_replaced(stub, bad):
    metadata = (("x-request-id", bad),) if "\n" not in bad else ()
    call = stub.GetConfig(pb.GetConfigRequest(), metadata=metadata)
    await call
    assert re.fullmatch(r"[0-9a-f]{32}", returned_id(await call.trailing_metadata()))


async def test_a_refused_request_returns_its_id_too(stub, log_lines):
    call = stub.GetOrder(pb.GetOrderRequest(order_id="missing"),
                         metadata=(("x-request-id", "lost-1"),))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert returned_id(caught.value.trailing_metadata()) == "lost-1"
    # an abort sends its status at once, before the handler's last line logs the call: the
    # client may see the refusal a moment before the line is written
    for _ in range(200):
        if any(line.get("request_id") == "lost-1" and "NOT_FOUND" in line["message"]
               for line in log_lines()):
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("no log line for the refused request lost-1 within 2 s")


async def test_concurrent_requests_keep_their_own_ids(stub, log_lines):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1"),
                                                              worker_pb("w2")]))
    ids = [f"req-{i}" for i in range(4)]
    await asyncio.gather(*(
        stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant(f"o{i}", 9 + 2 * i)],
                                                 as_of_time=ts(AS_OF)),
                          metadata=(("x-request-id", rid),))
        for i, rid in enumerate(ids)))
    lines = log_lines()
    for rid in ids:
        mine = [line["message"] for line in lines if line.get("request_id") == rid]
        assert sum(m.startswith("dispatch: 1 orders") for m in mine) == 1, mine
        assert sum(m.startswith("SubmitOrders OK") for m in mine) == 1, mine


def test_lines_outside_a_request_have_no_id():
    stream = io.StringIO()
    logger = logging.getLogger("homedispatch.test")
    handler = json_log_handler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("background work")
    finally:
        logger.removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert line["message"] == "background work" and "request_id" not in line
    assert line["level"] == "WARNING" and line["time"]
