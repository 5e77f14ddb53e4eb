"""Bad input over gRPC: each request is refused with the precise status, the field path in a
google.rpc.BadRequest violation, an ErrorInfo, and changes nothing."""

from __future__ import annotations

import math

import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2

from homedispatch.v1 import dispatch_pb2 as pb
from server import order_to_proto, worker_to_proto
from tests.builders import DAY, HOUR, at, make_order, make_worker

AS_OF = timestamp_pb2.Timestamp(seconds=DAY - 12 * HOUR)
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND


def worker_pb(worker_id: str, **overrides) -> pb.Worker:
    return worker_to_proto(make_worker(worker_id, **overrides))


def order_pb(order_id: str, **overrides) -> pb.Order:
    return order_to_proto(make_order(order_id, **overrides))


async def absent_workers(stub, refused, *worker_ids: str) -> None:
    for worker_id in worker_ids:
        await refused(stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id=worker_id)),
                      NOT_FOUND)


async def absent_orders(stub, refused, *order_ids: str) -> None:
    for order_id in order_ids:
        await refused(stub.GetOrder(pb.GetOrderRequest(order_id=order_id)), NOT_FOUND)


# ---------------------------------------------------------------- workers

def _set(path: str, value):
    """A mutation setting a (dotted) field of a message."""
    def mutate(msg):
        *parents, leaf = path.split(".")
        for name in parents:
            msg = getattr(msg, name)
        setattr(msg, leaf, value)
    return mutate


def _shift_ends_before_it_starts(w: pb.Worker) -> None:
    w.shifts[0].end_time.seconds = w.shifts[0].start_time.seconds - HOUR


def _overlapping_shifts(w: pb.Worker) -> None:
    w.shifts.add(start_time=timestamp_pb2.Timestamp(seconds=at(17)),
                 end_time=timestamp_pb2.Timestamp(seconds=at(20)))


def _duplicate_skill(w: pb.Worker) -> None:
    w.skills.add().CopyFrom(w.skills[0])


def _lunch(w: pb.Worker, start_h: float = 12, end_h: float = 14, minutes: int = 60) -> pb.Break:
    return w.breaks.add(window_start_time=timestamp_pb2.Timestamp(seconds=at(start_h)),
                        window_end_time=timestamp_pb2.Timestamp(seconds=at(end_h)),
                        duration=duration_pb2.Duration(seconds=minutes * 60))


def _break_without_duration(w: pb.Worker) -> None:
    _lunch(w).ClearField("duration")


def _break_longer_than_its_window(w: pb.Worker) -> None:
    _lunch(w, 12, 12.5, 60)


def _break_window_over_a_day(w: pb.Worker) -> None:
    _lunch(w, 12, 36.5, 60)


def _break_window_unset(w: pb.Worker) -> None:
    _lunch(w).ClearField("window_start_time")


def _overlapping_breaks(w: pb.Worker) -> None:
    _lunch(w, 11, 14)
    _lunch(w, 13, 15, 15)


