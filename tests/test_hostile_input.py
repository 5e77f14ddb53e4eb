"""Hostile input against a real server on 127.0.0.1: malformed and extreme requests to every RPC.

For every request hypothesis makes up (empty and overlong ids, NaN and infinite coordinates,
enormous and negative durations and timestamps, unknown enum values, deadlines already past,
request ids reused with other bodies, bytes that do not parse) the checks are: the status is
never UNKNOWN or INTERNAL; every INVALID_ARGUMENT names the field in a BadRequest; a refused
request leaves the state (workers, orders, plans, blocks, credit, locations, events, config)
exactly as it was; and the server stays healthy. Besides requests made up whole, every RPC
that reads the state also gets a valid request of the target's city with one field hostile, so
that requests reach the checks that read an order's state, an offer or a plan, not only the
first ones (orders in each state a lifecycle RPC starts from are there for them).

The server runs on an event loop in a thread of its own, so that hypothesis drives it with a
plain blocking client. Its clock is fixed, so nothing changes between two looks at its state
but the requests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import threading

import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.config import OptimizerConfig
from matcher.model import OrderState
from server import MAX_TIME_S, MIN_TIME_S, SERVICE_NAME, start_server
from tests.builders import DAY, HOUR, at
from tests.test_server import AS_OF, order_pb, worker_pb

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CALL_TIMEOUT_S = 60.0
NEVER = (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL)


# ---------------------------------------------------------------- the server, in a thread

class ThreadedServer:
    """A real server on its own event loop and thread, and a blocking channel to it."""

    def __init__(self, config) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.config = config
        self.now = AS_OF  # the server's clock: fixed unless a test moves it
        self.running = self.run(start_server(config, "127.0.0.1:0", clock=lambda: self.now))
        # Time passing (offers lapsing, credit decaying) is not a request: stop the ticks, so
        # that only requests change the state (an offer made "in 1970" by an accepted request
        # would otherwise lapse between two looks).
        self.run(_cancel(self.running.ticks, self.running.periodic))
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.running.port}")
        self.stub = dispatch_pb2_grpc.DispatchServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def run(self, coroutine, timeout: float = 120.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.channel.close()
        self.run(self.running.stop(0))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def snapshot(self):
        """Everything a request could change, as plain comparable values."""
        return self.run(_snapshot(self.running.engine))

    def healthy(self) -> bool:
        reply = self.health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME),
                                  timeout=10)
        config = self.stub.GetConfig(pb.GetConfigRequest(), timeout=10)
        return reply.status == health_pb2.HealthCheckResponse.SERVING and bool(
            config.config_hash)


async def _cancel(*tasks) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _snapshot(engine):
    store = engine.store
    view = await store.view()
    orders = sorted([r for s in OrderState for r in await store.orders_in(s)],
                    key=lambda r: r.order.order_id)
    return dict(
        workers=sorted(await store.workers(), key=lambda w: w.worker_id),
        orders=orders,
        plans={w: (list(p), p.version) for w, p in sorted(view.plans.items())},
        blocked=view.blocked, locations=view.locations, workers_version=view.workers_version,
        credit=await store.credits(), events=len(await store.events_after("", 1_000_000)),
        config=engine.config.hash)


# Orders of the target's city in the states the lifecycle RPCs start from, each placed at its
# one start hour (half an hour long).
LIFECYCLE_ORDERS = {"offered-a": 10, "accepted-a": 15, "accepted-b": 16, "completed-a": 12}


def _ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


AS_OF_TIME = _ts(AS_OF)


@pytest.fixture(scope="module")
def target(config):
    """A server with a small city: four workers, an offered, an accepted and a pending order."""
    quick = dataclasses.replace(config, optimizer=OptimizerConfig(time_limit_s=0.05,
                                                                  solution_limit=20))
    server = ThreadedServer(quick)
    stub = server.stub
    stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb(f"w{i}") for i in range(4)]))
    placed = [order_pb("o0"), order_pb("o2", earliest_start=at(13), latest_start=at(14))]
    for order in placed:
        order.mode = pb.DISPATCH_MODE_INSTANT
    stub.SubmitOrders(pb.SubmitOrdersRequest(orders=placed + [order_pb(
        "o1", service_type="repair")], as_of_time=timestamp_pb2.Timestamp(seconds=AS_OF)))
    stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o2", accept=True))
    # one order in each state a lifecycle RPC starts from, for its valid request alone (no
    # hostile id names them): offered, accepted (two) and completed
    lifecycle = {name: _instant(order_pb(name, earliest_start=at(hour), latest_start=at(hour),
                                         duration=HOUR // 2))
                 for name, hour in LIFECYCLE_ORDERS.items()}
    stub.SubmitOrders(pb.SubmitOrdersRequest(orders=list(lifecycle.values()),
                                             as_of_time=AS_OF_TIME))
    for name in ("accepted-a", "accepted-b", "completed-a"):
        stub.RespondToOffer(pb.RespondToOfferRequest(order_id=name, accept=True))
    stub.CompleteOrder(pb.CompleteOrderRequest(
        order_id="completed-a", actual_start_time=_ts(at(LIFECYCLE_ORDERS["completed-a"])),
        actual_end_time=_ts(at(LIFECYCLE_ORDERS["completed-a"] + 0.5))))
    states = {name: stub.GetOrder(pb.GetOrderRequest(order_id=name)).order.state
              for name in lifecycle}
    assert states == {"offered-a": pb.ORDER_STATE_OFFERED, "accepted-a": pb.ORDER_STATE_ASSIGNED,
                      "accepted-b": pb.ORDER_STATE_ASSIGNED,
                      "completed-a": pb.ORDER_STATE_COMPLETED}
    yield server
    server.close()


# ---------------------------------------------------------------- what an attack checks

def field_violations(error: grpc.RpcError) -> list[str]:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            bad = error_details_pb2.BadRequest()
            for detail in status.details:
                if detail.Unpack(bad):
                    return [v.field for v in bad.field_violations if v.description]
    return []


def attack(server: ThreadedServer, send) -> grpc.StatusCode:
    """Send one request (``send()``); check the status, the state and the server's health."""
    before = server.snapshot()
    try:
        send()
        code = grpc.StatusCode.OK
    except grpc.RpcError as error:
        code = error.code()
        assert code not in NEVER, f"{code}: {error.details()}"
        if code == grpc.StatusCode.INVALID_ARGUMENT:
            fields = field_violations(error)
            assert fields and all(fields), f"no field named: {error.details()}"
            assert error.details().startswith(fields[0]), error.details()
    if code != grpc.StatusCode.OK:
        assert server.snapshot() == before, f"a refused request ({code}) changed the state"
    if server.running.engine.config.hash != server.config.hash:  # an accepted reload
        server.run(server.running.engine.reload(server.config))
    assert server.healthy()
    return code


