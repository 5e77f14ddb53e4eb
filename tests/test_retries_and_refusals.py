"""Retries and refusals over a real server on 127.0.0.1 whose clock the test moves.

A retry (the same request id and the same bytes) comes later than its first attempt: a time the
server filled in from its clock is not part of what the request asked, so the retry gets the
first answer. A refused request changes nothing, even one that would make time pass (an
``as_of_time`` past an offer's deadline). Free text the service keeps has a length limit, and
times are refused where the engine would read them as "not yet".
"""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import duration_pb2, timestamp_pb2

from homedispatch.v1 import dispatch_pb2 as pb
from tests.builders import HOUR, at
from tests.test_hostile_input import ThreadedServer
from tests.test_server import AS_OF, order_pb, worker_pb


def ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


def instant(order_id: str, **overrides) -> pb.Order:
    order = order_pb(order_id, **overrides)
    order.mode = pb.DISPATCH_MODE_INSTANT
    return order


@pytest.fixture
def served(config):
    server = ThreadedServer(config)
    server.stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1"),
                                                               worker_pb("w2")]))
    yield server
    server.close()


def _dispatch(s):
    s.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")]))
    return s.stub.Dispatch, pb.DispatchRequest(request_id="rid-1")


def _optimize(s):
    s.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o1")]))
    return s.stub.OptimizePlans, pb.OptimizePlansRequest(
        request_id="rid-1", time_limit=duration_pb2.Duration(nanos=50_000_000))


def _start(s):
    s.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o1")]))
    s.stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o1", accept=True))
    s.now = at(9)
    return s.stub.StartOrder, pb.StartOrderRequest(order_id="o1", request_id="rid-1")


def _complete(s):
    s.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o1")]))
    s.stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o1", accept=True))
    s.stub.StartOrder(pb.StartOrderRequest(order_id="o1", actual_start_time=ts(at(9))))
    s.now = at(11)
    return s.stub.CompleteOrder, pb.CompleteOrderRequest(order_id="o1", request_id="rid-1")


def _locate(s):
    return s.stub.UpdateWorkerLocation, pb.UpdateWorkerLocationRequest(
        worker_id="w1", location=pb.LatLng(latitude=31.2, longitude=121.4), request_id="rid-1")


@pytest.mark.parametrize("setup", [_dispatch, _optimize, _start, _complete, _locate],
                         ids=["Dispatch", "OptimizePlans", "StartOrder", "CompleteOrder",
                              "UpdateWorkerLocation"])
def test_a_retry_a_second_later_gets_the_first_answer(served, setup):
    rpc, request = setup(served)
    first = rpc(request, timeout=60)
    before = served.snapshot()
    served.now += 1  # the same bytes under the same id, a second later
    assert rpc(request, timeout=60) == first
    assert served.snapshot() == before


def test_a_time_the_client_states_is_part_of_the_request(served):
    _, request = _start(served)
    request.actual_start_time.CopyFrom(ts(at(9)))
    served.stub.StartOrder(request, timeout=60)
    request.actual_start_time.CopyFrom(ts(at(9) + 60))
    with pytest.raises(grpc.RpcError) as caught:
        served.stub.StartOrder(request, timeout=60)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


@pytest.mark.parametrize("order_ids,code", [
    (["missing"], grpc.StatusCode.NOT_FOUND),
    (["o1", "o1"], grpc.StatusCode.INVALID_ARGUMENT),
    (["o1", "o2"], grpc.StatusCode.FAILED_PRECONDITION),
])
def test_a_refused_dispatch_lets_no_offer_lapse(served, order_ids, code):
    served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o1")]))  # offered to w1
    served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o2", earliest_start=at(13),
                                                                    latest_start=at(14))]))
    served.stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o2", accept=True))
    before = served.snapshot()
    with pytest.raises(grpc.RpcError) as caught:  # an hour on, o1's offer is past its deadline
        served.stub.Dispatch(pb.DispatchRequest(order_ids=order_ids,
                                                as_of_time=ts(AS_OF + HOUR)), timeout=60)
    assert caught.value.code() == code, caught.value.details()
    assert served.snapshot() == before


