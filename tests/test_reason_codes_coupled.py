"""Team and linked orders: ExplainOrder gives the reason code Dispatch gave (a review found
them apart: the funnel prices each worker alone in the order's own window, not a common start,
the linked worker or the gap; and a team short of workers had rules of its own)."""
from __future__ import annotations

from homedispatch.v1 import dispatch_pb2 as pb
from matcher.model import LinkType, OrderLink, Shift
from tests.builders import HOUR, at
from tests.test_server import AS_OF, order_pb, ts, worker_pb

R = pb.UnassignedReason.Name


def instant(o):
    o.mode = pb.DISPATCH_MODE_INSTANT
    return o


async def submit(stub, *orders):
    return await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=list(orders), as_of_time=ts(AS_OF)))


async def dispatch_reason(stub, order_id):
    reply = await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
    return {u.order_id: R(u.reason) for u in reply.unassigned}.get(order_id), reply


async def explain(stub, order_id, top_k=0):
    why = await stub.ExplainOrder(pb.ExplainOrderRequest(order_id=order_id, as_of_time=ts(AS_OF),
                                                         top_k=top_k))
    return (R(why.unassigned.reason) if why.HasField("unassigned") else None), why


async def test_team_of_two_with_one_eligible_worker(stub):
    """README: NO_FEASIBLE_SLOT covers a team with fewer workers than it needs."""
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    await submit(stub, order_pb("team", workers_needed=2))
    got, reply = await dispatch_reason(stub, "team")
    explained, why = await explain(stub, "team")
    assert got == explained, (got, explained, reply, why.unassigned)


async def test_team_of_two_feasible_workers_never_free_together(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[
        worker_pb("w1", shifts=(Shift(at(8), at(12)),)),
        worker_pb("w2", shifts=(Shift(at(13), at(18)),))]))
    await submit(stub, order_pb("team", workers_needed=2, earliest_start=at(9),
                                latest_start=at(15), duration=2 * HOUR))
    got, reply = await dispatch_reason(stub, "team")
    assert got == "UNASSIGNED_REASON_NO_FEASIBLE_SLOT", reply
    explained, why = await explain(stub, "team")
    assert explained == got, (why.feasible_workers, why.unassigned, why.order.unassigned)


async def test_same_worker_link_whose_worker_is_busy(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    first = await submit(stub, instant(order_pb("first", earliest_start=at(9), latest_start=at(9),
                                                duration=HOUR)))
    assert first.assignments[0].worker_id == "w1"
    busy = await submit(stub, instant(order_pb("busy", customer_id="c2", earliest_start=at(11),
                                               latest_start=at(11), duration=2 * HOUR)))
    assert busy.assignments[0].worker_id == "w1"
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w2")]))
    await submit(stub, order_pb("x", earliest_start=at(11), latest_start=at(11), duration=HOUR,
                                link=OrderLink("first", LinkType.SAME_WORKER)))
    got, reply = await dispatch_reason(stub, "x")
    assert got == "UNASSIGNED_REASON_NO_FEASIBLE_SLOT", reply
    explained, why = await explain(stub, "x")
    assert explained == got, ([c.worker_id for c in why.candidates], why.unassigned,
                              why.order.unassigned)


async def test_start_gap_follow_up_outside_its_gap(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    await submit(stub, instant(order_pb("first", earliest_start=at(9), latest_start=at(9),
                                        duration=HOUR)))
    # the follow-up must start 6-7 h after 9:00 (15:00-16:00) but its own window is 10-11
    await submit(stub, order_pb("x", earliest_start=at(10), latest_start=at(11), duration=HOUR,
                                link=OrderLink("first", LinkType.START_GAP, 6 * HOUR, 7 * HOUR)))
    got, reply = await dispatch_reason(stub, "x")
    assert got == "UNASSIGNED_REASON_NO_FEASIBLE_SLOT", reply
    explained, why = await explain(stub, "x")
    assert explained == got, ([c.worker_id for c in why.candidates], why.unassigned)


async def test_team_of_two_both_at_daily_limit(stub):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[
        worker_pb("w1", max_jobs_per_day=1), worker_pb("w2", max_jobs_per_day=1)]))
    for i in (1, 2):
        placed = await submit(stub, instant(order_pb(f"f{i}", customer_id=f"c{i}",
                                                     earliest_start=at(9), latest_start=at(10),
                                                     duration=HOUR)))
        assert placed.assignments
    await submit(stub, order_pb("team", workers_needed=2, earliest_start=at(14),
                                latest_start=at(15), duration=HOUR))
    got, reply = await dispatch_reason(stub, "team")
    explained, why = await explain(stub, "team")
    assert got == explained, (got, explained, why.unassigned.detail)