def _offer_lapses_by_then(server: ThreadedServer, request: pb.RespondToOfferRequest) -> None:
    """An answer to an offer is decided as of its ``as_of_time`` (without one, of the server's
    clock); an offer past its deadline then has lapsed, whatever the answer (the order goes
    back to the pool, placed again at once, and the late answer is refused:
    ``Engine.respond_to_offer``). That is time passing, not the request (the server's ticks
    are stopped here): let it pass first."""
    when = request.as_of_time
    if not request.HasField("as_of_time"):
        server.run(_lapse(server.running.engine, server.now, request.order_id))
    elif MIN_TIME_S <= when.seconds < MAX_TIME_S and 0 <= when.nanos <= 999_999_999:
        server.run(_lapse(server.running.engine, when.seconds, request.order_id))
    # (a malformed time is refused before anything lapses)


async def _lapse(engine, now: int, order_id: str) -> None:
    async with engine._lock:
        await engine._expire_offers(now, [order_id])


# ---------------------------------------------------------------- hostile values

IDS = st.sampled_from(["", " ", "w0", "w1", "w3", "o0", "o1", "o2", "missing", "x" * 129,
                       "y" * 5000, "ünï-cødé", "a\x00b", "dup"]) | st.text(max_size=8)
SERVICE_TYPES = st.sampled_from(["cleaning", "repair", "", "gardening", "CLEANING"])
FLOATS = st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 31.24, 121.48, 90.0001,
                          -180.5, 1e308, 5e-324]) | st.floats(allow_nan=True,
                                                             allow_infinity=True)
