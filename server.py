"""The gRPC transport of home-dispatch: proto ⇄ domain converters, request validation, one error
mapper, health, reflection, graceful shutdown and ``main()``.

Run it with ``python server.py --config config/dispatch.toml [--listen HOST:PORT]``. Tests and
embedders use :func:`start_server`, which returns a :class:`RunningServer`.

Everything about dispatching lives in :mod:`matcher`; this module only translates. Times cross
the wire as ``google.protobuf.Timestamp`` and become whole seconds since the epoch (sub-second
``nanos`` are truncated, so 09:00:00.9 is 09:00:00); durations become whole seconds the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import gc
import json
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import prometheus_client
from google.protobuf import any_pb2, duration_pb2, timestamp_pb2
from google.protobuf.message import Message as ProtoMessage
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from geo import spatial
from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc as pb_grpc
from matcher import (block_tally, config_reload, eligibility, insertion, matching, metrics,
                     scoring, world)
from matcher.config import ConfigError, DispatchConfig, load_config, to_toml
from matcher.engine import CancelledBy, Engine, Leg, Region
from matcher.engine_lifecycle import CreditStanding, Feedback
from matcher.errors import (Aborted, AlreadyExists, DomainError, FailedPrecondition,
                            InvalidArgument, NotFound, Unavailable)
from matcher.model import (MAX_PRIORITY, Assignment, Break, Complaint, DispatchMode, Event,
                           EventType, FeedbackSource, LinkType, Location, Order, OrderLink,
                           OrderRecord, OrderState, ScoreTerm, Shift, Skill, Unassigned,
                           UnassignedReason, Worker, WorkerStatus)
from matcher.explain import unassigned_reason
from matcher.optimizer_process import OptimizerProcess
from matcher.planner import Candidate, Explanation
from matcher.request_context import (METADATA_KEY, REQUEST_ID, RequestIdFilter,
                                     request_id_from)
from matcher.store import MemoryStore, Store
from server_decode import decode
from server_limits import check_request

STORE_ENV = "HOME_DISPATCH_STORE"

log = logging.getLogger("homedispatch.server")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["DispatchService"].full_name
ERROR_DOMAIN = "homedispatch"
DEFAULT_TOP_K = 5
# Times the service plans with: after 1970-01-01T00:00:00Z (the engine reads time 0 as "not yet",
# a job not started, say) and before 9999-01-01 UTC. (A Timestamp may reach 9999-12-31, but a
# service day there would end in the year 10000, which the calendar cannot represent.)
MIN_TIME_S, MAX_TIME_S = 1, 253_370_764_800


# ====================================================================== converters: proto -> domain

class _field:  # (lower case: used as a function, `with _field("orders[0]"):`)
    """Put ``prefix`` in front of the field path of an InvalidArgument raised inside. (A
    class: every item of a request's batch is converted inside one, and a generator-based
    context manager cost a third of converting an order.)"""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, error: BaseException | None, trace: Any) -> bool:
        if isinstance(error, InvalidArgument):
            raise error.under(self.prefix) from None
        return False


# The most nanos a well-formed Timestamp or Duration holds (google/protobuf/*.proto).
_MAX_NANOS = 999_999_999


def _seconds(ts: timestamp_pb2.Timestamp, field: str) -> int:
    """A Timestamp as whole seconds since the epoch; nanos (in [0, 999999999]) are
    truncated."""
    if not MIN_TIME_S <= ts.seconds < MAX_TIME_S:
        raise InvalidArgument(field, f"must lie after 1970-01-01T00:00:00Z and before "
                                     f"9999-01-01 UTC, got {ts.seconds} s")
    if not 0 <= ts.nanos <= _MAX_NANOS:
        raise InvalidArgument(field, f"nanos must be in [0, {_MAX_NANOS}], got {ts.nanos}")
    return ts.seconds


def _duration_s(d: duration_pb2.Duration, field: str) -> int:
    """A well-formed Duration (:func:`_check_duration`) as whole seconds; nanos are
    truncated (toward zero)."""
    _check_duration(d, field)
    return d.seconds


def _check_duration(d: duration_pb2.Duration, field: str) -> None:
    """Refuse a Duration protobuf calls malformed: nanos beyond +-999999999, or of the other
    sign than a non-zero seconds (read as they are, 1 s and 5e9 ns would be 6 s)."""
    if not -_MAX_NANOS <= d.nanos <= _MAX_NANOS or d.seconds * d.nanos < 0:
        raise InvalidArgument(field, f"nanos must be in [-{_MAX_NANOS}, {_MAX_NANOS}] with the "
                                     f"sign of seconds, got seconds={d.seconds}, "
                                     f"nanos={d.nanos}")


class _EnumMap:
    """A proto enum (``PREFIX_NAME``) and the domain enum of the same names (``NAME``)."""

    def __init__(self, proto_enum: Any, domain_enum: type, prefix: str) -> None:
        self.proto_enum = proto_enum
        # both ways worked out once: every order and answer converts one or two
        self._domain = {number: domain_enum[name.removeprefix(prefix)]
                        for name, number in proto_enum.items()
                        if name.removeprefix(prefix) in domain_enum.__members__}
        self._proto = {member: proto_enum.Value(prefix + member.name)
                       for member in domain_enum if prefix + member.name in proto_enum.keys()}

    def to_domain(self, value: int, field: str, default: Any) -> Any:
        if value == 0:
            return default
        try:
            return self._domain[value]
        except KeyError:
            names = ", ".join(n for n in self.proto_enum.keys() if not n.endswith("UNSPECIFIED"))
            raise InvalidArgument(field, f"unknown enum value {value} (allowed: {names})") \
                from None

    def to_proto(self, value: Any) -> int:
        return self._proto[value]


WORKER_STATUS = _EnumMap(pb.WorkerStatus, WorkerStatus, "WORKER_STATUS_")
DISPATCH_MODE = _EnumMap(pb.DispatchMode, DispatchMode, "DISPATCH_MODE_")
ORDER_STATE = _EnumMap(pb.OrderState, OrderState, "ORDER_STATE_")
UNASSIGNED_REASON = _EnumMap(pb.UnassignedReason, UnassignedReason, "UNASSIGNED_REASON_")
LINK_TYPE = _EnumMap(pb.LinkType, LinkType, "LINK_TYPE_")
CANCELLED_BY = _EnumMap(pb.CancelledBy, CancelledBy, "CANCELLED_BY_")
COMPLAINT = _EnumMap(pb.ComplaintSeverity, Complaint, "COMPLAINT_SEVERITY_")
FEEDBACK_SOURCE = _EnumMap(pb.FeedbackSource, FeedbackSource, "FEEDBACK_SOURCE_")
EVENT_TYPE = _EnumMap(pb.EventType, EventType, "EVENT_TYPE_")
# Events one WatchEvents read takes from the store at most, and how long it waits for more.
EVENT_BATCH, EVENT_WAIT_S = 256, 1.0


def _require_message(msg: Any, name: str) -> None:
    if not msg.HasField(name):
        raise InvalidArgument(name, "must be set")


def skill_from_proto(msg: pb.Skill) -> Skill:
    return Skill(msg.service_type, msg.level,
                 _seconds(msg.certified_until_time, "certified_until_time"))


def shift_from_proto(msg: pb.Shift) -> Shift:
    return Shift(_seconds(msg.start_time, "start_time"), _seconds(msg.end_time, "end_time"))


def break_from_proto(msg: pb.Break) -> Break:
    return Break(_seconds(msg.window_start_time, "window_start_time"),
                 _seconds(msg.window_end_time, "window_end_time"),
                 _duration_s(msg.duration, "duration"))


def worker_from_proto(msg: pb.Worker) -> Worker:
    """A proto Worker as a domain Worker; bad values raise InvalidArgument naming the field."""
    _require_message(msg, "home")
    skills, shifts, breaks = [], [], []
    for k, skill in enumerate(msg.skills):
        with _field(f"skills[{k}]"):
            skills.append(skill_from_proto(skill))
    for k, shift in enumerate(msg.shifts):
        with _field(f"shifts[{k}]"):
            shifts.append(shift_from_proto(shift))
    for k, pause in enumerate(msg.breaks):
        with _field(f"breaks[{k}]"):
            breaks.append(break_from_proto(pause))
    return Worker(
        worker_id=msg.worker_id, agency_id=msg.agency_id,
        home_lat=msg.home.latitude, home_lon=msg.home.longitude,
        skills=tuple(skills), credit_score=msg.credit_score, shifts=tuple(shifts),
        max_jobs_per_day=msg.max_jobs_per_day, tags=frozenset(msg.tags),
        status=WORKER_STATUS.to_domain(msg.status, "status", WorkerStatus.ONLINE),
        max_work_minutes_per_day=msg.max_work_minutes_per_day, breaks=tuple(breaks))


def order_from_proto(msg: pb.Order) -> Order:
    """A proto Order as a domain Order; bad values raise InvalidArgument naming the field."""
    _require_message(msg, "location")
    link = None
    if msg.HasField("link"):
        with _field("link"):
            link = link_from_proto(msg.link)
    return Order(
        order_id=msg.order_id, customer_id=msg.customer_id, service_type=msg.service_type,
        min_skill_level=msg.min_skill_level,
        lat=msg.location.latitude, lon=msg.location.longitude,
        earliest_start=_seconds(msg.earliest_start_time, "earliest_start_time"),
        latest_start=_seconds(msg.latest_start_time, "latest_start_time"),
        duration=_duration_s(msg.duration, "duration"), priority=msg.priority,
        required_tags=frozenset(msg.required_tags),
        preferred_worker_ids=frozenset(msg.preferred_worker_ids),
        blocked_worker_ids=frozenset(msg.blocked_worker_ids),
        workers_needed=msg.workers_needed or 1,
        mode=DISPATCH_MODE.to_domain(msg.mode, "mode", DispatchMode.BATCHED), link=link)


def link_from_proto(msg: pb.OrderLink) -> OrderLink:
    if msg.type == pb.LINK_TYPE_UNSPECIFIED:
        raise InvalidArgument("type", "must be set (LINK_TYPE_SAME_WORKER or "
                                      "LINK_TYPE_START_GAP)")
    return OrderLink(_required_id(msg.order_id, "order_id"),
                     LINK_TYPE.to_domain(msg.type, "type", None),
                     _duration_s(msg.min_gap, "min_gap"), _duration_s(msg.max_gap, "max_gap"))


def _batch(items: Sequence[Any], name: str, convert: Callable[[Any], Any]) -> list[Any]:
    """Convert a whole request batch (or raise for its first bad item) before anything runs."""
    if not items:
        raise InvalidArgument(name, "must not be empty")
    converted = []
    for i, item in enumerate(items):
        with _field(f"{name}[{i}]"):
            converted.append(convert(item))
    return converted


def _required_id(value: str, field: str) -> str:
    if not value:
        raise InvalidArgument(field, "must not be empty")
    return value


def _check_latlng(msg: pb.LatLng) -> None:
    if not (math.isfinite(msg.latitude) and -90.0 <= msg.latitude <= 90.0):
        raise InvalidArgument("latitude", f"must be a finite number in [-90, 90], "
                                          f"got {msg.latitude!r}")
    if not (math.isfinite(msg.longitude) and -180.0 <= msg.longitude <= 180.0):
        raise InvalidArgument("longitude", f"must be a finite number in [-180, 180], "
                                           f"got {msg.longitude!r}")


def region_from_proto(request: pb.DispatchRequest) -> Region | None:
    """The optional Dispatch region: none when neither a radius nor a center is given."""
    radius = request.region_radius_km
    if radius == 0 and not request.HasField("region_center"):
        return None
    if not (math.isfinite(radius) and radius > 0):
        raise InvalidArgument("region_radius_km",
                              f"must be a finite number > 0 for a region, got {radius!r}")
    _require_message(request, "region_center")
    with _field("region_center"):
        _check_latlng(request.region_center)
    return Region(request.region_center.latitude, request.region_center.longitude, radius)


# ====================================================================== converters: domain -> proto

# A Timestamp, Duration or ScoreTerm field is given to a message's constructor as a dict: the
# field is built in place, where a message given would be built and then copied (an instant
# order's answer took 17 us to build with messages, 10 us with dicts).

def _ts(seconds: int) -> dict[str, int]:
    """A Timestamp field's value."""
    return {"seconds": seconds}


