"""The Prometheus endpoint, scraped over HTTP on loopback after real RPCs."""

from __future__ import annotations

import dataclasses
import urllib.request

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher.config import MetricsConfig
from server import start_server
from tests.builders import at
from tests.test_server import AS_OF, _free_port, order_pb, ts, worker_pb

SERVICE = "homedispatch.v1.DispatchService"


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Every sample of the endpoint: (name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        assert reply.status == 200
        text = reply.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def moved(before, after, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def instant(order: pb.Order) -> pb.Order:
    order.mode = pb.DISPATCH_MODE_INSTANT
    return order


@pytest.fixture
async def metered(config):
    with_metrics = dataclasses.replace(config, metrics=MetricsConfig(port=_free_port()))
    running = await start_server(with_metrics, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield running, dispatch_pb2_grpc.DispatchServiceStub(channel)
    finally:
        await running.stop(0)


async def test_the_counters_move_with_real_rpcs(metered):
    running, stub = metered
    assert running.metrics_http.server_address[0] == "127.0.0.1"  # loopback by default
    before = scrape(running.metrics_port)

    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1"),
                                                              worker_pb("w2")]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[instant(order_pb("o1")),
                instant(order_pb("o2", earliest_start=at(14), latest_start=at(15))),
                instant(order_pb("nobody", service_type="repair"))], as_of_time=ts(AS_OF)))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order_pb(f"b{i}", earliest_start=at(9 + 2 * i), latest_start=at(9 + 2 * i))
                for i in range(3)], as_of_time=ts(AS_OF)))
    dispatched = await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
    await stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o1", accept=True,
                                                       as_of_time=ts(AS_OF)))
    await stub.RespondToOffer(pb.RespondToOfferRequest(order_id="o2", accept=False,
                                                       as_of_time=ts(AS_OF)))
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.GetOrder(pb.GetOrderRequest(order_id="missing"))
    await stub.ReloadConfig(pb.ReloadConfigRequest(config_toml="[weights]\ntravel = -1\n"))
    for _ in range(2):  # each stream counts its start (its handler is wrapped once)
        watch = stub.WatchEvents(pb.WatchEventsRequest())
        await watch.read()  # from the start of the log: the orders above wrote events
        watch.cancel()

    after = scrape(running.metrics_port)
    ok = dict(service=SERVICE, code="OK")
    assert moved(before, after, "homedispatch_requests_total", method="SubmitOrders", **ok) == 2
    assert moved(before, after, "homedispatch_requests_total", method="Dispatch", **ok) == 1
    assert moved(before, after, "homedispatch_requests_total", method="GetOrder",
                 service=SERVICE, code="NOT_FOUND") == 1
    assert moved(before, after, "homedispatch_request_duration_seconds_count",
                 service=SERVICE, method="RespondToOffer") == 2
    # o1, o2 instantly, the three batched orders in the round, o2 again after its decline
    assigned = moved(before, after, "homedispatch_orders_assigned_total")
    assert assigned == 2 + len(dispatched.assignments) + 1
    assert moved(before, after, "homedispatch_orders_unassigned_total",
                 reason="no_eligible_worker") >= 1
    assert moved(before, after, "homedispatch_offers_total", outcome="accepted") == 1
    assert moved(before, after, "homedispatch_offers_total", outcome="declined") == 1
    assert moved(before, after, "homedispatch_dispatch_orders_count") >= 4
    assert moved(before, after, "homedispatch_dispatch_rounds_total") >= 1
    assert moved(before, after, "homedispatch_solver_duration_seconds_count") >= 4
    assert moved(before, after, "homedispatch_store_operation_duration_seconds_count",
                 operation="commit") >= 4
    assert moved(before, after, "homedispatch_config_reloads_total", result="refused") == 1
    assert moved(before, after, "homedispatch_requests_total", method="WatchEvents",
                 service=SERVICE, code="STARTED") == 2


async def test_port_zero_means_no_endpoint(server):
    assert server.metrics_http is None and server.metrics_port == 0