INT32 = st.sampled_from([0, 1, -1, 3, 5, 10, 11, 1441, 2**31 - 1, -2**31]) | st.integers(
    -2**31, 2**31 - 1)
ENUMS = st.sampled_from([0, 1, 2, 3, 4, 5, 99, -1, 2**31 - 1])
SECONDS = st.sampled_from([0, -1, AS_OF, at(9), at(9.5), at(12), at(20), DAY + 400 * 24 * HOUR,
                           253_370_764_799, 253_402_300_799, 253_402_300_800, 2**62, -2**62])
NANOS = st.sampled_from([0, 1, 999_999_999, 1_000_000_000, -1, 2**31 - 1, -2**31])
TIMES = st.builds(timestamp_pb2.Timestamp, seconds=SECONDS, nanos=NANOS)
SPANS = st.builds(duration_pb2.Duration, seconds=st.sampled_from(
    [0, 1, -1, 2 * HOUR, 10**6, 315_576_000_000, 2**62, -2**62]), nanos=NANOS)
# OptimizePlans searches for as long as a valid time limit says: keep the valid ones short
SEARCH_LIMITS = st.builds(duration_pb2.Duration, seconds=st.sampled_from(
    [0, -1, 601, 2**40, -2**40]), nanos=st.sampled_from([0, -1, 50_000_000, 2**31 - 1]))
REQUEST_IDS = st.sampled_from(["", "", "dup-1", "dup-2", "z" * 129])
LATLNG = st.builds(pb.LatLng, latitude=FLOATS, longitude=FLOATS)


def message(cls, **fields):
    """Messages of ``cls`` with any subset of ``fields`` set from their strategies."""
    return st.fixed_dictionaries({}, optional=fields).map(lambda values: _build(cls, values))


def _build(cls, values):
    msg = cls()
    for name, value in values.items():
        target = getattr(msg, name)
        if isinstance(value, list):
            target.extend(value)
        elif hasattr(value, "CopyFrom"):
            target.CopyFrom(value)
        else:
            setattr(msg, name, value)
    return msg


def one_field_off(base, **fields):
    """``base`` (a valid message) with one of ``fields`` set to a hostile value: the request
    gets past the first checks and into the deeper ones."""
    def put(item):
        name, strategy = item
        return strategy.map(lambda value: _build_on(base, {name: value}))
    return st.sampled_from(sorted(fields.items(), key=lambda kv: kv[0])).flatmap(put)


def _build_on(base, values):
    msg = type(base)()
    msg.CopyFrom(base)
    for name in values:
        msg.ClearField(name)
    msg.MergeFrom(_build(type(base), values))
    return msg


def few(strategy, most: int = 3):
    return st.lists(strategy, max_size=most)


SKILLS = message(pb.Skill, service_type=SERVICE_TYPES, level=INT32, certified_until_time=TIMES)
SHIFTS = message(pb.Shift, start_time=TIMES, end_time=TIMES)
BREAKS = message(pb.Break, window_start_time=TIMES, window_end_time=TIMES, duration=SPANS)
WORKERS = message(pb.Worker, worker_id=IDS, agency_id=IDS, home=LATLNG, skills=few(SKILLS),
                  credit_score=FLOATS, shifts=few(SHIFTS), max_jobs_per_day=INT32,
                  tags=few(IDS), status=ENUMS, max_work_minutes_per_day=INT32,
                  breaks=few(BREAKS, 2), credit_tier=IDS)
LINKS = message(pb.OrderLink, order_id=IDS, type=ENUMS, min_gap=SPANS, max_gap=SPANS)
ORDERS = message(pb.Order, order_id=IDS, customer_id=IDS, service_type=SERVICE_TYPES,
                 min_skill_level=INT32, location=LATLNG, earliest_start_time=TIMES,
                 latest_start_time=TIMES, duration=SPANS, priority=INT32,
                 required_tags=few(IDS), preferred_worker_ids=few(IDS),
                 blocked_worker_ids=few(IDS), workers_needed=INT32, mode=ENUMS, link=LINKS)