def _dur(seconds: int) -> dict[str, int]:
    """A Duration field's value."""
    return {"seconds": seconds}


def worker_to_proto(worker: Worker, tier: str = "") -> pb.Worker:
    return pb.Worker(credit_tier=tier,
        worker_id=worker.worker_id, agency_id=worker.agency_id,
        home=pb.LatLng(latitude=worker.home_lat, longitude=worker.home_lon),
        skills=[pb.Skill(service_type=s.service_type, level=s.level,
                         certified_until_time=_ts(s.certified_until)) for s in worker.skills],
        credit_score=worker.credit_score,
        shifts=[pb.Shift(start_time=_ts(s.start), end_time=_ts(s.end)) for s in worker.shifts],
        max_jobs_per_day=worker.max_jobs_per_day, tags=sorted(worker.tags),
        status=WORKER_STATUS.to_proto(worker.status),
        max_work_minutes_per_day=worker.max_work_minutes_per_day,
        breaks=[pb.Break(window_start_time=_ts(b.start), window_end_time=_ts(b.end),
                         duration=_dur(b.duration)) for b in worker.breaks])


def order_to_proto(order: Order) -> pb.Order:
    return pb.Order(
        order_id=order.order_id, customer_id=order.customer_id, service_type=order.service_type,
        min_skill_level=order.min_skill_level,
        location=pb.LatLng(latitude=order.lat, longitude=order.lon),
        earliest_start_time=_ts(order.earliest_start), latest_start_time=_ts(order.latest_start),
        duration=_dur(order.duration), priority=order.priority,
        required_tags=sorted(order.required_tags),
        preferred_worker_ids=sorted(order.preferred_worker_ids),
        blocked_worker_ids=sorted(order.blocked_worker_ids),
        workers_needed=order.workers_needed, mode=DISPATCH_MODE.to_proto(order.mode),
        link=link_to_proto(order.link))