WORKER_CASES = {
    "latitude 91": (_set("home.latitude", 91.0), "home.latitude"),
    "latitude NaN": (_set("home.latitude", math.nan), "home.latitude"),
    "longitude -181": (_set("home.longitude", -181.0), "home.longitude"),
    "no home": (lambda w: w.ClearField("home"), "home"),
    "unknown service type": (lambda w: setattr(w.skills[0], "service_type", "window_washing"),
                             "skills[0].service_type"),
    "skill level 6": (lambda w: setattr(w.skills[0], "level", 6), "skills[0].level"),
    "certificate unset": (lambda w: w.skills[0].ClearField("certified_until_time"),
                          "skills[0].certified_until_time"),
    "duplicate skill": (_duplicate_skill, "skills[1].service_type"),
    "shift ends before it starts": (_shift_ends_before_it_starts, "shifts[0].end_time"),
    "shift start unset": (lambda w: w.shifts[0].ClearField("start_time"), "shifts[0].start_time"),
    "shift start out of range": (lambda w: setattr(w.shifts[0].start_time, "seconds", 10**13),
                                 "shifts[0].start_time"),
    "overlapping shifts": (_overlapping_shifts, "shifts"),
    "break without duration": (_break_without_duration, "breaks[0].duration"),
    "break longer than its window": (_break_longer_than_its_window,
                                     "breaks[0].window_end_time"),
    "break window over a day": (_break_window_over_a_day, "breaks[0].window_end_time"),
    "break window unset": (_break_window_unset, "breaks[0].window_start_time"),
    "overlapping breaks": (_overlapping_breaks, "breaks[1].window_start_time"),
    "unknown status": (_set("status", 99), "status"),
    "credit 101": (_set("credit_score", 101.0), "credit_score"),
    "credit NaN": (_set("credit_score", math.nan), "credit_score"),
    "negative job limit": (_set("max_jobs_per_day", -1), "max_jobs_per_day"),
    "minutes over a day": (_set("max_work_minutes_per_day", 1441), "max_work_minutes_per_day"),
    "empty id": (_set("worker_id", ""), "worker_id"),
    "duplicate id": (_set("worker_id", "w-ok"), "worker_id"),
}


@pytest.mark.parametrize("mutate, field", WORKER_CASES.values(), ids=WORKER_CASES.keys())
async def test_bad_worker_refuses_the_whole_batch(stub, refused, mutate, field):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w-known")]))
    changed = worker_pb("w-known", credit_score=95.0)
    bad = worker_pb("w-bad")
    mutate(bad)
    _, info, _ = await refused(
        stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w-ok"), changed, bad])),
        INVALID, f"workers[2].{field}")
    assert info.reason == "INVALID_ARGUMENT"
    await absent_workers(stub, refused, "w-ok", "w-bad")
    known = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="w-known"))
    assert known.worker.credit_score == 80.0


async def test_a_bad_break_names_its_field(stub, refused):
    bad = worker_pb("w1")
    _lunch(bad, minutes=0)
    _, _, violations = await refused(stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[bad])),
                                     INVALID, "workers[0].breaks[0].duration")
    assert "positive" in violations.field_violations[0].description
    await absent_workers(stub, refused, "w1")


async def test_breaks_are_kept_as_given(stub):
    worker = worker_pb("w1")
    _lunch(worker, 11.5, 13.5, 45)
    _lunch(worker, 15, 16, 15)
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker]))
    reply = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="w1"))
    assert list(reply.worker.breaks) == list(worker.breaks)


async def test_worker_with_unset_status_is_online(stub):
    worker = worker_pb("w1")
    worker.ClearField("status")
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker]))
    reply = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="w1"))
    assert reply.worker.status == pb.WORKER_STATUS_ONLINE and not reply.jobs


async def test_empty_worker_batch(stub, refused):
    await refused(stub.UpsertWorkers(pb.UpsertWorkersRequest()), INVALID, "workers")


# ---------------------------------------------------------------- orders

def _window_ends_before_it_starts(o: pb.Order) -> None:
    o.latest_start_time.seconds = o.earliest_start_time.seconds - HOUR


def _starts_on_the_last_day_of_9999(o: pb.Order) -> None:
    o.earliest_start_time.seconds = o.latest_start_time.seconds = 253_402_300_000


def _linked(kind: int = pb.LINK_TYPE_START_GAP, min_s: int = 0, max_s: int = HOUR,
            to: str = "o-a"):
    def mutate(o: pb.Order) -> None:
        o.link.order_id, o.link.type = to, kind
        o.link.min_gap.seconds, o.link.max_gap.seconds = min_s, max_s
    return mutate