def _instant(order):
    order.mode = pb.DISPATCH_MODE_INSTANT
    return order


WORKER_FIELDS = dict(worker_id=IDS, agency_id=IDS, home=LATLNG, skills=few(SKILLS),
                     credit_score=FLOATS, shifts=few(SHIFTS), max_jobs_per_day=INT32,
                     tags=few(IDS), status=ENUMS, max_work_minutes_per_day=INT32,
                     breaks=few(BREAKS, 2))
ORDER_FIELDS = dict(order_id=IDS, customer_id=IDS, service_type=SERVICE_TYPES,
                    min_skill_level=INT32, location=LATLNG, earliest_start_time=TIMES,
                    latest_start_time=TIMES, duration=SPANS, priority=INT32,
                    required_tags=few(IDS), preferred_worker_ids=few(IDS),
                    blocked_worker_ids=few(IDS), workers_needed=INT32, mode=ENUMS, link=LINKS)
WORKERS = WORKERS | one_field_off(worker_pb("w-new"), **WORKER_FIELDS) | one_field_off(
    worker_pb("w1"), **WORKER_FIELDS)
ORDERS = ORDERS | one_field_off(order_pb("o-new"), **ORDER_FIELDS) | one_field_off(
    _instant(order_pb("o-now", earliest_start=at(15), latest_start=at(16))), **ORDER_FIELDS)
TOML = st.sampled_from(["", "[weights]\ntravel = nan\n", "[weights]\ntravel = 1e400\n",
                        "[[weights]]\n", "[server]\nlisten = \"0.0.0.0:1\"\n",
                        "[requests]\nmax_id_length = 0\n", "\x00", "[weights]\n" * 3,
                        "[tiers.a]\nmin_score = 1\n"]) | st.text(max_size=40)