def link_to_proto(link: OrderLink | None) -> pb.OrderLink | None:
    if link is None:
        return None
    return pb.OrderLink(order_id=link.order_id, type=LINK_TYPE.to_proto(link.kind),
                        min_gap=_dur(link.min_gap), max_gap=_dur(link.max_gap))


def score_terms_to_proto(terms: Sequence[ScoreTerm]) -> list[dict[str, Any]]:
    """A repeated ScoreTerm field's value."""
    return [{"name": t.name, "weight": t.weight, "value": t.value,
             "contribution": t.contribution} for t in terms]


def assignment_to_proto(a: Assignment) -> pb.Assignment:
    return pb.Assignment(
        order_id=a.order_id, worker_id=a.worker_id, planned_start_time=_ts(a.planned_start),
        planned_end_time=_ts(a.planned_end), travel_duration=_dur(a.travel_s),
        travel_km=a.travel_km, added_travel_duration=_dur(a.added_travel_s),
        added_travel_km=a.added_travel_km, score=a.score,
        score_terms=score_terms_to_proto(a.score_terms), config_hash=a.config_hash,
        late_duration=_dur(a.late_s))


def unassigned_to_proto(u: Unassigned) -> pb.UnassignedOrder:
    return pb.UnassignedOrder(order_id=u.order_id, reason=UNASSIGNED_REASON.to_proto(u.reason),
                              detail=u.detail)


def order_status_to_proto(record: OrderRecord) -> pb.OrderStatus:
    status = pb.OrderStatus(order=order_to_proto(record.order),
                            state=ORDER_STATE.to_proto(record.state),
                            submit_time=_ts(record.submitted_at))
    if record.assignment is not None:
        status.assignment.CopyFrom(assignment_to_proto(record.assignment))
    status.assignments.extend(assignment_to_proto(a) for a in record.assignments)
    if record.unassigned is not None:
        status.unassigned.CopyFrom(unassigned_to_proto(record.unassigned))
    if record.offer_deadline:
        status.offer_deadline_time.seconds = record.offer_deadline
    if record.started_at:
        status.actual_start_time.seconds = record.started_at
    if record.completed_at:
        status.actual_end_time.seconds = record.completed_at
    status.accepted_worker_ids.extend(sorted(record.accepted))
    status.excluded_worker_ids.extend(sorted(record.excluded))
    status.effective_priority = min(MAX_PRIORITY, record.order.priority + record.priority_boost)
    status.history.extend(record.history)
    return status


def event_to_proto(event: Event) -> pb.Event:
    return pb.Event(cursor=event.cursor, type=EVENT_TYPE.to_proto(event.type),
                    event_time=_ts(event.time), order_id=event.order_id,
                    worker_id=event.worker_id, detail=event.detail)


def credit_to_proto(standing: CreditStanding) -> pb.WorkerCredit:
    return pb.WorkerCredit(worker_id=standing.worker_id, credit_score=standing.credit_score,
                           tier=standing.tier)


def feedback_from_proto(request: pb.SubmitFeedbackRequest) -> Feedback:
    return Feedback(
        stars=request.stars,
        complaint=COMPLAINT.to_domain(request.complaint, "complaint", Complaint.NONE),
        on_time=request.on_time if request.HasField("on_time") else None,
        no_show=request.no_show,
        source=FEEDBACK_SOURCE.to_domain(request.source, "source", FeedbackSource.CUSTOMER),
        worker_id=request.worker_id)


def scheduled_job_to_proto(leg: Leg) -> pb.ScheduledJob:
    job = leg.job
    return pb.ScheduledJob(
        order_id=job.order_id, planned_start_time=_ts(job.start), planned_end_time=_ts(job.end),
        travel_duration=_dur(leg.travel_s), travel_km=leg.travel_km,
        location=pb.LatLng(latitude=job.lat, longitude=job.lon),
        service_type=job.service_type, customer_id=job.customer_id)