ORDER_CASES = {
    "unknown service type": (_set("service_type", "window_washing"), "service_type"),
    "negative duration": (_set("duration.seconds", -HOUR), "duration"),
    "duration unset": (lambda o: o.ClearField("duration"), "duration"),
    "window ends before it starts": (_window_ends_before_it_starts, "latest_start_time"),
    "start in the year 9999": (_starts_on_the_last_day_of_9999, "earliest_start_time"),
    "earliest start unset": (lambda o: o.ClearField("earliest_start_time"),
                             "earliest_start_time"),
    "latitude 91": (_set("location.latitude", 91.0), "location.latitude"),
    "latitude NaN": (_set("location.latitude", math.nan), "location.latitude"),
    "longitude inf": (_set("location.longitude", math.inf), "location.longitude"),
    "no location": (lambda o: o.ClearField("location"), "location"),
    "unknown mode": (_set("mode", 99), "mode"),
    "link without a type": (_linked(pb.LINK_TYPE_UNSPECIFIED), "link.type"),
    "unknown link type": (_linked(7), "link.type"),
    "link without an order": (_linked(to=""), "link.order_id"),
    "gap ends before it starts": (_linked(min_s=HOUR, max_s=0), "link.max_gap"),
    "linked to itself": (_linked(to="o-c"), "link.order_id"),
    "team of 11": (_set("workers_needed", 11), "workers_needed"),
    "negative team": (_set("workers_needed", -1), "workers_needed"),
    "priority 11": (_set("priority", 11), "priority"),
    "level 6": (_set("min_skill_level", 6), "min_skill_level"),
    "empty customer": (_set("customer_id", ""), "customer_id"),
    "padded id": (_set("order_id", " o-c "), "order_id"),
    "duplicate id": (_set("order_id", "o-a"), "order_id"),
}


@pytest.mark.parametrize("mutate, field", ORDER_CASES.values(), ids=ORDER_CASES.keys())
async def test_one_bad_order_of_three_stores_nothing(stub, refused, mutate, field):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    bad = order_pb("o-c")
    mutate(bad)
    good = [order_pb("o-a"), order_pb("o-b")]
    for order in good:
        order.mode = pb.DISPATCH_MODE_INSTANT
    _, info, _ = await refused(
        stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[*good, bad], as_of_time=AS_OF)),
        INVALID, f"orders[2].{field}")
    assert info.reason == "INVALID_ARGUMENT"
    await absent_orders(stub, refused, "o-a", "o-b", "o-c")
    schedule = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="w1"))
    assert not schedule.jobs


async def test_a_link_to_an_unknown_order_is_not_found(stub, refused):
    order = order_pb("o1")
    _linked(to="o-missing")(order)
    error, _, _ = await refused(stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order], as_of_time=AS_OF)), grpc.StatusCode.NOT_FOUND)
    assert "orders[0].link.order_id" in error.details()
    await absent_orders(stub, refused, "o1")


async def test_a_link_to_another_customers_order_is_refused(stub, refused):
    other, linked = order_pb("o-x", customer_id="c2"), order_pb("o1")
    _linked(to="o-x")(linked)
    await refused(stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[other, linked], as_of_time=AS_OF)), INVALID, "orders[1].link.order_id")
    await absent_orders(stub, refused, "o-x", "o1")


async def test_team_and_linked_orders_round_trip_and_are_placed(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1"),
                                                              worker_pb("w2")]))
    first, team, again = order_pb("o-a", duration=HOUR), order_pb("o-t"), order_pb(
        "o-f", duration=HOUR, earliest_start=DAY + 8 * HOUR, latest_start=DAY + 17 * HOUR)
    team.workers_needed = 2
    _linked(min_s=3 * HOUR, max_s=4 * HOUR)(again)
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[first, team, again],
                                                   as_of_time=AS_OF))
    await stub.Dispatch(pb.DispatchRequest(as_of_time=AS_OF))
    statuses = {o: (await stub.GetOrder(pb.GetOrderRequest(order_id=o))).order
                for o in ("o-a", "o-t", "o-f")}
    assert statuses["o-f"].order.link == again.link
    assert all(s.state == pb.ORDER_STATE_OFFERED for s in statuses.values())
    team_members = statuses["o-t"].assignments
    assert {a.worker_id for a in team_members} == {"w1", "w2"}
    assert len({a.planned_start_time.seconds for a in team_members}) == 1
    gap = (statuses["o-f"].assignment.planned_start_time.seconds
           - statuses["o-a"].assignment.planned_start_time.seconds)
    assert 3 * HOUR <= gap <= 4 * HOUR