# Per RPC: its request type, the strategy of each field, and a valid request of the target's
# city (none: no valid one worth starting from). A request is either any subset of the fields
# set to hostile values, or the valid one with one field hostile: that one gets past the first
# checks to the ones that read the state (an order's state, a worker's plan, an offer).
FIELDS = {
    "UpsertWorkers": (pb.UpsertWorkersRequest,
                      dict(workers=few(WORKERS), request_id=REQUEST_IDS), None),
    "UpdateWorkerLocation": (pb.UpdateWorkerLocationRequest,
                             dict(worker_id=IDS, location=LATLNG, report_time=TIMES,
                                  request_id=REQUEST_IDS),
                             dict(worker_id="w0", location=pb.LatLng(latitude=31.24,
                                                                     longitude=121.48),
                                  report_time=AS_OF_TIME)),
    "SetWorkerStatus": (pb.SetWorkerStatusRequest,
                        dict(worker_id=IDS, status=ENUMS, reason=st.text(max_size=20),
                             request_id=REQUEST_IDS, as_of_time=TIMES),
                        dict(worker_id="w3", status=pb.WORKER_STATUS_ONLINE,
                             as_of_time=AS_OF_TIME)),
    "SubmitOrders": (pb.SubmitOrdersRequest,
                     dict(orders=few(ORDERS), request_id=REQUEST_IDS, as_of_time=TIMES), None),
    "Dispatch": (pb.DispatchRequest,
                 dict(order_ids=few(IDS), as_of_time=TIMES, region_center=LATLNG,
                      region_radius_km=FLOATS, request_id=REQUEST_IDS),
                 dict(order_ids=["o1"], as_of_time=AS_OF_TIME)),
    "ExplainOrder": (pb.ExplainOrderRequest,
                     dict(order_id=IDS, top_k=INT32, as_of_time=TIMES),
                     dict(order_id="o0", top_k=3, as_of_time=AS_OF_TIME)),
    "OptimizePlans": (pb.OptimizePlansRequest,
                      dict(worker_ids=few(IDS), time_limit=SEARCH_LIMITS, as_of_time=TIMES,
                           request_id=REQUEST_IDS),
                      dict(worker_ids=["w0", "w1"],
                           time_limit=duration_pb2.Duration(nanos=50_000_000),
                           as_of_time=AS_OF_TIME)),
    "GetOrder": (pb.GetOrderRequest, dict(order_id=IDS), None),
    "CancelOrder": (pb.CancelOrderRequest,
                    dict(order_id=IDS, cancelled_by=ENUMS, reason=st.text(max_size=20),
                         request_id=REQUEST_IDS, as_of_time=TIMES, worker_id=IDS),
                    dict(order_id="o1", cancelled_by=pb.CANCELLED_BY_CUSTOMER,
                         as_of_time=AS_OF_TIME)),
    "GetWorkerSchedule": (pb.GetWorkerScheduleRequest, dict(worker_id=IDS), None),
    "RespondToOffer": (pb.RespondToOfferRequest,
                       dict(order_id=IDS, worker_id=IDS, accept=st.booleans(),
                            request_id=REQUEST_IDS, as_of_time=TIMES),
                       dict(order_id="offered-a", accept=True, as_of_time=AS_OF_TIME)),
    "StartOrder": (pb.StartOrderRequest,
                   dict(order_id=IDS, actual_start_time=TIMES, request_id=REQUEST_IDS),
                   dict(order_id="accepted-a", actual_start_time=_ts(at(15)))),
    "CompleteOrder": (pb.CompleteOrderRequest,
                      dict(order_id=IDS, actual_start_time=TIMES, actual_end_time=TIMES,
                           request_id=REQUEST_IDS),
                      dict(order_id="accepted-b", actual_start_time=_ts(at(16)),
                           actual_end_time=_ts(at(16.5)))),
    "SubmitFeedback": (pb.SubmitFeedbackRequest,
                       dict(order_id=IDS, stars=INT32, complaint=ENUMS, on_time=st.booleans(),
                            no_show=st.booleans(), source=ENUMS, request_id=REQUEST_IDS,
                            worker_id=IDS, as_of_time=TIMES),
                       dict(order_id="completed-a", stars=5,
                            source=pb.FEEDBACK_SOURCE_CUSTOMER, as_of_time=AS_OF_TIME)),
    "GetConfig": (pb.GetConfigRequest, {}, None),
    "ReloadConfig": (pb.ReloadConfigRequest, dict(config_toml=TOML, request_id=REQUEST_IDS),
                     None),
}


def _requests(cls, fields, valid):
    hostile = message(cls, **fields)
    return hostile if valid is None else hostile | one_field_off(cls(**valid), **fields)


REQUESTS = {method: _requests(*spec) for method, spec in FIELDS.items()}
# Mostly a generous deadline; sometimes one that passed before the call is made. (A deadline
# of exactly "now" races the request to the server: it may pass in transit, which the server
# refuses, or just after the call started, when the outcome is unknown to the client, as gRPC
# defines DEADLINE_EXCEEDED; so only deadlines surely past are sent.)
TIMEOUTS = st.sampled_from([CALL_TIMEOUT_S] * 8 + [-1.0, -0.001])


def test_every_unary_rpc_is_attacked():
    unary = {m.name for m in pb.DESCRIPTOR.services_by_name["DispatchService"].methods
             if not m.server_streaming}
    assert set(REQUESTS) == unary


@pytest.mark.parametrize("method", sorted(REQUESTS))
def test_hostile_requests(target, method):
    @SETTINGS
    @given(request=REQUESTS[method], timeout=TIMEOUTS)
    def run(request, timeout):
        if method == "RespondToOffer":
            _offer_lapses_by_then(target, request)
        attack(target, lambda: getattr(target.stub, method)(request, timeout=timeout))
    run()


