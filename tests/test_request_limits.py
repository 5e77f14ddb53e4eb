"""Request size and batch limits from the config: refused with the limit in the message, and
nothing of the refused request applied."""

from __future__ import annotations

import dataclasses

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.config import RequestsConfig, ServerConfig
from matcher.model import OrderState
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


def _reference_walk(message, limits: RequestsConfig) -> None:
    """The limits as a plain walk over every field a message has set (what
    :func:`server_limits.check_request` does through its per-type plans)."""
    from google.protobuf.descriptor import FieldDescriptor

    from matcher.errors import InvalidArgument
    from server_limits import BATCHES, NOTES, TEXT

    def walk(message, path):
        for field, value in message.ListFields():
            here = f"{path}.{field.name}".lstrip(".")
            items = list(enumerate(value)) if field.is_repeated else [(None, value)]
            if field.is_repeated:
                key = BATCHES.get((message.DESCRIPTOR.name, field.name), "max_list_items")
                limit = getattr(limits, key)
                if len(value) > limit:
                    raise InvalidArgument(here, f"at most {limit} items per request "
                                                f"(requests.{key}), got {len(value)}")
            for i, item in items:
                at = here if i is None else f"{here}[{i}]"
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    walk(item, at)
                elif field.type == FieldDescriptor.TYPE_STRING and field.name not in TEXT:
                    key = NOTES.get(field.name, "max_id_length")
                    limit = getattr(limits, key)
                    if len(item) > limit:
                        raise InvalidArgument(at, f"at most {limit} characters "
                                                  f"(requests.{key}), got {len(item)}")
    walk(message, "")


_ids = st.text(alphabet="abc", max_size=4)
_lists = st.frozensets(_ids, max_size=3)


@st.composite
def _requests(draw):
    if draw(st.booleans()):
        return pb.UpsertWorkersRequest(request_id=draw(_ids), workers=[
            worker_pb(draw(_ids) or "w", tags=draw(_lists))
            for _ in range(draw(st.integers(0, 3)))])
    return pb.SubmitOrdersRequest(request_id=draw(_ids), as_of_time=ts(AS_OF), orders=[
        order_pb(draw(_ids) or "o", blocked_worker_ids=draw(_lists),
                 preferred_worker_ids=draw(_lists), required_tags=draw(_lists))
        for _ in range(draw(st.integers(0, 3)))])


@settings(max_examples=300, deadline=None)
@given(_requests(), st.integers(1, 4), st.integers(1, 3))
def test_the_planned_walk_refuses_what_a_walk_over_every_field_refuses(request, length,
                                                                     items):
    from matcher.errors import InvalidArgument
    from server_limits import check_request

    limits = dataclasses.replace(SMALL, max_id_length=length, max_list_items=items)
    outcomes = []
    # (the size the request came in lets a small one skip the walk: the same outcome)
    sized = lambda message, limits: check_request(message, limits, message.ByteSize())  # noqa: E731
    for check in (check_request, sized, _reference_walk):
        try:
            check(request, limits)
            outcomes.append(None)
        except InvalidArgument as error:
            outcomes.append((error.field, str(error)))
    assert outcomes[0] == outcomes[1] == outcomes[2]


@settings(max_examples=300, deadline=None)
@given(st.data(), st.integers(1, 48))
def test_a_request_no_larger_than_the_smallest_limit_is_passed_unwalked(data, limit):
    """A request of at most as many bytes as the smallest limit breaks none (each character
    and each list item takes a byte at least, multi-byte characters more): skipping its walk
    gives the walk's outcome on both sides of that size."""
    from matcher.errors import InvalidArgument
    from server_limits import check_request

    wide = st.text(alphabet="a\u00e9\u4e2d\U0001f600", max_size=limit + 2)
    request = pb.SubmitOrdersRequest(request_id=data.draw(wide), orders=[
        order_pb(data.draw(wide) or "o", required_tags=data.draw(st.lists(wide, max_size=4)))
        for _ in range(data.draw(st.integers(0, 3)))])
    limits = RequestsConfig(**{f.name: limit for f in dataclasses.fields(RequestsConfig)})
    outcomes = []
    for size in (None, request.ByteSize()):
        try:
            check_request(request, limits, size)
            outcomes.append(None)
        except InvalidArgument as error:
            outcomes.append((error.field, str(error)))
    assert outcomes[0] == outcomes[1]


def test_every_limit_the_walk_checks_bounds_the_unwalked_size():
    """The keys of every request type's plan (and of their message fields') are among those
    whose smallest lets a small request go unwalked: a new kind of limit cannot be missed."""
    from server_limits import WALKED, _plan

    seen, todo, keys = set(), list(pb.DESCRIPTOR.message_types_by_name.values()), set()
    while todo:
        descriptor = todo.pop()
        if descriptor.full_name in seen:
            continue
        seen.add(descriptor.full_name)
        keys |= {key for _, _, key in _plan(descriptor) if key}
        todo += [f.message_type for f in descriptor.fields if f.message_type is not None]
    assert keys and keys <= WALKED


async def test_a_compressed_request_is_limited_by_its_size_unpacked(config):
    """gzip makes a long id a few dozen bytes on the wire, fewer than every limit; the handler
    gets the message unpacked, and the size that lets a request go unwalked is its own."""
    wide = RequestsConfig(**{f.name: 400 for f in dataclasses.fields(RequestsConfig)})
    running = await start_server(dataclasses.replace(config, requests=wide), "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            order = order_pb("o")
            order.order_id = "o" * 401
            request = pb.SubmitOrdersRequest(orders=[order], as_of_time=ts(AS_OF))
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.SubmitOrders(request, compression=grpc.Compression.Gzip)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "orders[0].order_id" in caught.value.details()
            assert "requests.max_id_length" in caught.value.details()
            assert await running.engine.store.orders_in(OrderState.PENDING) == []
    finally:
        await running.stop(0)


def test_a_message_type_that_holds_itself_gets_a_plan():
    from google.protobuf import struct_pb2

    from server_limits import _plan

    assert ("values", 3, "max_list_items") in _plan(struct_pb2.ListValue.DESCRIPTOR)