async def test_empty_order_batch(stub, refused):
    await refused(stub.SubmitOrders(pb.SubmitOrdersRequest(as_of_time=AS_OF)), INVALID, "orders")


async def test_as_of_time_out_of_range(stub, refused):
    await refused(stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order_pb("o1")], as_of_time=timestamp_pb2.Timestamp(seconds=-10**12))),
        INVALID, "as_of_time")
    await absent_orders(stub, refused, "o1")


async def test_unset_mode_is_batched_and_nanos_are_truncated(stub):
    order = order_pb("o1")
    order.ClearField("mode")
    order.earliest_start_time.nanos = 999_999_999
    order.duration.nanos = 500_000_000
    reply = await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order], as_of_time=AS_OF))
    assert reply.accepted_count == 1 and not reply.assignments and not reply.unassigned
    held = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order.order
    assert held.mode == pb.DISPATCH_MODE_BATCHED
    assert held.earliest_start_time.seconds == at(9) and held.earliest_start_time.nanos == 0
    assert held.duration.seconds == 2 * HOUR and held.duration.nanos == 0



@pytest.mark.parametrize("field, seconds, nanos", [
    ("earliest_start_time", at(9), 1_000_000_000),  # a Timestamp's nanos: [0, 999999999]
    ("earliest_start_time", at(9), -1),
    ("duration", 2 * HOUR, 1_000_000_000),  # a Duration's: within +-999999999 ...
    ("duration", 2 * HOUR, -500_000_000),  # ... and of the sign of its seconds
    ("duration", -2 * HOUR, 500_000_000),
])
async def test_malformed_times_and_durations_are_refused_naming_the_field(
        stub, refused, field, seconds, nanos):
    order = order_pb("o1")
    getattr(order, field).seconds, getattr(order, field).nanos = seconds, nanos
    await refused(stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order], as_of_time=AS_OF)),
                  INVALID, f"orders[0].{field}")
    await absent_orders(stub, refused, "o1")


async def test_a_duration_of_nanos_alone_is_well_formed(stub):
    order = order_pb("o1")
    order.duration.seconds, order.duration.nanos = 2 * HOUR - 1, 999_999_999
    assert (await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order], as_of_time=AS_OF))).accepted_count == 1
    held = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order.order
    assert held.duration.seconds == 2 * HOUR - 1

# ---------------------------------------------------------------- ids, lookups, state

@pytest.mark.parametrize("rpc, request_, field", [
    ("GetOrder", pb.GetOrderRequest(), "order_id"),
    ("CancelOrder", pb.CancelOrderRequest(), "order_id"),
    ("ExplainOrder", pb.ExplainOrderRequest(as_of_time=AS_OF), "order_id"),
    ("GetWorkerSchedule", pb.GetWorkerScheduleRequest(), "worker_id"),
])
async def test_empty_required_id(stub, refused, rpc, request_, field):
    await refused(getattr(stub, rpc)(request_), INVALID, field)