@pytest.mark.parametrize("method", sorted(REQUESTS) + ["WatchEvents"])
def test_bytes_that_do_not_parse(target, method):
    path = f"/{SERVICE_NAME}/{method}"
    if method == "WatchEvents":
        call = target.channel.unary_stream(path)
        send = lambda data: next(iter(call(data, timeout=0.5)), None)  # noqa: E731
    else:
        call = target.channel.unary_unary(path)
        send = lambda data: call(data, timeout=CALL_TIMEOUT_S)  # noqa: E731

    @settings(SETTINGS, max_examples=15)
    @given(data=st.sampled_from([b"\xff", b"\x0a\x03\x0a\x01\xff", b"\x12\x02\xc3\x28",
                                 b"\x0a\xff\xff\xff\xff\x0f", b"\x08"]) | st.binary(
        min_size=1, max_size=40))
    def run(data):
        try:
            attack(target, lambda: send(data))
        except grpc.RpcError as error:  # a stream that waits for events: fine
            assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    run()


@SETTINGS
@given(cursor=IDS | st.sampled_from(["0", "1", "-1", "99999999999999999999", "1-0", "²", "1²",
                                      "١", "01", "1\n"]))
def test_hostile_event_cursors(target, cursor):
    def read_one():
        stream = target.stub.WatchEvents(pb.WatchEventsRequest(after_cursor=cursor),
                                         timeout=0.5)
        try:
            next(iter(stream), None)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.DEADLINE_EXCEEDED:  # waiting for events is fine
                raise
    attack(target, read_one)


def test_huge_batches_are_refused_and_change_nothing(target):
    worker, order = worker_pb("big"), order_pb("big")
    huge = {
        "UpsertWorkers": pb.UpsertWorkersRequest(workers=[worker] * 10_001),
        "SubmitOrders": pb.SubmitOrdersRequest(orders=[order] * 10_001),
        "Dispatch": pb.DispatchRequest(order_ids=["o1"] * 10_001),
        "OptimizePlans": pb.OptimizePlansRequest(worker_ids=["w1"] * 10_001),
    }
    for method, request in huge.items():
        code = attack(target, lambda: getattr(target.stub, method)(request, timeout=60))
        assert code == grpc.StatusCode.INVALID_ARGUMENT, method
    # over server.max_message_bytes (4 MiB): gRPC refuses it before the service reads it
    enormous = pb.SubmitOrdersRequest(orders=[order] * 9000, request_id="x" * 100)
    enormous.orders[0].customer_id = "c" * (4 * 1024 * 1024)
    assert attack(target, lambda: target.stub.SubmitOrders(enormous, timeout=60)) == \
        grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_request_id_reused_with_another_body_is_refused(target):
    first = pb.UpsertWorkersRequest(workers=[worker_pb("w-dup")], request_id="reuse-1")
    target.stub.UpsertWorkers(first, timeout=30)
    target.stub.UpsertWorkers(first, timeout=30)  # the same body: the same answer
    other = pb.UpsertWorkersRequest(workers=[worker_pb("w-dup", credit_score=99.0)],
                                    request_id="reuse-1")
    assert attack(target, lambda: target.stub.UpsertWorkers(other, timeout=30)) == \
        grpc.StatusCode.ALREADY_EXISTS


def test_a_valid_request_with_a_deadline_already_past_does_nothing(target):
    """The client reports DEADLINE_EXCEEDED, yet gRPC still sends the request, with about a
    millisecond of deadline left; the server must not apply it (it did, now and then, before
    it refused calls without time to answer)."""
    before = target.snapshot()
    for i in range(40):
        order = order_pb(f"late-deadline-{i}")
        order.mode = pb.DISPATCH_MODE_INSTANT
        with pytest.raises(grpc.RpcError) as caught:
            target.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order]),
                                     timeout=-0.001 if i % 2 else -1.0)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert target.snapshot() == before
    assert target.healthy()


def test_the_server_still_dispatches_afterwards(target):
    target.stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w-final")]),
                              timeout=30)
    order = order_pb("final", earliest_start=at(16), latest_start=at(16), duration=HOUR)
    order.mode = pb.DISPATCH_MODE_INSTANT
    reply = target.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order]), timeout=30)
    assert len(reply.assignments) + len(reply.unassigned) == 1
    assert target.healthy()
