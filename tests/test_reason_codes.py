"""Every UnassignedReason, produced for real over gRPC: Dispatch (and SubmitOrders for instant
orders) answers with the code, and ExplainOrder gives the same code for the same order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from homedispatch.v1 import dispatch_pb2 as pb
from matcher.config import parse_config, to_toml
from matcher.model import LinkType, OrderLink
from tests.builders import HOUR, at
from tests.test_server import AS_OF, order_pb, ts, worker_pb


def instant(order: pb.Order) -> pb.Order:
    order.mode = pb.DISPATCH_MODE_INSTANT
    return order


async def submit(stub, *orders: pb.Order, as_of: int = AS_OF) -> pb.SubmitOrdersResponse:
    return await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=list(orders),
                                                          as_of_time=ts(as_of)))


async def explained(stub, order_id: str, as_of: int = AS_OF) -> pb.ExplainOrderResponse:
    return await stub.ExplainOrder(pb.ExplainOrderRequest(order_id=order_id,
                                                          as_of_time=ts(as_of)))


def reasons(reply) -> dict[str, int]:
    return {u.order_id: u.reason for u in reply.unassigned}


async def no_eligible_worker(stub, mode):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    return [mode(order_pb("x", service_type="repair"))], "x", AS_OF


async def no_feasible_slot(stub, mode):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    return [mode(order_pb("x", earliest_start=at(19), latest_start=at(20)))], "x", AS_OF


async def daily_limit(stub, mode):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1",
                                                                        max_jobs_per_day=1)]))
    await submit(stub, instant(order_pb("first")))  # the worker's one job of the day
    return [mode(order_pb("x", earliest_start=at(14), latest_start=at(15)))], "x", AS_OF


async def expired(stub, mode):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    return [mode(order_pb("x", earliest_start=at(9), latest_start=at(10)))], "x", at(12)


async def linked_order(stub, mode):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    first = order_pb("first", service_type="repair")  # nobody can do it
    await submit(stub, first)
    second = order_pb("x", earliest_start=at(14), latest_start=at(15),
                      link=OrderLink("first", LinkType.SAME_WORKER))
    return [mode(second)], "x", AS_OF


async def outbid(stub, mode):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    rich = order_pb("rich", earliest_start=at(9), latest_start=at(9), priority=9)
    poor = order_pb("x", earliest_start=at(9), latest_start=at(9), priority=1)
    return [mode(rich), mode(poor)], "x", AS_OF


async def round_limit(stub, mode):
    """One worker, two orders that both fit its day: with one round per dispatch the
    matching gives it one of them, and the round limit leaves the other."""
    in_force = parse_config((await stub.GetConfig(pb.GetConfigRequest())).config_toml)
    one_round = replace(in_force, solver=replace(in_force.solver, max_rounds=1))
    assert (await stub.ReloadConfig(pb.ReloadConfigRequest(
        config_toml=to_toml(one_round)))).applied
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    rich = order_pb("rich", earliest_start=at(9), latest_start=at(9), priority=9)
    poor = order_pb("x", earliest_start=at(14), latest_start=at(14), priority=1)
    return [mode(rich), mode(poor)], "x", AS_OF


CASES = {
    pb.UNASSIGNED_REASON_NO_ELIGIBLE_WORKER: no_eligible_worker,
    pb.UNASSIGNED_REASON_NO_FEASIBLE_SLOT: no_feasible_slot,
    pb.UNASSIGNED_REASON_DAILY_LIMIT: daily_limit,
    pb.UNASSIGNED_REASON_EXPIRED: expired,
    pb.UNASSIGNED_REASON_LINKED_ORDER: linked_order,
    pb.UNASSIGNED_REASON_OUTBID: outbid,
    pb.UNASSIGNED_REASON_ROUND_LIMIT: round_limit,
}
# Only a batch round of several orders gives these: a single instant order is placed on its
# own, in its own first round, so it is never outbid nor cut off by the round limit.
ROUND_ONLY = {pb.UNASSIGNED_REASON_OUTBID, pb.UNASSIGNED_REASON_ROUND_LIMIT}


def test_every_reason_code_has_a_case():
    codes = {v for k, v in pb.UnassignedReason.items() if not k.endswith("UNSPECIFIED")}
    assert codes == set(CASES)


@pytest.mark.parametrize("reason", sorted(CASES), ids=pb.UnassignedReason.Name)
async def test_dispatch_gives_the_reason_and_explain_agrees(stub, reason):
    orders, order_id, as_of = await CASES[reason](stub, lambda o: o)
    await submit(stub, *orders, as_of=AS_OF)
    reply = await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(as_of)))
    assert reasons(reply)[order_id] == reason, reply
    assert next(u.detail for u in reply.unassigned if u.order_id == order_id)
    why = await explained(stub, order_id, as_of)
    assert why.unassigned.order_id == order_id and why.unassigned.reason == reason, why
    assert why.unassigned.detail
    assert why.order.unassigned.reason == reason  # what the round recorded


@pytest.mark.parametrize("reason", sorted(set(CASES) - ROUND_ONLY),
                         ids=pb.UnassignedReason.Name)
async def test_instant_submission_gives_the_reason_and_explain_agrees(stub, reason):
    orders, order_id, as_of = await CASES[reason](stub, instant)
    reply = await submit(stub, *orders, as_of=as_of)
    assert reasons(reply)[order_id] == reason, reply
    why = await explained(stub, order_id, as_of)
    assert why.unassigned.reason == reason, why


async def test_an_assigned_order_has_no_reason_and_its_worker_is_a_candidate(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1"),
                                                              worker_pb("w2")]))
    placed = await submit(stub, instant(order_pb("o1")))
    worker = placed.assignments[0].worker_id
    why = await explained(stub, "o1")
    assert not why.HasField("unassigned")
    assert worker in [c.worker_id for c in why.candidates]
    assert why.total_workers == 2 and why.feasible_workers == 2


async def test_a_pending_order_no_round_has_seen_has_no_reason_yet(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    await submit(stub, order_pb("o1"))
    why = await explained(stub, "o1")
    assert not why.HasField("unassigned") and why.feasible_workers == 1
    assert why.candidates[0].score_terms  # the score's breakdown, term by term


async def test_explain_counts_the_workers_each_constraint_rules_out(stub):
    workers = [worker_pb("ok"), worker_pb("off", status=__import__(
        "matcher.model", fromlist=["WorkerStatus"]).WorkerStatus.OFFLINE),
        worker_pb("low", credit_score=10.0), worker_pb("busy", shifts=())]
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=workers))
    await submit(stub, order_pb("o1", duration=HOUR))
    why = await explained(stub, "o1")
    counts = {c.constraint: c.ruled_out for c in why.constraint_counts}
    assert counts["worker_status"] == 1 and counts["credit_floor"] == 1 and counts["shift"] == 1
    assert sum(counts.values()) == why.total_workers - why.feasible_workers == 3
    assert [c.worker_id for c in why.candidates] == ["ok"]
