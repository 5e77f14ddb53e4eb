"""Prometheus metrics of the service, all named ``homedispatch_*`` (``_seconds`` for times,
``_total`` for counters), on one registry of their own (:data:`REGISTRY`).

The server's interceptor counts and times every RPC; the engine reports each dispatch run
(:func:`dispatched`); :class:`TimedStore` times every store call and counts the events each
commit writes (offers accepted, declined and timed out among them). Metrics are process-wide:
several servers in one process (tests) add to the same series.
"""

from __future__ import annotations

import bisect
import functools
import inspect
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.utils import floatToGoString

from matcher.model import EventType

REGISTRY = CollectorRegistry(auto_describe=True)

# Latency buckets from 0.5 ms (an instant order on a warm server) to 30 s (a long re-optimisation).
SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
           10.0, 30.0)
STORE_SECONDS = (0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                 0.1, 0.5, 1.0, 2.5)
ORDERS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)

REQUESTS = Counter("homedispatch_requests_total", "RPCs answered, by method and status code",
                   ["service", "method", "code"], registry=REGISTRY)
REQUEST_SECONDS = Histogram("homedispatch_request_duration_seconds",
                            "Time to answer a unary RPC, by method", ["service", "method"],
                            buckets=SECONDS, registry=REGISTRY)


class _LoopMetric:
    """A metric whose series the engine touches several times per instant order, exposed as
    prometheus_client's own kind is (without its ``_created`` series). An observation is a
    plain addition where prometheus_client's takes a lock per value: the service observes
    from its event loop's thread alone, and a scrape (the endpoint's thread) reads the values
    as they stand. Several servers in one process (tests) may, rarely, lose a count."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = ()) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, labelnames
        self._series: dict[tuple[str, ...], Any] = {}
        self._adding = threading.Lock()  # a series added while a scrape lists them
        if not labelnames:  # shown from the start, as prometheus_client's
            self.labels()

    def labels(self, *values: str) -> Any:
        series = self._series.get(values)
        if series is None:
            with self._adding:
                series = self._series.setdefault(values, self._new_series())
        return series

    def _new_series(self) -> Any:
        raise NotImplementedError

    def _each(self) -> list[tuple[list[str], Any]]:
        """(label values, series) of every series, in the order first seen."""
        with self._adding:
            every = list(self._series.items())
        return [(list(values), series) for values, series in every]


class LoopHistogram(_LoopMetric):
    """A histogram (see :class:`_LoopMetric`)."""

    def __init__(self, name: str, documentation: str, labelnames: tuple[str, ...] = (),
                 buckets: tuple[float, ...] = SECONDS) -> None:
        self.buckets = buckets
        super().__init__(name, documentation, labelnames)

    def _new_series(self) -> "LoopSeries":
        return LoopSeries(self.buckets)

    def observe(self, amount: float) -> None:
        self.labels().observe(amount)

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation,
                                       labels=list(self.labelnames))
        bounds = (*map(floatToGoString, self.buckets), "+Inf")
        for values, series in self._each():
            cumulative = list(itertools.accumulate(list(series.counts)))
            family.add_metric(values, list(zip(bounds, cumulative)), series.sum)
        yield family


class LoopSeries:
    __slots__ = ("buckets", "counts", "sum")

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * (len(buckets) + 1)  # per bucket (not cumulative), then +Inf
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, amount)] += 1  # le: at most the bound
        self.sum += amount


class LoopCounter(_LoopMetric):
    """A counter (see :class:`_LoopMetric`)."""

    def _new_series(self) -> "LoopCount":
        return LoopCount()

    def inc(self, amount: float = 1.0) -> None:
        self.labels().inc(amount)

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(self.name, self.documentation,
                                     labels=list(self.labelnames))
        for values, series in self._each():
            family.add_metric(values, series.value)
        yield family


class LoopCount:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("counters can only be incremented by non-negative amounts")
        self.value += amount


def _registered(metric):
    REGISTRY.register(metric)
    return metric


DISPATCH_ORDERS = _registered(LoopHistogram(
    "homedispatch_dispatch_orders", "Orders one dispatch run plans (a Dispatch round's size; "
    "1 for an instant order)", buckets=ORDERS))
DISPATCH_ROUNDS = _registered(LoopCounter("homedispatch_dispatch_rounds_total",
                                          "Matching rounds run by dispatches"))
SOLVER_SECONDS = _registered(LoopHistogram(
    "homedispatch_solver_duration_seconds",
    "Time one dispatch run spent in the matching solver"))
ASSIGNED = _registered(LoopCounter(
    "homedispatch_orders_assigned_total", "Worker assignments made by dispatches and "
    "re-optimisation (a team job counts each worker)"))
UNASSIGNED = _registered(LoopCounter(
    "homedispatch_orders_unassigned_total",
    "Orders a dispatch left without a worker, by reason code", ("reason",)))
OFFERS = _registered(LoopCounter(
    "homedispatch_offers_total",
    "Offers answered or lapsed, by outcome (accepted, declined, timed_out)", ("outcome",)))
EVENTS = _registered(LoopCounter("homedispatch_events_total", "Events written, by type",
                                 ("type",)))
STORE_LATENCY = _registered(LoopHistogram(
    "homedispatch_store_operation_duration_seconds", "Time of one store call, by operation",
    ("operation",), STORE_SECONDS))
RELOADS = Counter("homedispatch_config_reloads_total", "Config reloads, by result "
                  "(applied, refused)", ["result"], registry=REGISTRY)
CONFIG = Info("homedispatch_config", "The hash of the config in force", registry=REGISTRY)

_OFFER_OUTCOMES = {EventType.ACCEPTED: "accepted", EventType.DECLINED: "declined",
                   EventType.OFFER_TIMED_OUT: "timed_out"}
# Store calls that wait for something to happen rather than do work: not a latency.
_UNTIMED = frozenset({"wait_events"})


@functools.lru_cache(maxsize=1024)
def child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, kept (``labels`` checks and locks on every call, and most
    requests count a few series)."""
    return metric.labels(*labels)