def test_every_metric_follows_the_naming_rules():
    from matcher.metrics import REGISTRY
    for family in REGISTRY.collect():
        assert family.name.startswith("homedispatch_"), family.name
        if family.type == "counter":
            assert all(s.name.endswith(("_total", "_created")) for s in family.samples)
        if family.type == "histogram" and "duration" in family.name:
            assert family.name.endswith("_seconds"), family.name


async def test_re_optimisation_placing_a_pending_order_counts_its_assignment(metered):
    running, stub = metered
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")], as_of_time=ts(AS_OF)))
    before = scrape(running.metrics_port)
    request = pb.OptimizePlansRequest(as_of_time=ts(AS_OF))
    request.time_limit.nanos = 300_000_000
    assert list((await stub.OptimizePlans(request)).orders_placed) == ["o1"]
    after = scrape(running.metrics_port)
    assert moved(before, after, "homedispatch_orders_assigned_total") == 1


def test_the_engines_metrics_expose_what_prometheus_clients_would():
    """The engine's own histograms and counters (observed without locks): observations on
    each bucket's bound, between bounds and past the last one, with labels and without, give
    the bucket, count, sum and total samples of prometheus_client's own (the series in the
    order first seen; the unlabelled ones at 0 before any)."""
    from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

    from matcher.metrics import STORE_SECONDS, LoopCounter, LoopHistogram
    theirs, ours = CollectorRegistry(), CollectorRegistry()
    their_h = Histogram("h_seconds", "doc", ["operation"], buckets=STORE_SECONDS,
                        registry=theirs)
    their_plain = Histogram("p_seconds", "doc", buckets=STORE_SECONDS, registry=theirs)
    their_c = Counter("c_total", "doc", ["type"], registry=theirs)
    our_h = LoopHistogram("h_seconds", "doc", ("operation",), STORE_SECONDS)
    our_plain = LoopHistogram("p_seconds", "doc", (), STORE_SECONDS)
    our_c = LoopCounter("c_total", "doc", ("type",))
    for metric in (our_h, our_plain, our_c):
        ours.register(metric)

    def samples(registry) -> list[str]:
        return [line for line in generate_latest(registry).decode().splitlines()
                if "_created" not in line]

    assert samples(ours) == samples(theirs)  # before any: the unlabelled ones at 0
    values = [*STORE_SECONDS, *(b * 1.5 for b in STORE_SECONDS), 0.0, 1e-9, 99.0]
    for operation, share in (("order", values[::3]), ("commit", values)):
        for value in share:
            for histogram in (their_h.labels(operation), our_h.labels(operation)):
                histogram.observe(value)
            for counter in (their_c.labels(operation), our_c.labels(operation)):
                counter.inc(value)
    for value in values[::2]:
        their_plain.observe(value)
        our_plain.observe(value)
    assert samples(ours) == samples(theirs)
    # (at most the bound: 1e-05 itself, 0 and 1e-9)
    assert 'h_seconds_bucket{le="1e-05",operation="commit"} 3.0' in samples(ours)
    with pytest.raises(ValueError):
        our_c.labels("commit").inc(-1)


def test_a_scrape_while_the_loop_adds_a_series_lists_them_whole():
    """The endpoint's thread scrapes while the event loop's thread adds label series (a new
    store operation, reason or event type): no scrape fails."""
    import sys
    import threading

    from prometheus_client import CollectorRegistry, generate_latest

    from matcher.metrics import LoopCounter, LoopHistogram
    registry = CollectorRegistry()
    counter, histogram = LoopCounter("c_total", "doc", ("k",)), LoopHistogram("h", "doc", ("k",))
    registry.register(counter)
    registry.register(histogram)
    errors, done = [], threading.Event()

    def scrape() -> None:
        while not done.is_set():
            try:
                generate_latest(registry)
            except Exception as error:  # what a failed scrape raised
                errors.append(error)
                return

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    scraper = threading.Thread(target=scrape)
    scraper.start()
    try:
        for i in range(5000):
            counter.labels(str(i)).inc()
            histogram.labels(str(i)).observe(0.001)
    finally:
        done.set()
        scraper.join()
        sys.setswitchinterval(interval)
    assert errors == []