def test_a_dispatch_naming_an_instant_order_whose_offer_lapses_is_refused_up_front(served):
    """Its lapse would place it again at once (offered, not pending): the refusal comes
    before, and the offer lapses when the offers tick comes to it."""
    served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o1")]))
    before = served.snapshot()
    with pytest.raises(grpc.RpcError) as caught:
        served.stub.Dispatch(pb.DispatchRequest(order_ids=["o1"],
                                                as_of_time=ts(AS_OF + HOUR)), timeout=60)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "OFFERED" in caught.value.details()
    assert served.snapshot() == before


def test_a_dispatch_naming_an_order_whose_offer_lapses_places_it_again(served):
    served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")]))
    served.stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)), timeout=60)
    assert served.stub.GetOrder(pb.GetOrderRequest(order_id="o1")).order.state == \
        pb.ORDER_STATE_OFFERED
    reply = served.stub.Dispatch(pb.DispatchRequest(order_ids=["o1"],
                                                    as_of_time=ts(AS_OF + HOUR)), timeout=60)
    assert [a.worker_id for a in reply.assignments] == ["w2"]  # w1 let its offer lapse


def test_an_answer_from_a_worker_never_offered_the_order_is_refused(served):
    reply = served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o1")]))
    assert [a.worker_id for a in reply.assignments] == ["w1"]
    before = served.snapshot()
    with pytest.raises(grpc.RpcError) as caught:  # late, too: w1's offer would lapse first
        served.stub.RespondToOffer(pb.RespondToOfferRequest(
            order_id="o1", worker_id="w2", accept=True, as_of_time=ts(AS_OF + HOUR)))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "w2" in caught.value.details()
    assert served.snapshot() == before


def test_an_answer_to_an_order_with_no_worker_names_its_state(served):
    served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")]))  # pending
    with pytest.raises(grpc.RpcError) as caught:
        served.stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o1", accept=True))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "PENDING" in caught.value.details()


@pytest.mark.parametrize("send", [
    lambda stub, reason: stub.SetWorkerStatus(pb.SetWorkerStatusRequest(
        worker_id="w1", status=pb.WORKER_STATUS_OFFLINE, reason=reason), timeout=60),
    lambda stub, reason: stub.CancelOrder(pb.CancelOrderRequest(order_id="o1", reason=reason),
                                          timeout=60),
], ids=["SetWorkerStatus", "CancelOrder"])
def test_a_reason_is_kept_up_to_its_limit_and_refused_past_it(served, send):
    served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")]))
    most = served.config.requests.max_reason_length
    before = served.snapshot()
    with pytest.raises(grpc.RpcError) as caught:
        send(served.stub, "x" * (most + 1))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("reason:")
    assert "requests.max_reason_length" in caught.value.details()
    assert served.snapshot() == before
    send(served.stub, "x" * most)  # at the limit: taken, and readable afterwards
    served.stub.GetOrder(pb.GetOrderRequest(order_id="o1"), timeout=60)
    events = served.stub.WatchEvents(pb.WatchEventsRequest(), timeout=5)
    assert any("x" * most in e.event.detail for e in _until_quiet(events))


def _until_quiet(stream):
    try:
        yield from stream
    except grpc.RpcError as error:
        assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_the_epoch_itself_is_refused_as_a_time(served):
    served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[instant("o1")]))
    served.stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o1", accept=True))
    before = served.snapshot()
    with pytest.raises(grpc.RpcError) as caught:
        served.stub.StartOrder(pb.StartOrderRequest(order_id="o1", actual_start_time=ts(0)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("actual_start_time:")
    assert served.snapshot() == before
    served.stub.StartOrder(pb.StartOrderRequest(order_id="o1", actual_start_time=ts(1)))
    status = served.stub.GetOrder(pb.GetOrderRequest(order_id="o1")).order
    assert status.state == pb.ORDER_STATE_IN_PROGRESS and status.actual_start_time.seconds == 1


def test_a_team_order_with_a_same_worker_link_names_the_proto_field(served):
    team = order_pb("o2", workers_needed=2)
    team.link.CopyFrom(pb.OrderLink(order_id="o1", type=pb.LINK_TYPE_SAME_WORKER))
    with pytest.raises(grpc.RpcError) as caught:
        served.stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1"), team]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details().startswith("orders[1].link.type:"), caught.value.details()