def dispatched(orders: int, result: Any) -> None:
    """Record one dispatch run over ``orders`` orders (a :class:`~matcher.planner.
    DispatchResult`)."""
    DISPATCH_ORDERS.observe(orders)
    DISPATCH_ROUNDS.inc(result.rounds)
    SOLVER_SECONDS.observe(result.solve_seconds)
    ASSIGNED.inc(len(result.assignments))
    for miss in result.unassigned:
        child(UNASSIGNED, miss.reason.name.lower()).inc()


def committed(events: list) -> None:
    """Count the events of a commit the store accepted."""
    for event in events:
        child(EVENTS, event.type.name.lower()).inc()
        outcome = _OFFER_OUTCOMES.get(event.type)
        if outcome is not None:
            child(OFFERS, outcome).inc()


def config_in_force(config_hash: str) -> None:
    CONFIG.info({"hash": config_hash})


class TimedStore:
    """A store that times each of its calls (``homedispatch_store_operation_duration_seconds``)
    and counts the events of each accepted commit; everything else passes through."""

    def __init__(self, store: Any) -> None:
        self._store = store

    @property
    def inner(self) -> Any:
        return self._store

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if name in _UNTIMED or not inspect.iscoroutinefunction(value):
            return value
        timed = self._timed(name, value)
        setattr(self, name, timed)  # found in the instance next time, without __getattr__
        return timed

    @staticmethod
    def _timed(name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        observe = STORE_LATENCY.labels(name).observe

        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = await call(*args, **kwargs)
            finally:
                observe(time.perf_counter() - started)
            if name == "commit":
                committed(args[0].events if args else kwargs["commit"].events)
            return result

        return timed