def candidate_to_proto(c: Candidate) -> pb.Candidate:
    ins = c.insertion
    return pb.Candidate(worker_id=c.worker_id, planned_start_time=_ts(ins.start),
                        travel_duration=_dur(ins.travel_s), travel_km=ins.travel_km,
                        score=c.score, score_terms=score_terms_to_proto(c.terms),
                        late_duration=_dur(ins.late_s))


# ====================================================================== errors

_CODES: tuple[tuple[type[DomainError], grpc.StatusCode], ...] = (
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (Aborted, grpc.StatusCode.ABORTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
)


def _rich_status(code: grpc.StatusCode, message: str, reason: str,
                 field: str | None = None, description: str = "") -> grpc.Status:
    """A gRPC status with ``google.rpc`` details: ErrorInfo, and BadRequest when a field is
    named."""
    details = [error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN)]
    if field is not None:
        details.append(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)]))
    packed = []
    for detail in details:
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return rpc_status.to_status(status_pb2.Status(code=code.value[0], message=message,
                                                  details=packed))


def error_status(error: Exception) -> grpc.Status:
    """The one mapping from a domain error to a gRPC status; anything else is INTERNAL."""
    for cls, code in _CODES:
        if isinstance(error, cls):
            if isinstance(error, InvalidArgument):
                return _rich_status(code, str(error), error.reason, error.field,
                                    error.description)
            return _rich_status(code, str(error), error.reason)
    return _rich_status(grpc.StatusCode.INTERNAL, "internal error; see the server log",
                        "INTERNAL")


def _with_request_id(status: grpc.Status) -> grpc.Status:
    """``status`` with the current request id in its trailing metadata (an abort replaces any
    trailing metadata set before it)."""
    request_id = REQUEST_ID.get()
    if not request_id:
        return status
    return status._replace(trailing_metadata=tuple(status.trailing_metadata or ())
                           + ((METADATA_KEY, request_id),))