@pytest.mark.parametrize("rpc, request_", [
    ("GetOrder", pb.GetOrderRequest(order_id="nope")),
    ("CancelOrder", pb.CancelOrderRequest(order_id="nope")),
    ("ExplainOrder", pb.ExplainOrderRequest(order_id="nope", as_of_time=AS_OF)),
    ("GetWorkerSchedule", pb.GetWorkerScheduleRequest(worker_id="nope")),
    ("Dispatch", pb.DispatchRequest(order_ids=["nope"], as_of_time=AS_OF)),
])
async def test_unknown_ids_are_not_found(stub, refused, rpc, request_):
    error, info, bad = await refused(getattr(stub, rpc)(request_), NOT_FOUND)
    assert info.reason == "NOT_FOUND" and bad is None
    assert "nope" in error.details()


async def test_cancelling_an_expired_order_is_a_failed_precondition(stub, refused):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    late = timestamp_pb2.Timestamp(seconds=at(12))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")], as_of_time=AS_OF))
    reply = await stub.Dispatch(pb.DispatchRequest(as_of_time=late))
    assert [(u.order_id, u.reason) for u in reply.unassigned] == [
        ("o1", pb.UNASSIGNED_REASON_EXPIRED)]
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert status.state == pb.ORDER_STATE_EXPIRED

    error, info, _ = await refused(stub.CancelOrder(pb.CancelOrderRequest(order_id="o1")),
                                   grpc.StatusCode.FAILED_PRECONDITION)
    assert "EXPIRED" in error.details() and info.reason == "FAILED_PRECONDITION"
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert status.state == pb.ORDER_STATE_EXPIRED


async def test_dispatching_an_order_that_is_not_pending(stub, refused):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")], as_of_time=AS_OF))
    await stub.CancelOrder(pb.CancelOrderRequest(order_id="o1"))
    error, _, _ = await refused(stub.Dispatch(pb.DispatchRequest(
        order_ids=["o1"], as_of_time=AS_OF)), grpc.StatusCode.FAILED_PRECONDITION)
    assert "CANCELLED" in error.details()


# ---------------------------------------------------------------- other request fields

def _region(radius: float, lat: float | None = 31.23, lon: float = 121.47) -> pb.DispatchRequest:
    request = pb.DispatchRequest(as_of_time=AS_OF, region_radius_km=radius)
    if lat is not None:
        request.region_center.latitude, request.region_center.longitude = lat, lon
    return request


@pytest.mark.parametrize("request_, field", [
    (pb.DispatchRequest(order_ids=["o1", "o1"], as_of_time=AS_OF), "order_ids[1]"),
    (pb.DispatchRequest(order_ids=["o1", ""], as_of_time=AS_OF), "order_ids[1]"),
    (_region(-1.0), "region_radius_km"),
    (_region(math.nan), "region_radius_km"),
    (_region(math.inf), "region_radius_km"),
    (_region(0.0), "region_radius_km"),
    (_region(5.0, lat=None), "region_center"),
    (_region(5.0, lat=91.0), "region_center.latitude"),
    (_region(5.0, lat=math.nan), "region_center.latitude"),
    (_region(5.0, lon=200.0), "region_center.longitude"),
], ids=["duplicate id", "empty id", "negative radius", "NaN radius", "infinite radius",
        "center without radius", "radius without center", "center latitude 91",
        "center latitude NaN", "center longitude 200"])
async def test_bad_dispatch_request_changes_nothing(stub, refused, request_, field):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")], as_of_time=AS_OF))
    await refused(stub.Dispatch(request_), INVALID, field)
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert status.state == pb.ORDER_STATE_PENDING and not status.HasField("unassigned")


async def test_negative_top_k(stub, refused):
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")], as_of_time=AS_OF))
    await refused(stub.ExplainOrder(pb.ExplainOrderRequest(order_id="o1", top_k=-1,
                                                           as_of_time=AS_OF)), INVALID, "top_k")


async def test_unknown_cancelled_by(stub, refused):
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")], as_of_time=AS_OF))
    await refused(stub.CancelOrder(pb.CancelOrderRequest(order_id="o1", cancelled_by=42)),
                  INVALID, "cancelled_by")
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert status.state == pb.ORDER_STATE_PENDING
