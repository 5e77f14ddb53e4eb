"""End-to-end tests of the gRPC service: a real server on 127.0.0.1:0, a real grpc.aio channel.

Bad input and its error details are in test_server_validation.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from types import SimpleNamespace

import grpc
import pytest
import pytest_asyncio
from google.protobuf import duration_pb2, timestamp_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.config import LatenessConfig
from matcher.eligibility import ALL_CHECKS
from matcher.model import Break, Job, Skill
from matcher.scoring import TERMS
from server import (SERVICE_NAME, order_from_proto, order_to_proto, start_server,
                    worker_from_proto, worker_to_proto)
from tests.builders import DAY, HOUR, at, make_order, make_worker
from tests.checker import check_plans
from tests.conftest import ROOT, SERVER_CLOCK

SERVICE_TYPES = ("cleaning", "hourly", "maternity", "nanny", "elder_care", "repair", "moving")
TAGS = ("pet_friendly", "english", "non_smoker", "own_tools", "female")
AS_OF = DAY - 12 * HOUR  # the evening before the planned day
MONTH = 30 * 24 * HOUR


def ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


def dur(seconds: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=seconds)


# ---------------------------------------------------------------- a random city around Shanghai

def city_workers(rng: random.Random, n: int) -> list[pb.Worker]:
    workers = []
    for i in range(n):
        skills = []
        for service_type in rng.sample(SERVICE_TYPES, rng.randint(1, 3)):
            # Mostly valid for months; some expire the day before or during the planned day.
            until = rng.choice([DAY + rng.randint(2, 8) * MONTH] * 8
                               + [DAY - 24 * HOUR, at(12)])
            skills.append(pb.Skill(service_type=service_type, level=rng.randint(1, 5),
                                   certified_until_time=ts(until)))
        if rng.random() < 0.5:
            shifts = [pb.Shift(start_time=ts(at(8)), end_time=ts(at(18)))]
        else:
            shifts = [pb.Shift(start_time=ts(at(7.5)), end_time=ts(at(12))),
                      pb.Shift(start_time=ts(at(13)), end_time=ts(at(19)))]
        workers.append(pb.Worker(
            worker_id=f"w{i:04d}", agency_id=f"a{i % 20}",
            home=pb.LatLng(latitude=31.23 + rng.uniform(-0.08, 0.08),
                           longitude=121.47 + rng.uniform(-0.08, 0.08)),
            skills=skills, credit_score=round(rng.uniform(40, 100), 1), shifts=shifts,
            max_jobs_per_day=rng.randint(0, 6),
            tags=rng.sample(TAGS, rng.choice([0, 0, 1, 2])),
            status=pb.WORKER_STATUS_ONLINE if rng.random() < 0.95
            else pb.WORKER_STATUS_OFFLINE))
    return workers


def city_orders(rng: random.Random, n: int, n_workers: int) -> list[pb.Order]:
    orders = []
    for i in range(n):
        earliest = at(rng.uniform(8, 16))
        roll = rng.random()
        orders.append(pb.Order(
            order_id=f"o{i:04d}", customer_id=f"c{rng.randrange(n * 2 // 3)}",
            service_type=rng.choice(SERVICE_TYPES), min_skill_level=rng.randint(0, 3),
            location=pb.LatLng(latitude=31.23 + rng.uniform(-0.08, 0.08),
                               longitude=121.47 + rng.uniform(-0.08, 0.08)),
            earliest_start_time=ts(earliest),
            latest_start_time=ts(earliest + rng.choice([0, 1, 2, 3]) * HOUR),
            duration=dur(rng.choice([1, 2, 2, 3, 4]) * HOUR), priority=rng.randint(0, 10),
            required_tags=rng.sample(TAGS, 1) if roll < 0.1 else [],
            preferred_worker_ids=[f"w{rng.randrange(n_workers):04d}"] if 0.1 <= roll < 0.2
            else [],
            blocked_worker_ids=[f"w{rng.randrange(n_workers):04d}" for _ in range(3)]
            if 0.2 <= roll < 0.3 else [],
            mode=pb.DISPATCH_MODE_BATCHED))
    return orders


async def load_city(stub, workers: list[pb.Worker], orders: list[pb.Order]) -> pb.DispatchResponse:
    upserted = await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=workers))
    assert upserted.upserted_count == len(workers)
    submitted = await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=orders, as_of_time=ts(AS_OF)))
    assert submitted.accepted_count == len(orders) and not submitted.assignments
    return await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))


# ---------------------------------------------------------------- 1. the end-to-end scenario

@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def city(config):
    """1,000 workers, 500 batched orders, one Dispatch; then every schedule, order and the
    config as the service reports them."""
    rng = random.Random(20261201)
    workers = city_workers(rng, 1000)
    orders = city_orders(rng, 500, len(workers))
    running = await start_server(config, "127.0.0.1:0", clock=lambda: SERVER_CLOCK)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            started = time.perf_counter()
            response = await load_city(stub, workers, orders)
            elapsed = time.perf_counter() - started
            assigned = sorted({a.worker_id for a in response.assignments})
            schedules = await asyncio.gather(*(stub.GetWorkerSchedule(
                pb.GetWorkerScheduleRequest(worker_id=w)) for w in assigned))
            statuses = await asyncio.gather(*(stub.GetOrder(
                pb.GetOrderRequest(order_id=o.order_id)) for o in orders))
            got_config = await stub.GetConfig(pb.GetConfigRequest())
    finally:
        await running.stop(0)
    return SimpleNamespace(
        workers=workers, orders=orders, response=response, elapsed=elapsed,
        schedules=dict(zip(assigned, schedules)),
        statuses={s.order.order.order_id: s.order for s in statuses}, config=got_config)


class TestCityScenario:
    """1,000 workers, 500 batched orders, one Dispatch: everything the service says must agree
    with itself and with the independent checker."""

    def test_most_orders_are_assigned_quickly(self, city):
        response = city.response
        assert len(response.assignments) > 0.75 * len(city.orders)
        assert len(response.assignments) + len(response.unassigned) == len(city.orders)
        assert response.rounds >= 1
        assert city.elapsed < 30

    def test_every_assignment_satisfies_every_hard_constraint(self, city, config):
        workers = {w.worker_id: worker_from_proto(w) for w in city.workers}
        orders = {o.order_id: order_from_proto(o) for o in city.orders}
        blocked: dict[str, set[str]] = defaultdict(set)
        for order in orders.values():
            blocked[order.customer_id] |= order.blocked_worker_ids
        plans = {worker_id: [Job(j.order_id, j.customer_id, j.service_type,
                                 j.location.latitude, j.location.longitude,
                                 j.planned_start_time.seconds, j.planned_end_time.seconds)
                             for j in schedule.jobs]
                 for worker_id, schedule in city.schedules.items()}
        assert check_plans(config, workers, plans, orders, blocked) == []

    def test_assignments_carry_times_travel_and_score_breakdown(self, city):
        orders = {o.order_id: o for o in city.orders}
        for a in city.response.assignments:
            order = orders[a.order_id]
            assert a.HasField("planned_start_time") and a.HasField("planned_end_time")
            assert (order.earliest_start_time.seconds <= a.planned_start_time.seconds
                    <= order.latest_start_time.seconds)
            assert (a.planned_end_time.seconds - a.planned_start_time.seconds
                    == order.duration.seconds)
            assert a.HasField("travel_duration") and a.travel_duration.seconds >= 0
            assert a.travel_km >= 0 and math.isfinite(a.travel_km)
            assert a.travel_duration.seconds > 0 or a.travel_km == 0
            assert tuple(t.name for t in a.score_terms) == TERMS == (
                "travel", "credit", "skill_surplus", "customer_preference",
                "workload_balance", "priority", "lateness")
            for term in a.score_terms:
                assert term.contribution == pytest.approx(term.weight * term.value, abs=1e-12)
            assert abs(a.score - sum(t.contribution for t in a.score_terms)) <= 1e-9
            assert a.config_hash == city.config.config_hash

    def test_worker_schedules_show_exactly_the_assignments_in_time_order(self, city):
        expected: dict[str, dict[str, int]] = defaultdict(dict)
        for a in city.response.assignments:
            expected[a.worker_id][a.order_id] = a.planned_start_time.seconds
        assert set(city.schedules) == set(expected)
        for worker_id, schedule in city.schedules.items():
            starts = [j.planned_start_time.seconds for j in schedule.jobs]
            assert starts == sorted(starts)
            assert {j.order_id: j.planned_start_time.seconds for j in schedule.jobs} \
                == expected[worker_id]
            assert schedule.worker.worker_id == worker_id
            for job in schedule.jobs:
                assert job.travel_duration.seconds >= 0 and job.travel_km >= 0

    def test_get_order_agrees_with_dispatch(self, city):
        for a in city.response.assignments:
            status = city.statuses[a.order_id]
            assert status.state == pb.ORDER_STATE_OFFERED  # the worker has yet to accept
            assert status.assignment == a
            assert not status.HasField("unassigned")
        for u in city.response.unassigned:
            status = city.statuses[u.order_id]
            assert u.reason != pb.UNASSIGNED_REASON_UNSPECIFIED and u.detail
            assert status.state == pb.ORDER_STATE_PENDING
            assert status.unassigned == u and not status.HasField("assignment")

    def test_get_order_returns_the_submitted_order(self, city):
        for order in city.orders:
            # The service holds tags and worker ids as sets and says 0 workers needed means one.
            expected = pb.Order()
            expected.CopyFrom(order)
            expected.workers_needed = 1
            for name in ("required_tags", "preferred_worker_ids", "blocked_worker_ids"):
                values = sorted(getattr(expected, name))
                expected.ClearField(name)
                getattr(expected, name).extend(values)
            assert city.statuses[order.order_id].order == expected
            assert city.statuses[order.order_id].submit_time.seconds == AS_OF


async def test_dense_city_fills_days_with_several_jobs_and_stays_feasible(stub, config):
    """Few workers, many orders: several rounds, several jobs per day with travel legs between
    them, daily limits and orders left OUTBID; still every hard constraint holds."""
    rng = random.Random(3)
    workers = city_workers(rng, 80)
    orders = city_orders(rng, 300, len(workers))
    response = await load_city(stub, workers, orders)
    assert response.rounds > 1
    assert len(response.assignments) > len({a.worker_id for a in response.assignments})
    assert {u.reason for u in response.unassigned} - {
        pb.UNASSIGNED_REASON_NO_ELIGIBLE_WORKER, pb.UNASSIGNED_REASON_NO_FEASIBLE_SLOT,
        pb.UNASSIGNED_REASON_OUTBID, pb.UNASSIGNED_REASON_DAILY_LIMIT} == set()
    assigned = sorted({a.worker_id for a in response.assignments})
    schedules = await asyncio.gather(*(stub.GetWorkerSchedule(
        pb.GetWorkerScheduleRequest(worker_id=w)) for w in assigned))
    domain_orders = {o.order_id: order_from_proto(o) for o in orders}
    blocked: dict[str, set[str]] = defaultdict(set)
    for order in domain_orders.values():
        blocked[order.customer_id] |= order.blocked_worker_ids
    plans = {}
    for worker_id, schedule in zip(assigned, schedules):
        jobs = list(schedule.jobs)
        plans[worker_id] = [Job(j.order_id, j.customer_id, j.service_type, j.location.latitude,
                                j.location.longitude, j.planned_start_time.seconds,
                                j.planned_end_time.seconds) for j in jobs]
        for prev, job in zip(jobs, jobs[1:]):  # a leg never overlaps the job before it
            assert job.planned_start_time.seconds >= prev.planned_end_time.seconds
    assert max(len(p) for p in plans.values()) > 1
    workers_by_id = {w.worker_id: worker_from_proto(w) for w in workers}
    assert check_plans(config, workers_by_id, plans, domain_orders, blocked) == []
    placed = sorted(j.order_id for jobs in plans.values() for j in jobs)
    assert placed == sorted(a.order_id for a in response.assignments)


# ---------------------------------------------------------------- 2. instant mode, idempotency

def worker_pb(worker_id: str = "w1", **overrides) -> pb.Worker:
    return worker_to_proto(make_worker(worker_id, **overrides))


def order_pb(order_id: str = "o1", **overrides) -> pb.Order:
    return order_to_proto(make_order(order_id, **overrides))


async def test_instant_order_is_answered_in_the_submit_response(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    order = order_pb("o1")
    order.mode = pb.DISPATCH_MODE_INSTANT
    request = pb.SubmitOrdersRequest(orders=[order], as_of_time=ts(AS_OF))
    first = await stub.SubmitOrders(request)
    assert [(a.order_id, a.worker_id) for a in first.assignments] == [("o1", "w1")]
    assert first.accepted_count == 1 and not first.unassigned

    again = await stub.SubmitOrders(request)  # same content: the same order, not a second one
    assert list(again.assignments) == list(first.assignments) and again.accepted_count == 1
    schedule = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="w1"))
    assert [j.order_id for j in schedule.jobs] == ["o1"]
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert status.state == pb.ORDER_STATE_OFFERED and status.assignment == first.assignments[0]


async def test_instant_order_without_a_worker_stays_pending(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    order = order_pb("o1", service_type="repair")
    order.mode = pb.DISPATCH_MODE_INSTANT
    response = await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order],
                                                              as_of_time=ts(AS_OF)))
    assert not response.assignments
    assert [(u.order_id, u.reason) for u in response.unassigned] == [
        ("o1", pb.UNASSIGNED_REASON_NO_ELIGIBLE_WORKER)]
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert status.state == pb.ORDER_STATE_PENDING


async def test_breaks_and_soft_lateness_end_to_end(config):
    """Hourly help may start 90 minutes late, cleaning may not; the worker lunches for an hour
    between 12:00 and 13:30."""
    soft = dataclasses.replace(config, lateness=(("hourly", LatenessConfig(90, 0.1)),))
    running = await start_server(soft, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            worker = worker_pb("w1", skills=(Skill("cleaning", 3, DAY + MONTH),
                                             Skill("hourly", 3, DAY + MONTH)),
                               breaks=(Break(at(12), at(13.5), HOUR),))
            await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker]))

            async def submit(order_id, service_type, earliest_h, latest_h, hours, mode):
                order = order_pb(order_id, service_type=service_type,
                                 earliest_start=at(earliest_h), latest_start=at(latest_h),
                                 duration=int(hours * HOUR))
                order.mode = mode
                return await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order],
                                                                      as_of_time=ts(AS_OF)))

            await submit("o1", "cleaning", 9, 9, 2, pb.DISPATCH_MODE_INSTANT)  # 09:00-11:00
            late = (await submit("o2", "hourly", 9, 10, 1, pb.DISPATCH_MODE_INSTANT)).assignments
            # o2 wanted to start by 10:00; right after o1 is an hour late
            assert [(a.order_id, a.planned_start_time.seconds, a.late_duration.seconds)
                    for a in late] == [("o2", at(11), HOUR)]
            terms = {t.name: t for t in late[0].score_terms}
            assert terms["lateness"].value == pytest.approx(-60 * 0.1)
            # cleaning from 12:00 leaves lunch no room: after it (13:00) the window closes,
            # and waiting for lunch would make it an hour late
            refused = await submit("o3", "cleaning", 12, 12.25, 1, pb.DISPATCH_MODE_INSTANT)
            assert [u.reason for u in refused.unassigned] == [
                pb.UNASSIGNED_REASON_NO_FEASIBLE_SLOT]
            why = await stub.ExplainOrder(pb.ExplainOrderRequest(order_id="o3",
                                                                 as_of_time=ts(AS_OF)))
            assert {c.constraint: c.ruled_out for c in why.constraint_counts}["break"] == 1
            # hourly help at the same time waits for lunch and starts at 13:00, 45 min late
            waits = (await submit("o4", "hourly", 12, 12.25, 1, pb.DISPATCH_MODE_INSTANT))
            assert [(a.planned_start_time.seconds, a.late_duration.seconds)
                    for a in waits.assignments] == [(at(13), 45 * 60)]
            again = await stub.ExplainOrder(pb.ExplainOrderRequest(order_id="o2",
                                                                   as_of_time=ts(AS_OF)))
            assert [(c.worker_id, c.late_duration.seconds) for c in again.candidates] == [
                ("w1", HOUR)]
            schedule = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="w1"))
            assert list(schedule.worker.breaks) == list(worker.breaks)
            plans = {"w1": [Job(j.order_id, j.customer_id, j.service_type, j.location.latitude,
                                j.location.longitude, j.planned_start_time.seconds,
                                j.planned_end_time.seconds) for j in schedule.jobs]}
            orders = {o: order_from_proto((await stub.GetOrder(pb.GetOrderRequest(
                order_id=o))).order.order) for o in ("o1", "o2", "o4")}
            assert check_plans(soft, {"w1": worker_from_proto(worker)}, plans, orders) == []
    finally:
        await running.stop(0)


async def test_same_order_id_with_other_content_is_already_exists(stub, refused):
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")], as_of_time=ts(AS_OF)))
    changed = order_pb("o1", priority=7)
    _, info, _ = await refused(stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[changed], as_of_time=ts(AS_OF))), grpc.StatusCode.ALREADY_EXISTS)
    assert info.reason == "ALREADY_EXISTS"
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert status.order.priority == 0


async def test_request_id_replays_the_first_answer_and_refuses_another_body(stub, refused):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    order = order_pb("o1")
    order.mode = pb.DISPATCH_MODE_INSTANT
    request = pb.SubmitOrdersRequest(orders=[order], request_id="r-1", as_of_time=ts(AS_OF))
    first = await stub.SubmitOrders(request)
    assert await stub.SubmitOrders(request) == first

    other = pb.SubmitOrdersRequest(orders=[order_pb("o2")], request_id="r-1",
                                   as_of_time=ts(AS_OF))
    await refused(stub.SubmitOrders(other), grpc.StatusCode.ALREADY_EXISTS)
    await refused(stub.GetOrder(pb.GetOrderRequest(order_id="o2")), grpc.StatusCode.NOT_FOUND)

    upsert = pb.UpsertWorkersRequest(workers=[worker_pb("w2")], request_id="r-2")
    assert (await stub.UpsertWorkers(upsert)).upserted_count == 1
    assert (await stub.UpsertWorkers(upsert)).upserted_count == 1
    await refused(stub.UpsertWorkers(pb.UpsertWorkersRequest(
        workers=[worker_pb("w3")], request_id="r-2")), grpc.StatusCode.ALREADY_EXISTS)
    await refused(stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="w3")),
                  grpc.StatusCode.NOT_FOUND)



def test_a_request_body_keeps_its_fingerprint_across_versions():
    """A remembered request id is matched by the digest of its body (in Redis, across a
    restart on a newer version): the digest of a known body must not change."""
    from matcher.fingerprint import fingerprint as _fingerprint
    from matcher.model import DispatchMode, LinkType, Order, OrderLink

    order = Order("x000000", "xc001578", "cleaning", 1, 31.32999299606178, 121.51328904050507,
                  1796706000, 1796715000, 10800, required_tags=frozenset({"own_tools"}),
                  preferred_worker_ids=frozenset({"z", "y"}),
                  blocked_worker_ids=frozenset({"c", "a", "b"}), mode=DispatchMode.INSTANT,
                  link=OrderLink("x0", LinkType.START_GAP, 3600, 7200))
    assert _fingerprint(("submit", [order])) == (
        "2d0bce4c737e76a877cb3431a3f9645d47832e1a"
        "a97c514f24365b281dbc99d0")


# ---------------------------------------------------------------- 4. cancel

async def test_cancelling_an_assigned_order_frees_the_slot(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order_pb("o1"), order_pb("o2", earliest_start=at(13), latest_start=at(14))],
        as_of_time=ts(AS_OF)))
    dispatched = await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
    assert sorted(a.order_id for a in dispatched.assignments) == ["o1", "o2"]

    cancelled = await stub.CancelOrder(pb.CancelOrderRequest(
        order_id="o1", cancelled_by=pb.CANCELLED_BY_CENTRE, reason="customer called"))
    assert cancelled.order.state == pb.ORDER_STATE_CANCELLED
    schedule = await stub.GetWorkerSchedule(pb.GetWorkerScheduleRequest(worker_id="w1"))
    assert [j.order_id for j in schedule.jobs] == ["o2"]
    # The leg to the remaining job now starts from home.
    home_leg = await stub.ExplainOrder(pb.ExplainOrderRequest(order_id="o2",
                                                              as_of_time=ts(AS_OF)))
    assert schedule.jobs[0].travel_duration == home_leg.candidates[0].travel_duration

    again = await stub.CancelOrder(pb.CancelOrderRequest(order_id="o1"))
    assert again.order.state == pb.ORDER_STATE_CANCELLED
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert status.state == pb.ORDER_STATE_CANCELLED

    # The freed slot takes a new order.
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o3")],
                                                   as_of_time=ts(AS_OF)))
    third = await stub.Dispatch(pb.DispatchRequest(order_ids=["o3"], as_of_time=ts(AS_OF)))
    assert [(a.order_id, a.worker_id) for a in third.assignments] == [("o3", "w1")]


async def test_cancelling_a_pending_order(stub):
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")],
                                                   as_of_time=ts(AS_OF)))
    cancelled = await stub.CancelOrder(pb.CancelOrderRequest(order_id="o1", request_id="c-1"))
    assert cancelled.order.state == pb.ORDER_STATE_CANCELLED
    dispatched = await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
    assert not dispatched.assignments and not dispatched.unassigned


# ---------------------------------------------------------------- 5. explain

async def test_explain_counts_each_ruled_out_worker_under_its_constraint(stub):
    workers = [worker_pb("w-noskill", skills=()),
               worker_pb("w-lowcredit", credit_score=50.0),
               worker_pb("w-blocked"),
               worker_pb("w-good")]
    # A worker without any skill is allowed; give it another one to look realistic.
    workers[0].skills.add(service_type="repair", level=3, certified_until_time=ts(DAY + MONTH))
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=workers))
    order = order_pb("o1", blocked_worker_ids=frozenset({"w-blocked"}))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order], as_of_time=ts(AS_OF)))

    why = await stub.ExplainOrder(pb.ExplainOrderRequest(order_id="o1", as_of_time=ts(AS_OF)))
    counts = {c.constraint: c.ruled_out for c in why.constraint_counts}
    assert [c.constraint for c in why.constraint_counts] == list(ALL_CHECKS)
    assert why.total_workers == 4 and why.feasible_workers == 1
    assert sum(counts.values()) == why.total_workers - why.feasible_workers
    assert counts["skill"] == 1 and counts["credit_floor"] == 1
    assert counts["customer_block"] == 1
    assert [c.worker_id for c in why.candidates] == ["w-good"]
    good = why.candidates[0]
    assert [t.name for t in good.score_terms] == list(TERMS)
    assert abs(good.score - sum(t.contribution for t in good.score_terms)) <= 1e-9
    assert good.planned_start_time == order.earliest_start_time
    assert good.travel_duration.seconds > 0 and good.travel_km > 0
    assert why.order.order == order and why.order.state == pb.ORDER_STATE_PENDING


async def test_explain_top_k_limits_candidates_and_counts_add_up(stub):
    rng = random.Random(7)
    workers = city_workers(rng, 60)
    orders = city_orders(rng, 5, len(workers))
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=workers))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=orders, as_of_time=ts(AS_OF)))
    for order in orders:
        full = await stub.ExplainOrder(pb.ExplainOrderRequest(
            order_id=order.order_id, top_k=100, as_of_time=ts(AS_OF)))
        assert full.total_workers == 60
        assert sum(c.ruled_out for c in full.constraint_counts) == \
            full.total_workers - full.feasible_workers
        assert len(full.candidates) == full.feasible_workers
        scores = [c.score for c in full.candidates]
        assert scores == sorted(scores, reverse=True)
        default = await stub.ExplainOrder(pb.ExplainOrderRequest(
            order_id=order.order_id, as_of_time=ts(AS_OF)))
        assert list(default.candidates) == list(full.candidates[:5])
        two = await stub.ExplainOrder(pb.ExplainOrderRequest(
            order_id=order.order_id, top_k=2, as_of_time=ts(AS_OF)))
        assert list(two.candidates) == list(full.candidates[:2])


async def test_explain_without_top_k_gives_no_more_than_the_configured_most(config):
    """top_k = 0 means 5 candidates, but never more than ``requests.max_top_k``."""
    capped = dataclasses.replace(config, requests=dataclasses.replace(config.requests,
                                                                      max_top_k=2))
    running = await start_server(capped, "127.0.0.1:0", clock=lambda: AS_OF)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            await stub.UpsertWorkers(pb.UpsertWorkersRequest(
                workers=[worker_pb(f"w{i}") for i in range(6)]))
            await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")],
                                                           as_of_time=ts(AS_OF)))
            why = await stub.ExplainOrder(pb.ExplainOrderRequest(order_id="o1",
                                                                 as_of_time=ts(AS_OF)))
            assert why.feasible_workers == 6 and len(why.candidates) == 2
    finally:
        await running.stop(0)


# ---------------------------------------------------------------- 6. health, reflection, stubs

async def test_health_reports_serving(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE_NAME):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_health_reports_not_serving_once_stopping(server, channel):
    await server.health.enter_graceful_shutdown()
    health = health_pb2_grpc.HealthStub(channel)
    reply = await health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME))
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_reflection_lists_the_services(channel):
    reflect = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = reflect.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(
        list_services="")]))
    names = set()
    async for reply in call:
        names |= {s.name for s in reply.list_services_response.service}
    assert names == {"homedispatch.v1.DispatchService", "grpc.health.v1.Health",
                     "grpc.reflection.v1alpha.ServerReflection"}


async def test_get_config_returns_the_toml_and_hash_in_force(stub, config):
    from matcher.config import parse_config
    reply = await stub.GetConfig(pb.GetConfigRequest())
    assert reply.config_hash == config.hash
    assert parse_config(reply.config_toml) == config


async def test_dispatch_region_takes_only_orders_inside_it(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    near = order_pb("near")
    far = order_pb("far", lat=31.30, lon=121.55, earliest_start=at(14), latest_start=at(15))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[near, far], as_of_time=ts(AS_OF)))
    reply = await stub.Dispatch(pb.DispatchRequest(
        as_of_time=ts(AS_OF), region_center=near.location, region_radius_km=2.0))
    assert [a.order_id for a in reply.assignments] == ["near"] and not reply.unassigned
    status = (await stub.GetOrder(pb.GetOrderRequest(order_id="far"))).order
    assert status.state == pb.ORDER_STATE_PENDING


# ---------------------------------------------------------------- 7. graceful shutdown

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_serving(address: str, deadline: float) -> None:
    with grpc.insecure_channel(address) as chan:
        health = health_pb2_grpc.HealthStub(chan)
        while True:
            try:
                reply = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME),
                                     timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            assert time.monotonic() < deadline, "server did not become SERVING"
            time.sleep(0.1)


@pytest.mark.parametrize("sig, listen_flag", [(signal.SIGTERM, False), (signal.SIGINT, True)])
def test_server_process_shuts_down_gracefully_on_signal(tmp_path, sig, listen_flag):
    port = _free_port()
    address = f"127.0.0.1:{port}"
    config = tmp_path / "dispatch.toml"
    listen = "127.0.0.1:1" if listen_flag else address  # the flag must win over the file
    config.write_text(f'[server]\nlisten = "{listen}"\nshutdown_grace_s = 2.0\n')
    command = [sys.executable, str(ROOT / "server.py"), "--config", str(config)]
    if listen_flag:
        command += ["--listen", address]
    proc = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        _wait_serving(address, time.monotonic() + 30)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert b"shutting down" in stderr and b"stopped" in stderr


def test_server_process_refuses_a_bad_config(tmp_path):
    config = tmp_path / "dispatch.toml"
    config.write_text("[limits]\nmin_credit_score = 300\n")
    result = subprocess.run([sys.executable, str(ROOT / "server.py"), "--config", str(config)],
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert "limits.min_credit_score" in result.stderr


# ---------------------------------------------------------------- 8. determinism

async def test_two_fresh_servers_make_identical_assignments(config):
    rng = random.Random(99)
    workers = city_workers(rng, 300)
    orders = city_orders(rng, 150, len(workers))
    replies = []
    for _ in range(2):
        running = await start_server(config, "127.0.0.1:0")
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
                stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
                replies.append(await load_city(stub, workers, orders))
        finally:
            await running.stop(0)
    first, second = replies
    assert len(first.assignments) > 0
    assert list(first.assignments) == list(second.assignments)
    assert list(first.unassigned) == list(second.unassigned)
    assert first.rounds == second.rounds