def _rpc(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Run a servicer method; turn what it raises into a gRPC status through
    :func:`error_status`. Unexpected exceptions are logged and become INTERNAL."""
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            status = error_status(error)
            if status.code == grpc.StatusCode.INTERNAL:
                log.exception("unexpected error in %s (request_id=%r)", method.__name__,
                              getattr(request, "request_id", ""))
        await context.abort_with_status(_with_request_id(status))
    return wrapper


def keep_out_of_gc() -> None:
    """Move every object alive now out of the garbage collector's sight (``gc.freeze``).

    The workers of a city are hundreds of thousands of long-lived objects; every full
    collection walked all of them (about 50 ms for 20,000 workers, a pause in whatever request
    it fell into). Frozen, they are still freed by reference counting when they go; only a
    reference cycle alive at the freeze would outlive its last use. Cheap: no object is
    visited."""
    gc.freeze()


# Objects allocated between two young-generation collections (CPython's default: 700). A
# request allocates a few thousand; a larger young generation lets most of them die before a
# collection looks at them, and pushes fewer survivors to the older generations.
GC_YOUNG_THRESHOLD = 20_000


# Turns of the event loop a SubmitOrders request that got the engine's lock waits for the ones
# the server has already received to queue behind it (matcher.engine.Engine._gather): a call's
# handler needs a few turns from its arrival to the engine. Under the load benchmark (8 in
# flight) 4 turns gave drains of 3.5 requests on average, 10 turns 4.2 and 3-7% more orders
# per second (0: always 1).
GATHER_TURNS = 10


# The longest search one OptimizePlans request may ask for (the config's limit has the same).
MAX_OPTIMIZE_S = 600.0


# ====================================================================== servicer

class DispatchServicer(pb_grpc.DispatchServiceServicer):
    """The DispatchService RPCs over one :class:`Engine`; ``clock`` supplies "now" when a
    request leaves ``as_of_time`` unset."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time,
                 config_path: str | None = None) -> None:
        self.engine = engine
        self._clock = clock
        self.config_path = config_path
        # GetConfig's answer for the config it was rendered from: rendering the TOML and
        # hashing the whole config cost three health checks' worth of CPU per call
        self._config_answer: tuple[DispatchConfig | None, pb.GetConfigResponse] = (
            None, pb.GetConfigResponse())

    def _now(self, request: Any, field: str = "as_of_time") -> int:
        if request.HasField(field):
            return _seconds(getattr(request, field), field)
        return int(self._clock())

    @_rpc
    async def UpsertWorkers(self, request, context):
        workers = _batch(request.workers, "workers", worker_from_proto)
        count = await self.engine.upsert_workers(workers, request.request_id,
                                                 now=int(self._clock()))
        keep_out_of_gc()
        return pb.UpsertWorkersResponse(upserted_count=count)

    @_rpc
    async def SubmitOrders(self, request, context):
        orders = _batch(request.orders, "orders", order_from_proto)
        result = await self.engine.submit_orders(orders, self._now(request), request.request_id)
        return pb.SubmitOrdersResponse(
            assignments=[assignment_to_proto(a) for a in result.assignments],
            unassigned=[unassigned_to_proto(u) for u in result.unassigned],
            accepted_count=result.accepted)

    @_rpc
    async def Dispatch(self, request, context):
        order_ids = [_required_id(oid, f"order_ids[{i}]")
                     for i, oid in enumerate(request.order_ids)]
        region = region_from_proto(request)
        result = await self.engine.dispatch(order_ids, self._now(request), region,
                                            request.request_id)
        solve = duration_pb2.Duration()
        solve.FromNanoseconds(int(result.solve_seconds * 1e9))
        return pb.DispatchResponse(
            assignments=[assignment_to_proto(a) for a in result.assignments],
            unassigned=[unassigned_to_proto(u) for u in result.unassigned],
            rounds=result.rounds, solve_duration=solve)

    @_rpc
    async def ExplainOrder(self, request, context):
        order_id = _required_id(request.order_id, "order_id")
        most = self.engine.config.requests.max_top_k
        if not 0 <= request.top_k <= most:
            raise InvalidArgument("top_k", f"must be in [0, {most}] (0 means {DEFAULT_TOP_K}; "
                                           f"requests.max_top_k), got {request.top_k}")
        now = self._now(request)
        record, why = await self.engine.explain(order_id, now)
        unassigned = await explain_unassigned(self.engine, record, why, now)
        return pb.ExplainOrderResponse(
            unassigned=unassigned_to_proto(unassigned) if unassigned else None,
            order=order_status_to_proto(record), total_workers=why.total_workers,
            feasible_workers=len(why.candidates),
            constraint_counts=[pb.ConstraintCount(constraint=name, ruled_out=n)
                               for name, n in why.ruled_out.items()],
            candidates=[candidate_to_proto(c)
                        for c in why.candidates[:request.top_k or min(DEFAULT_TOP_K, most)]])

    @_rpc
    async def GetOrder(self, request, context):
        record = await self.engine.order(_required_id(request.order_id, "order_id"))
        return pb.GetOrderResponse(order=order_status_to_proto(record))

    @_rpc
    async def CancelOrder(self, request, context):
        order_id = _required_id(request.order_id, "order_id")
        by = CANCELLED_BY.to_domain(request.cancelled_by, "cancelled_by", CancelledBy.CUSTOMER)
        record = await self.engine.cancel_order(order_id, request.reason, request.request_id,
                                                by=by, worker_id=request.worker_id,
                                                now=self._now(request))
        return pb.CancelOrderResponse(order=order_status_to_proto(record))

    @_rpc
    async def GetWorkerSchedule(self, request, context):
        worker, legs = await self.engine.worker_schedule(
            _required_id(request.worker_id, "worker_id"))
        return pb.GetWorkerScheduleResponse(jobs=[scheduled_job_to_proto(leg) for leg in legs],
                                            worker=self._worker_out(worker))

    def _worker_out(self, worker: Worker) -> pb.Worker:
        return worker_to_proto(worker, self.engine.planner.tiers.tier_of(worker.credit_score))

    @_rpc
    async def GetConfig(self, request, context):
        config = self.engine.config
        rendered, answer = self._config_answer
        if rendered is not config:
            answer = pb.GetConfigResponse(config_toml=to_toml(config), config_hash=config.hash)
            self._config_answer = (config, answer)
        return answer

    @_rpc
    async def UpdateWorkerLocation(self, request, context):
        worker_id = _required_id(request.worker_id, "worker_id")
        _require_message(request, "location")
        with _field("location"):
            _check_latlng(request.location)
        now = int(self._clock())
        reported = self._now(request, "report_time")
        if reported > now:
            raise InvalidArgument("report_time", f"is after the server clock ({reported} > "
                                                 f"{now})")
        location = Location(request.location.latitude, request.location.longitude, reported)
        await self.engine.update_location(worker_id, location, request.request_id,
                                          from_clock=not request.HasField("report_time"))
        return pb.UpdateWorkerLocationResponse()

    @_rpc
    async def SetWorkerStatus(self, request, context):
        worker_id = _required_id(request.worker_id, "worker_id")
        if request.status == pb.WORKER_STATUS_UNSPECIFIED:
            raise InvalidArgument("status", "must be set")
        status = WORKER_STATUS.to_domain(request.status, "status", None)
        worker = await self.engine.set_worker_status(worker_id, status, self._now(request),
                                                     request.reason, request.request_id)
        return pb.SetWorkerStatusResponse(worker=self._worker_out(worker))

    @_rpc
    async def OptimizePlans(self, request, context):
        worker_ids = [_required_id(wid, f"worker_ids[{i}]")
                      for i, wid in enumerate(request.worker_ids)]
        limit = None
        if request.HasField("time_limit"):
            _check_duration(request.time_limit, "time_limit")
            limit = request.time_limit.ToNanoseconds() / 1e9
            if not 0.01 <= limit <= MAX_OPTIMIZE_S:
                raise InvalidArgument("time_limit", f"must be in [0.01, {MAX_OPTIMIZE_S}] s, "
                                                    f"got {limit:g} s")
        result = await self.engine.optimize_plans(worker_ids, self._now(request), limit,
                                                  request.request_id)
        return pb.OptimizePlansResponse(
            jobs_moved=result.moved, travel_km_before=result.before.travel_km,
            travel_km_after=result.after.travel_km, score_before=-result.before.total,
            score_after=-result.after.total, lateness_before=_dur(result.before.late_s),
            lateness_after=_dur(result.after.late_s), orders_placed=list(result.placed),
            improved=result.improved, detail=result.note)

    @_rpc
    async def RespondToOffer(self, request, context):
        order_id = _required_id(request.order_id, "order_id")
        record = await self.engine.respond_to_offer(order_id, request.worker_id, request.accept,
                                                    self._now(request), request.request_id)
        return pb.RespondToOfferResponse(order=order_status_to_proto(record))

    @_rpc
    async def StartOrder(self, request, context):
        order_id = _required_id(request.order_id, "order_id")
        record = await self.engine.start_order(
            order_id, self._now(request, "actual_start_time"), request.request_id,
            from_clock=not request.HasField("actual_start_time"))
        return pb.StartOrderResponse(order=order_status_to_proto(record))

    @_rpc
    async def CompleteOrder(self, request, context):
        order_id = _required_id(request.order_id, "order_id")
        start = (_seconds(request.actual_start_time, "actual_start_time")
                 if request.HasField("actual_start_time") else None)
        end = self._now(request, "actual_end_time")
        record = await self.engine.complete_order(
            order_id, start, end, request.request_id,
            from_clock=not request.HasField("actual_end_time"))
        return pb.CompleteOrderResponse(order=order_status_to_proto(record))

    @_rpc
    async def SubmitFeedback(self, request, context):
        order_id = _required_id(request.order_id, "order_id")
        standings = await self.engine.submit_feedback(order_id, feedback_from_proto(request),
                                                      self._now(request), request.request_id)
        first = standings[0]
        return pb.SubmitFeedbackResponse(credit_score=first.credit_score, tier=first.tier,
                                         workers=[credit_to_proto(s) for s in standings])

    async def WatchEvents(self, request, context):
        """Every event after ``after_cursor``, then new ones as they come, until the client
        goes away. A cursor this service never gave out is INVALID_ARGUMENT; one whose events
        are no longer kept (``store.event_retention``) is FAILED_PRECONDITION."""
        cursor = request.after_cursor
        try:
            await self.engine.store.events_after(cursor, 0)
        except DomainError as error:
            await context.abort_with_status(error_status(error))
        while True:
            try:
                events = await self.engine.events(cursor, EVENT_BATCH, EVENT_WAIT_S)
            except DomainError as error:  # a watcher so slow that its events were dropped
                await context.abort_with_status(error_status(error))
            for event in events:
                yield pb.WatchEventsResponse(event=event_to_proto(event))
                cursor = event.cursor

    @_rpc
    async def ReloadConfig(self, request, context):
        async def reload() -> tuple[bool, str, tuple[str, ...]]:
            if request.config_toml:
                outcome = await config_reload.reload(self.engine, request.config_toml,
                                                     "ReloadConfig")
            else:
                outcome = await reload_config_file(self.engine, self.config_path)
            return outcome.applied, outcome.config.hash, outcome.errors

        # The answer, as plain values, is what a retry with the same request_id gets back.
        applied, config_hash, errors = await self.engine.once(
            request.request_id, ("reload", request.config_toml), reload)
        return pb.ReloadConfigResponse(applied=applied, config_hash=config_hash,
                                       errors=list(errors))


