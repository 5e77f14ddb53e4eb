"""The lifecycle RPCs end to end: a real server on 127.0.0.1 with a clock the test moves, real
channels, and the event stream read, dropped and resumed; on the memory store and on Redis."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc
import pytest
from google.protobuf import timestamp_pb2

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.config import OffersConfig
from matcher.model import Event, EventType
from matcher.store import Commit
from server import order_to_proto, start_server, worker_to_proto
from tests.builders import CENTRE, DAY, at, make_order, make_worker

NOW = at(7)
FAR = dict(home_lat=CENTRE[0] + 0.05)


def ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> float:
        return float(self.now)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
async def server(config, clock, store):
    """A server on each store of the contract (memory, and a real redis-server)."""
    fast = dataclasses.replace(config, offers=OffersConfig(timeout_s=300, check_interval_s=0.05))
    running = await start_server(fast, "127.0.0.1:0", clock=clock, store=store)
    yield running
    await running.stop(0)


async def city(stub, *orders) -> None:
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[
        worker_to_proto(make_worker("near")), worker_to_proto(make_worker("far", **FAR))]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order_to_proto(o) for o in orders or [make_order("o1")]]))
    await stub.Dispatch(pb.DispatchRequest())


async def order(stub, order_id="o1") -> pb.OrderStatus:
    return (await stub.GetOrder(pb.GetOrderRequest(order_id=order_id))).order


async def read_events(stub, count: int, after: str = "") -> list[pb.Event]:
    """The first ``count`` events after ``after``; the call is then dropped."""
    out = []
    call = stub.WatchEvents(pb.WatchEventsRequest(after_cursor=after))
    async for message in call:
        out.append(message.event)
        if len(out) == count:
            break
    call.cancel()
    return out


async def test_an_order_from_offer_to_feedback(stub):
    await city(stub)
    offered = await order(stub)
    assert offered.state == pb.ORDER_STATE_OFFERED
    assert offered.offer_deadline_time.seconds == NOW + 300
    accepted = (await stub.RespondToOffer(pb.RespondToOfferRequest(
        order_id="o1", worker_id="near", accept=True))).order
    assert accepted.state == pb.ORDER_STATE_ASSIGNED and list(accepted.accepted_worker_ids) == [
        "near"]
    started = (await stub.StartOrder(pb.StartOrderRequest(order_id="o1",
                                                          actual_start_time=ts(at(9))))).order
    assert started.state == pb.ORDER_STATE_IN_PROGRESS
    done = (await stub.CompleteOrder(pb.CompleteOrderRequest(
        order_id="o1", actual_end_time=ts(at(11, DAY) + 600)))).order
    assert done.state == pb.ORDER_STATE_COMPLETED
    assert (done.actual_start_time.seconds, done.actual_end_time.seconds) == (at(9), at(11) + 600)
    reply = await stub.SubmitFeedback(pb.SubmitFeedbackRequest(order_id="o1", stars=5,
                                                               on_time=True))
    assert (reply.credit_score, reply.tier) == (83.33, "normal")
    assert [(w.worker_id, w.credit_score) for w in reply.workers] == [("near", 83.33)]
    schedule = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="near"))
    assert schedule.worker.credit_score == 83.33 and schedule.worker.credit_tier == "normal"
    kinds = [e.type for e in await read_events(stub, 6)]
    assert kinds == [pb.EVENT_TYPE_OFFERED, pb.EVENT_TYPE_ACCEPTED, pb.EVENT_TYPE_ASSIGNED,
                     pb.EVENT_TYPE_STARTED, pb.EVENT_TYPE_COMPLETED,
                     pb.EVENT_TYPE_CREDIT_CHANGED]


async def test_a_decline_and_a_lapsed_offer_put_the_order_back_without_the_worker(stub, clock):
    await city(stub, make_order("o1"), make_order("o2", customer_id="c2"))
    o1_worker = (await order(stub, "o1")).assignment.worker_id
    declined = (await stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o1",
                                                                   accept=False))).order
    assert declined.state == pb.ORDER_STATE_PENDING  # batched: waits for the next round
    assert list(declined.excluded_worker_ids) == [o1_worker]
    assert not declined.HasField("assignment")
    clock.now = NOW + 301  # o2's offer lapses; the server's tick notices it
    for _ in range(100):
        if (await order(stub, "o2")).state == pb.ORDER_STATE_PENDING:
            break
        await asyncio.sleep(0.05)
    lapsed = await order(stub, "o2")
    assert lapsed.state == pb.ORDER_STATE_PENDING and len(lapsed.excluded_worker_ids) == 1
    events = await read_events(stub, 6)
    assert pb.EVENT_TYPE_OFFER_TIMED_OUT in [e.type for e in events]
    await refused_code(stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o2", accept=True)),
                       grpc.StatusCode.FAILED_PRECONDITION, "is PENDING")


async def refused_code(call, code, text=""):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, caught.value.details()
    assert text in caught.value.details()
    return caught.value


async def test_the_stream_resumes_after_a_reconnect_missing_nothing_and_repeating_nothing(
        server, stub):
    await city(stub, *[make_order(f"o{i}", customer_id=f"c{i}") for i in range(2)])
    address = f"127.0.0.1:{server.port}"
    async with grpc.aio.insecure_channel(address) as first:
        seen = await read_events(dispatch_pb2_grpc.DispatchServiceStub(first), 1)
    # more happens while nobody listens
    await stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o0", accept=True))
    await stub.CancelOrder(pb.CancelOrderRequest(order_id="o1"))
    async with grpc.aio.insecure_channel(address) as second:
        resumed_stub = dispatch_pb2_grpc.DispatchServiceStub(second)
        call = resumed_stub.WatchEvents(pb.WatchEventsRequest(after_cursor=seen[-1].cursor))
        rest = [(await call.read()).event]
        while rest[-1].type != pb.EVENT_TYPE_CANCELLED:
            rest.append((await asyncio.wait_for(call.read(), 5)).event)
        # live: an event after the client caught up arrives on the open stream
        await stub.StartOrder(pb.StartOrderRequest(order_id="o0", actual_start_time=ts(at(9))))
        live = await asyncio.wait_for(call.read(), 5)
        call.cancel()
    everything = await read_events(stub, len(seen) + len(rest) + 1)
    assert [e.cursor for e in seen + rest + [live.event]] == [e.cursor for e in everything]
    assert live.event.type == pb.EVENT_TYPE_STARTED


async def test_a_worker_cancellation_raises_priority_and_costs_credit(stub):
    await city(stub)
    cancelled = (await stub.CancelOrder(pb.CancelOrderRequest(
        order_id="o1", cancelled_by=pb.CANCELLED_BY_WORKER, reason="sick"))).order
    assert cancelled.state == pb.ORDER_STATE_OFFERED and cancelled.assignment.worker_id == "far"
    assert cancelled.effective_priority == 2 and list(cancelled.excluded_worker_ids) == ["near"]
    near = (await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="near"))).worker
    assert near.credit_score == 75.0


async def test_a_worker_going_offline_hands_its_jobs_over(stub):
    await city(stub)
    reply = await stub.SetWorkerStatus(pb.SetWorkerStatusRequest(
        worker_id="near", status=pb.WORKER_STATUS_OFFLINE, reason="phone broke"))
    assert reply.worker.status == pb.WORKER_STATUS_OFFLINE
    assert (await order(stub)).assignment.worker_id == "far"
    events = await read_events(stub, 4)
    assert [e.type for e in events][1:] == [pb.EVENT_TYPE_WORKER_STATUS_CHANGED,
                                            pb.EVENT_TYPE_REDISPATCHED, pb.EVENT_TYPE_OFFERED]


async def test_a_reported_location_is_used_for_the_next_trip(stub, clock):
    clock.now = at(8.5)  # on shift, between jobs
    away = (CENTRE[0] + 0.08, CENTRE[1])
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_to_proto(make_worker("near"))]))
    await stub.UpdateWorkerLocation(pb.UpdateWorkerLocationRequest(
        worker_id="near", location=pb.LatLng(latitude=away[0], longitude=away[1]),
        report_time=ts(at(8.4))))
    instant = order_to_proto(make_order("o1", lat=away[0], lon=away[1] + 0.001,
                                        earliest_start=at(8.5), latest_start=at(10)))
    instant.mode = pb.DISPATCH_MODE_INSTANT
    reply = await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant]))
    assert reply.assignments[0].travel_km < 0.3


@pytest.mark.parametrize("rpc, message, code, field", [
    ("RespondToOffer", pb.RespondToOfferRequest(), grpc.StatusCode.INVALID_ARGUMENT,
     "order_id"),
    ("RespondToOffer", pb.RespondToOfferRequest(order_id="nope"), grpc.StatusCode.NOT_FOUND, None),
    ("StartOrder", pb.StartOrderRequest(order_id="o1"), grpc.StatusCode.FAILED_PRECONDITION,
     None),
    ("CompleteOrder", pb.CompleteOrderRequest(order_id="o1"),
     grpc.StatusCode.FAILED_PRECONDITION, None),
    ("SubmitFeedback", pb.SubmitFeedbackRequest(order_id="o1", stars=7),
     grpc.StatusCode.INVALID_ARGUMENT, "stars"),
    ("SubmitFeedback", pb.SubmitFeedbackRequest(order_id="o1", stars=4),
     grpc.StatusCode.FAILED_PRECONDITION, None),
    ("SubmitFeedback", pb.SubmitFeedbackRequest(order_id="o1", complaint=9),
     grpc.StatusCode.INVALID_ARGUMENT, "complaint"),
    ("SubmitFeedback", pb.SubmitFeedbackRequest(order_id="o1", no_show=True, stars=2),
     grpc.StatusCode.INVALID_ARGUMENT, "no_show"),
    ("SetWorkerStatus", pb.SetWorkerStatusRequest(worker_id="near"),
     grpc.StatusCode.INVALID_ARGUMENT, "status"),
    ("SetWorkerStatus", pb.SetWorkerStatusRequest(worker_id="x", status=2),
     grpc.StatusCode.NOT_FOUND, None),
    ("UpdateWorkerLocation", pb.UpdateWorkerLocationRequest(
        worker_id="near", location=pb.LatLng(latitude=float("nan"))),
     grpc.StatusCode.INVALID_ARGUMENT, "location.latitude"),
    ("UpdateWorkerLocation", pb.UpdateWorkerLocationRequest(worker_id="near"),
     grpc.StatusCode.INVALID_ARGUMENT, "location"),
    ("UpdateWorkerLocation", pb.UpdateWorkerLocationRequest(
        worker_id="near", location=pb.LatLng(), report_time=ts(NOW + 3600)),
     grpc.StatusCode.INVALID_ARGUMENT, "report_time"),
    ("UpdateWorkerLocation", pb.UpdateWorkerLocationRequest(worker_id="x", location=pb.LatLng()),
     grpc.StatusCode.NOT_FOUND, None),
    ("CancelOrder", pb.CancelOrderRequest(order_id="o1", cancelled_by=9),
     grpc.StatusCode.INVALID_ARGUMENT, "cancelled_by"),
])
async def test_bad_lifecycle_requests_are_refused_precisely_and_change_nothing(
        stub, refused, rpc, message, code, field):
    await city(stub)
    before = await order(stub)
    await refused(getattr(stub, rpc)(message), code, field)
    assert await order(stub) == before
    offer, = await read_events(stub, 1)
    call = stub.WatchEvents(pb.WatchEventsRequest(after_cursor=offer.cursor))  # nothing since
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(call.read(), 0.3)
    call.cancel()


async def test_an_unknown_cursor_is_invalid_argument(stub, refused):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.WatchEvents(pb.WatchEventsRequest(after_cursor="42-0")):
            pass
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "after_cursor" in caught.value.details()


@pytest.mark.store_options(event_retention=5)
async def test_a_watcher_whose_events_were_dropped_is_failed_precondition(server, stub):
    async def add_events(count: int, tag: str) -> None:
        await server.engine.store.commit(Commit(events=[
            Event(EventType.ASSIGNED, NOW, f"{tag}{i}") for i in range(count)]))

    await add_events(1, "first")
    call = stub.WatchEvents(pb.WatchEventsRequest())
    first = (await call.read()).event  # the watch is running, and waits for more
    await add_events(400, "o")  # more than is kept at once: the watcher fell behind
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        while await call.read() is not grpc.aio.EOF:
            pass
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "after_cursor" in caught.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as again:  # and so is a new watch from there
        async for _ in stub.WatchEvents(pb.WatchEventsRequest(after_cursor=first.cursor)):
            pass
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    newest, = await read_events(stub, 1)  # an empty cursor starts at the oldest kept
    assert newest.order_id.startswith("o") and newest.order_id != "o0"


async def test_feedback_twice_from_one_source_is_already_exists_and_a_retry_is_not(stub):
    await city(stub)
    await stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o1", accept=True))
    await stub.CompleteOrder(pb.CompleteOrderRequest(order_id="o1", actual_start_time=ts(at(9)),
                                                     actual_end_time=ts(at(11))))
    request = pb.SubmitFeedbackRequest(order_id="o1", stars=2, request_id="fb-1")
    first = await stub.SubmitFeedback(request)
    assert await stub.SubmitFeedback(request) == first  # a retry: the first answer
    await refused_code(stub.SubmitFeedback(pb.SubmitFeedbackRequest(order_id="o1", stars=5)),
                       grpc.StatusCode.ALREADY_EXISTS, "CUSTOMER feedback")
    follow_up = await stub.SubmitFeedback(pb.SubmitFeedbackRequest(
        order_id="o1", complaint=pb.COMPLAINT_SEVERITY_MAJOR,
        source=pb.FEEDBACK_SOURCE_FOLLOW_UP))
    assert follow_up.credit_score < first.credit_score