async def explain_unassigned(engine: Engine, record: OrderRecord, why: Explanation,
                             now: int) -> Unassigned | None:
    """The reason code of an order without a worker (:mod:`matcher.explain`)."""
    order = record.order
    linked = None
    if order.link is not None:
        with contextlib.suppress(NotFound):
            linked = await engine.order(order.link.order_id)
    hard_latest = order.latest_start + engine.planner.search.max_late_s(order.service_type)
    return unassigned_reason(record, why, now, hard_latest, linked, await engine.by_hand(record))


async def reload_config_file(engine: Engine, path: str | None) -> config_reload.ReloadOutcome:
    """Re-read the config file the server started with and put it in force when valid (what
    SIGHUP and an empty ``ReloadConfig`` do)."""
    if path is None:
        raise FailedPrecondition("config_toml: the server was started without a config file; "
                                 "send the TOML text in config_toml")
    return await config_reload.reload_file(engine, path)


# ====================================================================== interceptor

# A call whose deadline leaves less than this is refused before anything is done. A client
# whose deadline has already passed still sends its request, with the shortest timeout the
# wire can say (about a millisecond): refusing it here keeps such a request from changing the
# state while its client reports DEADLINE_EXCEEDED. No answer comes back that fast anyway.
MIN_TIME_TO_ANSWER_S = 0.002

class RequestScope(grpc.aio.ServerInterceptor):
    """Around every unary call: the config in force when the call starts is the one it uses to
    the end (a reload meanwhile changes nothing for it); it runs under a request id (the
    client's ``x-request-id`` or a fresh one, returned in the trailing metadata) that every log
    line it causes carries; it is counted and timed (``homedispatch_requests_total``,
    ``homedispatch_request_duration_seconds``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # method -> (its handler, the handler wrapping it, the counter of a stream's starts)
        self._wrapped: dict[str, tuple[Any, Any, Any]] = {}

    async def intercept_service(self, continuation, details):
        handler = await continuation(details)
        if handler is None or handler.request_streaming:
            return handler
        # a method's handler is the same on every call: wrapped once (wrapping it on every
        # call built a handler, a closure and a metric lookup per request)
        known = self._wrapped.get(details.method)
        if known is None or known[0] is not handler:
            known = self._wrapped[details.method] = (handler, *self._wrap(handler, details))
        _, wrapped, started = known
        if started is not None:
            started.inc()
        return wrapped

    def _wrap(self, handler, details) -> tuple[Any, Any]:
        """The handler that admits, scopes and counts calls of ``handler``'s method (itself
        when its requests are not protobuf messages), and the counter of a stream's starts."""
        service, _, method = details.method.strip("/").rpartition("/")
        message = getattr(handler.request_deserializer, "__self__", None)
        if not (isinstance(message, type) and issubclass(message, ProtoMessage)):
            return handler, None
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._streamed(handler.unary_stream, message),
                response_serializer=handler.response_serializer), metrics.child(
                metrics.REQUESTS, service, method, "STARTED")
        return grpc.unary_unary_rpc_method_handler(
            self._scoped(handler.unary_unary, message, service, method),
            response_serializer=handler.response_serializer), None

    def _scoped(self, inner, message: type, service: str, method: str):
        engine = self.engine
        timer = metrics.REQUEST_SECONDS.labels(service, method)

        async def scoped(data: bytes, context: grpc.aio.ServicerContext) -> Any:
            started, code = time.perf_counter(), "OK"
            request_id = request_id_from(context.invocation_metadata())
            token = REQUEST_ID.set(request_id)
            try:
                with engine.pinned():
                    request = await _admitted(message, data, engine.config, context)
                    response = await inner(request, context)
                context.set_trailing_metadata(((METADATA_KEY, request_id),))
                return response
            except grpc.aio.AbortError:
                code = _code_name(context.code())
                raise
            except asyncio.CancelledError:
                code = "CANCELLED"
                raise
            except BaseException:
                code = "UNKNOWN"
                raise
            finally:
                elapsed = time.perf_counter() - started
                timer.observe(elapsed)
                metrics.child(metrics.REQUESTS, service, method, code).inc()
                log.debug("%s %s in %.1f ms", method, code, elapsed * 1000)
                REQUEST_ID.reset(token)

        return scoped

    def _streamed(self, inner, message: type):
        engine = self.engine

        async def streamed(data: bytes, context: grpc.aio.ServicerContext):
            request = await _admitted(message, data, engine.config, context)
            async for response in inner(request, context):
                yield response

        return streamed


async def _admitted(message: type, data: bytes, config: DispatchConfig,
                    context: grpc.aio.ServicerContext) -> Any:
    """The request ``data`` encodes, when the call may go on: its deadline leaves time to
    answer (else DEADLINE_EXCEEDED and nothing is done; :data:`MIN_TIME_TO_ANSWER_S`), it
    parses (else INVALID_ARGUMENT naming the broken field) and it is within the
    ``[requests]`` limits (else INVALID_ARGUMENT naming the field and the limit)."""
    remaining = context.time_remaining()
    if remaining is not None and remaining < MIN_TIME_TO_ANSWER_S:
        await context.abort_with_status(_with_request_id(_rich_status(
            grpc.StatusCode.DEADLINE_EXCEEDED, f"the deadline leaves no time to answer "
            f"({max(remaining, 0) * 1000:.2f} ms left); nothing was done", "DEADLINE_EXCEEDED")))
    try:
        request = decode(message, data)
        check_request(request, config.requests, len(data))
    except InvalidArgument as error:
        await context.abort_with_status(_with_request_id(error_status(error)))
    return request


def _code_name(code: Any) -> str:
    """A status code's name, from a ``grpc.StatusCode`` or its number."""
    if isinstance(code, grpc.StatusCode):
        return code.name
    return next((c.name for c in grpc.StatusCode if c.value[0] == code), "UNKNOWN")


# ====================================================================== server

@dataclass
class RunningServer:
    """A started server: the bound ``port``, the ``engine`` behind it, and :meth:`stop`."""

    server: grpc.aio.Server
    engine: Engine
    health: health.aio.HealthServicer
    port: int
    config: DispatchConfig
    periodic: asyncio.Task | None = None
    ticks: asyncio.Task | None = None
    watch: asyncio.Task | None = None
    config_path: str | None = None
    metrics_http: Any = None  # the Prometheus endpoint's HTTP server, when metrics.port > 0

    @property
    def metrics_port(self) -> int:
        """The port of the Prometheus endpoint (0: none)."""
        return self.metrics_http.server_port if self.metrics_http is not None else 0

    async def reload_file(self) -> config_reload.ReloadOutcome:
        """Re-read the config file (SIGHUP); a file that cannot be read or is invalid leaves
        the config in force, and so does any other failure: it is logged and the reload
        refused, since a signal's task has nobody to raise to."""
        source = self.config_path or "SIGHUP"
        try:
            return await reload_config_file(self.engine, self.config_path)
        except DomainError as error:  # no config file to re-read
            return config_reload.refuse(self.engine, source, [str(error)])
        except Exception as error:  # noqa: BLE001 (logged with its traceback, then refused)
            log.exception("config reload from %s failed", source)
            return config_reload.refuse(self.engine, source, [f"{type(error).__name__}: {error}"])

    async def stop(self, grace: float | None = None) -> None:
        """Report NOT_SERVING, let in-flight calls finish within ``grace`` seconds (default:
        ``server.shutdown_grace_s``), then close the engine."""
        await cancel_and_wait([t for t in (self.periodic, self.ticks, self.watch)
                               if t is not None])
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.engine.config.server.shutdown_grace_s if grace is None
                               else grace)
        await asyncio.to_thread(self.engine.close)
        if self.metrics_http is not None:
            await asyncio.to_thread(self.metrics_http.shutdown)
            self.metrics_http.server_close()
        if hasattr(self.engine.store, "close"):
            try:  # a connection half-open to a Redis that went away must not hold the exit
                async with asyncio.timeout(5):
                    await self.engine.store.close()
            except TimeoutError:
                log.warning("the store did not close within 5 s")


# How often a periodic task that is switched off (interval 0) looks whether a reload
# switched it on.
IDLE_RECHECK_S = 1.0


async def cancel_and_wait(tasks: Sequence[asyncio.Task], tries: int = 50) -> None:
    """Cancel ``tasks`` and wait until they have ended, cancelling again the ones that go on.

    A cancellation that lands inside a library's timeout (redis-py's, on Python 3.11) can be
    swallowed at the instant the timeout fires; a loop task then just runs on, and a single
    cancel would leave shutdown waiting for it forever. Each try waits up to 0.2 s."""
    pending = {t for t in tasks if not t.done()}
    for _ in range(tries):
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.2)
    log.warning("%d background tasks did not end when cancelled", len(pending))


async def optimize_periodically(engine: Engine, interval_s: float | None = None,
                                clock: Callable[[], float] = time.time) -> None:
    """Re-optimise every plan every ``interval_s`` seconds (default: ``optimizer.interval_s``
    of the config in force, 0 = off) as of ``clock()``, counted from the end of the last run;
    a failed run is logged and the next one still comes. A reload that changes the interval,
    or switches it off, takes effect within :data:`IDLE_RECHECK_S`."""
    ended = time.monotonic()  # when the last run ended (at first: when the task started)
    while True:
        await asyncio.sleep(_until_due(engine, interval_s, ended))
        if _until_due(engine, interval_s, ended) > 0:  # not due yet, or switched off meanwhile
            continue
        try:
            result = await engine.optimize_plans([], int(clock()))
            log.info("periodic re-optimisation: %s, %d jobs moved, %d orders placed",
                     "improved" if result.improved else "kept", result.moved,
                     len(result.placed))
        except Aborted as error:  # dispatch changed what it read while it searched
            log.info("periodic re-optimisation gave way: %s", error)
        except Exception:
            log.exception("periodic re-optimisation failed")
        ended = time.monotonic()


def _until_due(engine: Engine, interval_s: float | None, ended: float) -> float:
    """Seconds to sleep before looking again whether the next periodic re-optimisation is due
    (0: it is due now): at most :data:`IDLE_RECHECK_S`, so that the loop re-reads the interval
    in force that often rather than sleeping out one a reload has since replaced."""
    every = engine.config_in_force.optimizer.interval_s if interval_s is None else interval_s
    if not every:
        return IDLE_RECHECK_S
    return min(max(ended + every - time.monotonic(), 0.0), IDLE_RECHECK_S)


async def tick_periodically(engine: Engine, interval_s: float | None = None,
                            clock: Callable[[], float] = time.time) -> None:
    """Let time pass in the engine every ``interval_s`` seconds (default:
    ``offers.check_interval_s`` of the config in force): offers lapse, credit decays,
    certificates expire. A failed tick is logged."""
    while True:
        await asyncio.sleep(engine.config.offers.check_interval_s if interval_s is None
                            else interval_s)
        try:
            await engine.tick(int(clock()))
        except Aborted as error:  # another replica handled the same offers first
            log.info("engine tick gave way to another replica: %s", error)
        except Exception:
            log.exception("engine tick failed")


def open_store(config: DispatchConfig) -> Store:
    """The store the config (or ``$HOME_DISPATCH_STORE``) names."""
    url = os.environ.get(STORE_ENV) or config.store.url
    kept = dict(event_retention=config.store.event_retention,
                request_id_ttl_s=config.store.request_id_ttl_s)
    if url == "memory":
        return MemoryStore(**kept)
    from matcher.redis_store import RedisStore
    return RedisStore(url, config.store.prefix, config.store.max_connections,
                      config.store.timeout_s, **kept)


async def watch_store(store: Store, health_servicer: health.aio.HealthServicer,
                      interval_s: float = 1.0) -> None:
    """Health follows the store: NOT_SERVING while it cannot be reached, SERVING again when it
    answers (no restart needed)."""
    serving = None
    while True:
        try:
            ok = await store.ping()
        except DomainError:
            ok = False
        if ok != serving:
            status = (health_pb2.HealthCheckResponse.SERVING if ok
                      else health_pb2.HealthCheckResponse.NOT_SERVING)
            for service in ("", SERVICE_NAME):
                await health_servicer.set(service, status)
            if serving is not None:
                log.warning("store %s", "reachable again" if ok else "unreachable")
            serving = ok
        await asyncio.sleep(interval_s)


def warm_up_kernels(rules: insertion.DayRules) -> None:
    """Load every compiled kernel an order's answer runs (numba's cache; compiled on a first
    run), with the array types a search passes: not in the first order's answer."""
    insertion.warm_up(rules)
    spatial.warm_up()
    block_tally.warm_up()
    eligibility.warm_up()
    scoring.warm_up()
    world.warm_up()
    matching.warm_up()


async def start_server(config: DispatchConfig, listen: str | None = None,
                       clock: Callable[[], float] = time.time,
                       store: Store | None = None,
                       config_path: str | None = None) -> RunningServer:
    """Start the service on ``listen`` (default ``config.server.listen``; port 0 picks a free
    one) on ``store`` (default: the one the config names, the embedded memory store unless
    it says otherwise); ``clock`` is "now" (tests may pass their own); ``config_path`` is the
    file SIGHUP and an empty ``ReloadConfig`` re-read."""
    engine = Engine(metrics.TimedStore(store or open_store(config)), config,
                    gather_turns=GATHER_TURNS, optimizer=OptimizerProcess())
    warm_up_kernels(engine.planner.day_rules)
    metrics.config_in_force(config.hash)
    limit = config.server.max_message_bytes
    server = grpc.aio.server(interceptors=[RequestScope(engine)],
                             options=[("grpc.max_receive_message_length", limit)])
    pb_grpc.add_DispatchServiceServicer_to_server(
        DispatchServicer(engine, clock, config_path), server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
    reflection.enable_server_reflection(
        (SERVICE_NAME, health_name, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(listen or config.server.listen)
    await server.start()
    for service in ("", SERVICE_NAME):
        await health_servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    periodic = asyncio.create_task(optimize_periodically(engine, clock=clock))
    ticks = asyncio.create_task(tick_periodically(engine, clock=clock))
    watch = (asyncio.create_task(watch_store(engine.store, health_servicer))
             if hasattr(engine.store, "ping") else None)
    running = RunningServer(server, engine, health_servicer, port, config, periodic, ticks,
                            watch, config_path)
    try:
        running.metrics_http = start_metrics_endpoint(config)
    except OSError:  # the metrics port is taken: do not leave the gRPC server running
        await running.stop(0)
        raise
    return running


def start_metrics_endpoint(config: DispatchConfig) -> Any:
    """The Prometheus endpoint on ``metrics.host:metrics.port`` (a thread of its own), or None
    when the port is 0."""
    if config.metrics.port == 0:
        return None
    http, _ = prometheus_client.start_http_server(config.metrics.port, config.metrics.host,
                                                  registry=metrics.REGISTRY)
    log.info("metrics on http://%s:%d/metrics", config.metrics.host, http.server_port)
    return http


async def serve(config: DispatchConfig, listen: str | None = None,
                config_path: str | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully; SIGHUP re-reads
    ``config_path`` and puts it in force when it is valid."""
    running = await start_server(config, listen, config_path=config_path)
    host = (listen or config.server.listen).rpartition(":")[0]
    log.info("serving %s on %s:%d (config %s)", SERVICE_NAME, host, running.port, config.hash)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    reloads: set[asyncio.Task] = set()  # held until done (the loop keeps only weak refs)

    def on_hangup() -> None:
        task = asyncio.create_task(running.reload_file())
        reloads.add(task)
        task.add_done_callback(reloads.discard)

    loop.add_signal_handler(signal.SIGHUP, on_hangup)
    await stopping.wait()
    log.info("shutting down (grace %.1f s)", config.server.shutdown_grace_s)
    await running.stop()
    log.info("stopped")


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request id when the record
    was made inside a request, and the exception when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self.formatTime(record), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", "")
        if request_id:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def json_log_handler(stream: Any = None) -> logging.Handler:
    """A handler writing JSON lines (to stderr unless ``stream``), each with its request id."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    handler.addFilter(RequestIdFilter())
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The home-dispatch gRPC service.")
    parser.add_argument("--config", required=True, help="TOML config file")
    parser.add_argument("--listen", help="HOST:PORT (default: server.listen of the config)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, handlers=[json_log_handler()])
    try:
        config = load_config(args.config)
    except ConfigError as error:
        for line in error.errors:
            print(f"{args.config}: {line}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"{args.config}: {error}", file=sys.stderr)
        return 2
    config_reload.apply_log_level(config)
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    asyncio.run(serve(config, args.listen, args.config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
