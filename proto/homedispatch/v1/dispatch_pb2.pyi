import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WorkerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKER_STATUS_UNSPECIFIED: _ClassVar[WorkerStatus]
    WORKER_STATUS_ONLINE: _ClassVar[WorkerStatus]
    WORKER_STATUS_OFFLINE: _ClassVar[WorkerStatus]
    WORKER_STATUS_ON_LEAVE: _ClassVar[WorkerStatus]
    WORKER_STATUS_SUSPENDED: _ClassVar[WorkerStatus]

class DispatchMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPATCH_MODE_UNSPECIFIED: _ClassVar[DispatchMode]
    DISPATCH_MODE_INSTANT: _ClassVar[DispatchMode]
    DISPATCH_MODE_BATCHED: _ClassVar[DispatchMode]

class LinkType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINK_TYPE_UNSPECIFIED: _ClassVar[LinkType]
    LINK_TYPE_SAME_WORKER: _ClassVar[LinkType]
    LINK_TYPE_START_GAP: _ClassVar[LinkType]

class UnassignedReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UNASSIGNED_REASON_UNSPECIFIED: _ClassVar[UnassignedReason]
    UNASSIGNED_REASON_NO_ELIGIBLE_WORKER: _ClassVar[UnassignedReason]
    UNASSIGNED_REASON_NO_FEASIBLE_SLOT: _ClassVar[UnassignedReason]
    UNASSIGNED_REASON_OUTBID: _ClassVar[UnassignedReason]
    UNASSIGNED_REASON_EXPIRED: _ClassVar[UnassignedReason]
    UNASSIGNED_REASON_DAILY_LIMIT: _ClassVar[UnassignedReason]
    UNASSIGNED_REASON_LINKED_ORDER: _ClassVar[UnassignedReason]
    UNASSIGNED_REASON_ROUND_LIMIT: _ClassVar[UnassignedReason]

class OrderState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATE_UNSPECIFIED: _ClassVar[OrderState]
    ORDER_STATE_PENDING: _ClassVar[OrderState]
    ORDER_STATE_OFFERED: _ClassVar[OrderState]
    ORDER_STATE_ASSIGNED: _ClassVar[OrderState]
    ORDER_STATE_IN_PROGRESS: _ClassVar[OrderState]
    ORDER_STATE_COMPLETED: _ClassVar[OrderState]
    ORDER_STATE_CANCELLED: _ClassVar[OrderState]
    ORDER_STATE_EXPIRED: _ClassVar[OrderState]

class CancelledBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CANCELLED_BY_UNSPECIFIED: _ClassVar[CancelledBy]
    CANCELLED_BY_CUSTOMER: _ClassVar[CancelledBy]
    CANCELLED_BY_WORKER: _ClassVar[CancelledBy]
    CANCELLED_BY_CENTRE: _ClassVar[CancelledBy]

class ComplaintSeverity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    COMPLAINT_SEVERITY_UNSPECIFIED: _ClassVar[ComplaintSeverity]
    COMPLAINT_SEVERITY_NONE: _ClassVar[ComplaintSeverity]
    COMPLAINT_SEVERITY_MINOR: _ClassVar[ComplaintSeverity]
    COMPLAINT_SEVERITY_MAJOR: _ClassVar[ComplaintSeverity]
    COMPLAINT_SEVERITY_SEVERE: _ClassVar[ComplaintSeverity]

class FeedbackSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEEDBACK_SOURCE_UNSPECIFIED: _ClassVar[FeedbackSource]
    FEEDBACK_SOURCE_CUSTOMER: _ClassVar[FeedbackSource]
    FEEDBACK_SOURCE_FOLLOW_UP: _ClassVar[FeedbackSource]

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EVENT_TYPE_UNSPECIFIED: _ClassVar[EventType]
    EVENT_TYPE_ASSIGNED: _ClassVar[EventType]
    EVENT_TYPE_OFFERED: _ClassVar[EventType]
    EVENT_TYPE_ACCEPTED: _ClassVar[EventType]
    EVENT_TYPE_DECLINED: _ClassVar[EventType]
    EVENT_TYPE_OFFER_TIMED_OUT: _ClassVar[EventType]
    EVENT_TYPE_REDISPATCHED: _ClassVar[EventType]
    EVENT_TYPE_CANCELLED: _ClassVar[EventType]
    EVENT_TYPE_COMPLETED: _ClassVar[EventType]
    EVENT_TYPE_CREDIT_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_TIER_CHANGED: _ClassVar[EventType]
    EVENT_TYPE_CERTIFICATE_EXPIRING: _ClassVar[EventType]
    EVENT_TYPE_STARTED: _ClassVar[EventType]
    EVENT_TYPE_WORKER_STATUS_CHANGED: _ClassVar[EventType]
WORKER_STATUS_UNSPECIFIED: WorkerStatus
WORKER_STATUS_ONLINE: WorkerStatus
WORKER_STATUS_OFFLINE: WorkerStatus
WORKER_STATUS_ON_LEAVE: WorkerStatus
WORKER_STATUS_SUSPENDED: WorkerStatus
DISPATCH_MODE_UNSPECIFIED: DispatchMode
DISPATCH_MODE_INSTANT: DispatchMode
DISPATCH_MODE_BATCHED: DispatchMode
LINK_TYPE_UNSPECIFIED: LinkType
LINK_TYPE_SAME_WORKER: LinkType
LINK_TYPE_START_GAP: LinkType
UNASSIGNED_REASON_UNSPECIFIED: UnassignedReason
UNASSIGNED_REASON_NO_ELIGIBLE_WORKER: UnassignedReason
UNASSIGNED_REASON_NO_FEASIBLE_SLOT: UnassignedReason
UNASSIGNED_REASON_OUTBID: UnassignedReason
UNASSIGNED_REASON_EXPIRED: UnassignedReason
UNASSIGNED_REASON_DAILY_LIMIT: UnassignedReason
UNASSIGNED_REASON_LINKED_ORDER: UnassignedReason
UNASSIGNED_REASON_ROUND_LIMIT: UnassignedReason
ORDER_STATE_UNSPECIFIED: OrderState
ORDER_STATE_PENDING: OrderState
ORDER_STATE_OFFERED: OrderState
ORDER_STATE_ASSIGNED: OrderState
ORDER_STATE_IN_PROGRESS: OrderState
ORDER_STATE_COMPLETED: OrderState
ORDER_STATE_CANCELLED: OrderState
ORDER_STATE_EXPIRED: OrderState
CANCELLED_BY_UNSPECIFIED: CancelledBy
CANCELLED_BY_CUSTOMER: CancelledBy
CANCELLED_BY_WORKER: CancelledBy
CANCELLED_BY_CENTRE: CancelledBy
COMPLAINT_SEVERITY_UNSPECIFIED: ComplaintSeverity
COMPLAINT_SEVERITY_NONE: ComplaintSeverity
COMPLAINT_SEVERITY_MINOR: ComplaintSeverity
COMPLAINT_SEVERITY_MAJOR: ComplaintSeverity
COMPLAINT_SEVERITY_SEVERE: ComplaintSeverity
FEEDBACK_SOURCE_UNSPECIFIED: FeedbackSource
FEEDBACK_SOURCE_CUSTOMER: FeedbackSource
FEEDBACK_SOURCE_FOLLOW_UP: FeedbackSource
EVENT_TYPE_UNSPECIFIED: EventType
EVENT_TYPE_ASSIGNED: EventType
EVENT_TYPE_OFFERED: EventType
EVENT_TYPE_ACCEPTED: EventType
EVENT_TYPE_DECLINED: EventType
EVENT_TYPE_OFFER_TIMED_OUT: EventType
EVENT_TYPE_REDISPATCHED: EventType
EVENT_TYPE_CANCELLED: EventType
EVENT_TYPE_COMPLETED: EventType
EVENT_TYPE_CREDIT_CHANGED: EventType
EVENT_TYPE_TIER_CHANGED: EventType
EVENT_TYPE_CERTIFICATE_EXPIRING: EventType
EVENT_TYPE_STARTED: EventType
EVENT_TYPE_WORKER_STATUS_CHANGED: EventType

class LatLng(_message.Message):
    __slots__ = ("latitude", "longitude")
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    latitude: float
    longitude: float
    def __init__(self, latitude: _Optional[float] = ..., longitude: _Optional[float] = ...) -> None: ...

class Skill(_message.Message):
    __slots__ = ("service_type", "level", "certified_until_time")
    SERVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CERTIFIED_UNTIL_TIME_FIELD_NUMBER: _ClassVar[int]
    service_type: str
    level: int
    certified_until_time: _timestamp_pb2.Timestamp
    def __init__(self, service_type: _Optional[str] = ..., level: _Optional[int] = ..., certified_until_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Shift(_message.Message):
    __slots__ = ("start_time", "end_time")
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Break(_message.Message):
    __slots__ = ("window_start_time", "window_end_time", "duration")
    WINDOW_START_TIME_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    window_start_time: _timestamp_pb2.Timestamp
    window_end_time: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    def __init__(self, window_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Worker(_message.Message):
    __slots__ = ("worker_id", "agency_id", "home", "skills", "credit_score", "shifts", "max_jobs_per_day", "tags", "status", "max_work_minutes_per_day", "breaks", "credit_tier")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENCY_ID_FIELD_NUMBER: _ClassVar[int]
    HOME_FIELD_NUMBER: _ClassVar[int]
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_SCORE_FIELD_NUMBER: _ClassVar[int]
    SHIFTS_FIELD_NUMBER: _ClassVar[int]
    MAX_JOBS_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MAX_WORK_MINUTES_PER_DAY_FIELD_NUMBER: _ClassVar[int]
    BREAKS_FIELD_NUMBER: _ClassVar[int]
    CREDIT_TIER_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    agency_id: str
    home: LatLng
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    credit_score: float
    shifts: _containers.RepeatedCompositeFieldContainer[Shift]
    max_jobs_per_day: int
    tags: _containers.RepeatedScalarFieldContainer[str]
    status: WorkerStatus
    max_work_minutes_per_day: int
    breaks: _containers.RepeatedCompositeFieldContainer[Break]
    credit_tier: str
    def __init__(self, worker_id: _Optional[str] = ..., agency_id: _Optional[str] = ..., home: _Optional[_Union[LatLng, _Mapping]] = ..., skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., credit_score: _Optional[float] = ..., shifts: _Optional[_Iterable[_Union[Shift, _Mapping]]] = ..., max_jobs_per_day: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[WorkerStatus, str]] = ..., max_work_minutes_per_day: _Optional[int] = ..., breaks: _Optional[_Iterable[_Union[Break, _Mapping]]] = ..., credit_tier: _Optional[str] = ...) -> None: ...

class OrderLink(_message.Message):
    __slots__ = ("order_id", "type", "min_gap", "max_gap")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    MIN_GAP_FIELD_NUMBER: _ClassVar[int]
    MAX_GAP_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    type: LinkType
    min_gap: _duration_pb2.Duration
    max_gap: _duration_pb2.Duration
    def __init__(self, order_id: _Optional[str] = ..., type: _Optional[_Union[LinkType, str]] = ..., min_gap: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_gap: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("order_id", "customer_id", "service_type", "min_skill_level", "location", "earliest_start_time", "latest_start_time", "duration", "priority", "required_tags", "preferred_worker_ids", "blocked_worker_ids", "workers_needed", "mode", "link")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    SERVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    MIN_SKILL_LEVEL_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    EARLIEST_START_TIME_FIELD_NUMBER: _ClassVar[int]
    LATEST_START_TIME_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_TAGS_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_WORKER_IDS_FIELD_NUMBER: _ClassVar[int]
    BLOCKED_WORKER_IDS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_NEEDED_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    service_type: str
    min_skill_level: int
    location: LatLng
    earliest_start_time: _timestamp_pb2.Timestamp
    latest_start_time: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    priority: int
    required_tags: _containers.RepeatedScalarFieldContainer[str]
    preferred_worker_ids: _containers.RepeatedScalarFieldContainer[str]
    blocked_worker_ids: _containers.RepeatedScalarFieldContainer[str]
    workers_needed: int
    mode: DispatchMode
    link: OrderLink
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., service_type: _Optional[str] = ..., min_skill_level: _Optional[int] = ..., location: _Optional[_Union[LatLng, _Mapping]] = ..., earliest_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., latest_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., priority: _Optional[int] = ..., required_tags: _Optional[_Iterable[str]] = ..., preferred_worker_ids: _Optional[_Iterable[str]] = ..., blocked_worker_ids: _Optional[_Iterable[str]] = ..., workers_needed: _Optional[int] = ..., mode: _Optional[_Union[DispatchMode, str]] = ..., link: _Optional[_Union[OrderLink, _Mapping]] = ...) -> None: ...

class ScoreTerm(_message.Message):
    __slots__ = ("name", "weight", "value", "contribution")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    weight: float
    value: float
    contribution: float
    def __init__(self, name: _Optional[str] = ..., weight: _Optional[float] = ..., value: _Optional[float] = ..., contribution: _Optional[float] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("order_id", "worker_id", "planned_start_time", "travel_duration", "travel_km", "score", "score_terms", "config_hash", "planned_end_time", "added_travel_duration", "added_travel_km", "late_duration")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PLANNED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_DURATION_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_KM_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_TERMS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    PLANNED_END_TIME_FIELD_NUMBER: _ClassVar[int]
    ADDED_TRAVEL_DURATION_FIELD_NUMBER: _ClassVar[int]
    ADDED_TRAVEL_KM_FIELD_NUMBER: _ClassVar[int]
    LATE_DURATION_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    worker_id: str
    planned_start_time: _timestamp_pb2.Timestamp
    travel_duration: _duration_pb2.Duration
    travel_km: float
    score: float
    score_terms: _containers.RepeatedCompositeFieldContainer[ScoreTerm]
    config_hash: str
    planned_end_time: _timestamp_pb2.Timestamp
    added_travel_duration: _duration_pb2.Duration
    added_travel_km: float
    late_duration: _duration_pb2.Duration
    def __init__(self, order_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., planned_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., travel_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., travel_km: _Optional[float] = ..., score: _Optional[float] = ..., score_terms: _Optional[_Iterable[_Union[ScoreTerm, _Mapping]]] = ..., config_hash: _Optional[str] = ..., planned_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., added_travel_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., added_travel_km: _Optional[float] = ..., late_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class UnassignedOrder(_message.Message):
    __slots__ = ("order_id", "reason", "detail")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reason: UnassignedReason
    detail: str
    def __init__(self, order_id: _Optional[str] = ..., reason: _Optional[_Union[UnassignedReason, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class ScheduledJob(_message.Message):
    __slots__ = ("order_id", "planned_start_time", "planned_end_time", "travel_duration", "location", "travel_km", "service_type", "customer_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    PLANNED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    PLANNED_END_TIME_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_DURATION_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_KM_FIELD_NUMBER: _ClassVar[int]
    SERVICE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    planned_start_time: _timestamp_pb2.Timestamp
    planned_end_time: _timestamp_pb2.Timestamp
    travel_duration: _duration_pb2.Duration
    location: LatLng
    travel_km: float
    service_type: str
    customer_id: str
    def __init__(self, order_id: _Optional[str] = ..., planned_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., planned_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., travel_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., location: _Optional[_Union[LatLng, _Mapping]] = ..., travel_km: _Optional[float] = ..., service_type: _Optional[str] = ..., customer_id: _Optional[str] = ...) -> None: ...

class OrderStatus(_message.Message):
    __slots__ = ("order", "state", "assignment", "unassigned", "submit_time", "assignments", "offer_deadline_time", "accepted_worker_ids", "excluded_worker_ids", "actual_start_time", "actual_end_time", "effective_priority", "history")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    UNASSIGNED_FIELD_NUMBER: _ClassVar[int]
    SUBMIT_TIME_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    OFFER_DEADLINE_TIME_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_WORKER_IDS_FIELD_NUMBER: _ClassVar[int]
    EXCLUDED_WORKER_IDS_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_START_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_END_TIME_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_PRIORITY_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    order: Order
    state: OrderState
    assignment: Assignment
    unassigned: UnassignedOrder
    submit_time: _timestamp_pb2.Timestamp
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    offer_deadline_time: _timestamp_pb2.Timestamp
    accepted_worker_ids: _containers.RepeatedScalarFieldContainer[str]
    excluded_worker_ids: _containers.RepeatedScalarFieldContainer[str]
    actual_start_time: _timestamp_pb2.Timestamp
    actual_end_time: _timestamp_pb2.Timestamp
    effective_priority: int
    history: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., state: _Optional[_Union[OrderState, str]] = ..., assignment: _Optional[_Union[Assignment, _Mapping]] = ..., unassigned: _Optional[_Union[UnassignedOrder, _Mapping]] = ..., submit_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., offer_deadline_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., accepted_worker_ids: _Optional[_Iterable[str]] = ..., excluded_worker_ids: _Optional[_Iterable[str]] = ..., actual_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actual_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., effective_priority: _Optional[int] = ..., history: _Optional[_Iterable[str]] = ...) -> None: ...

class UpsertWorkersRequest(_message.Message):
    __slots__ = ("workers", "request_id")
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    workers: _containers.RepeatedCompositeFieldContainer[Worker]
    request_id: str
    def __init__(self, workers: _Optional[_Iterable[_Union[Worker, _Mapping]]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpsertWorkersResponse(_message.Message):
    __slots__ = ("upserted_count",)
    UPSERTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    upserted_count: int
    def __init__(self, upserted_count: _Optional[int] = ...) -> None: ...

class UpdateWorkerLocationRequest(_message.Message):
    __slots__ = ("worker_id", "location", "report_time", "request_id")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    REPORT_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    location: LatLng
    report_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, worker_id: _Optional[str] = ..., location: _Optional[_Union[LatLng, _Mapping]] = ..., report_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class UpdateWorkerLocationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SetWorkerStatusRequest(_message.Message):
    __slots__ = ("worker_id", "status", "reason", "request_id", "as_of_time")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    status: WorkerStatus
    reason: str
    request_id: str
    as_of_time: _timestamp_pb2.Timestamp
    def __init__(self, worker_id: _Optional[str] = ..., status: _Optional[_Union[WorkerStatus, str]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SetWorkerStatusResponse(_message.Message):
    __slots__ = ("worker",)
    WORKER_FIELD_NUMBER: _ClassVar[int]
    worker: Worker
    def __init__(self, worker: _Optional[_Union[Worker, _Mapping]] = ...) -> None: ...

class SubmitOrdersRequest(_message.Message):
    __slots__ = ("orders", "request_id", "as_of_time")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    request_id: str
    as_of_time: _timestamp_pb2.Timestamp
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., request_id: _Optional[str] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubmitOrdersResponse(_message.Message):
    __slots__ = ("assignments", "unassigned", "accepted_count")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    UNASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    unassigned: _containers.RepeatedCompositeFieldContainer[UnassignedOrder]
    accepted_count: int
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., unassigned: _Optional[_Iterable[_Union[UnassignedOrder, _Mapping]]] = ..., accepted_count: _Optional[int] = ...) -> None: ...

class DispatchRequest(_message.Message):
    __slots__ = ("order_ids", "as_of_time", "region_center", "region_radius_km", "request_id")
    ORDER_IDS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    REGION_CENTER_FIELD_NUMBER: _ClassVar[int]
    REGION_RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_ids: _containers.RepeatedScalarFieldContainer[str]
    as_of_time: _timestamp_pb2.Timestamp
    region_center: LatLng
    region_radius_km: float
    request_id: str
    def __init__(self, order_ids: _Optional[_Iterable[str]] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., region_center: _Optional[_Union[LatLng, _Mapping]] = ..., region_radius_km: _Optional[float] = ..., request_id: _Optional[str] = ...) -> None: ...

class DispatchResponse(_message.Message):
    __slots__ = ("assignments", "unassigned", "rounds", "solve_duration")
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    UNASSIGNED_FIELD_NUMBER: _ClassVar[int]
    ROUNDS_FIELD_NUMBER: _ClassVar[int]
    SOLVE_DURATION_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[Assignment]
    unassigned: _containers.RepeatedCompositeFieldContainer[UnassignedOrder]
    rounds: int
    solve_duration: _duration_pb2.Duration
    def __init__(self, assignments: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., unassigned: _Optional[_Iterable[_Union[UnassignedOrder, _Mapping]]] = ..., rounds: _Optional[int] = ..., solve_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ExplainOrderRequest(_message.Message):
    __slots__ = ("order_id", "top_k", "as_of_time")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    top_k: int
    as_of_time: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., top_k: _Optional[int] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConstraintCount(_message.Message):
    __slots__ = ("constraint", "ruled_out")
    CONSTRAINT_FIELD_NUMBER: _ClassVar[int]
    RULED_OUT_FIELD_NUMBER: _ClassVar[int]
    constraint: str
    ruled_out: int
    def __init__(self, constraint: _Optional[str] = ..., ruled_out: _Optional[int] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("worker_id", "planned_start_time", "travel_duration", "travel_km", "score", "score_terms", "late_duration")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    PLANNED_START_TIME_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_DURATION_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_KM_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_TERMS_FIELD_NUMBER: _ClassVar[int]
    LATE_DURATION_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    planned_start_time: _timestamp_pb2.Timestamp
    travel_duration: _duration_pb2.Duration
    travel_km: float
    score: float
    score_terms: _containers.RepeatedCompositeFieldContainer[ScoreTerm]
    late_duration: _duration_pb2.Duration
    def __init__(self, worker_id: _Optional[str] = ..., planned_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., travel_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., travel_km: _Optional[float] = ..., score: _Optional[float] = ..., score_terms: _Optional[_Iterable[_Union[ScoreTerm, _Mapping]]] = ..., late_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ExplainOrderResponse(_message.Message):
    __slots__ = ("order", "total_workers", "feasible_workers", "constraint_counts", "candidates", "unassigned")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_WORKERS_FIELD_NUMBER: _ClassVar[int]
    FEASIBLE_WORKERS_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINT_COUNTS_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    UNASSIGNED_FIELD_NUMBER: _ClassVar[int]
    order: OrderStatus
    total_workers: int
    feasible_workers: int
    constraint_counts: _containers.RepeatedCompositeFieldContainer[ConstraintCount]
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    unassigned: UnassignedOrder
    def __init__(self, order: _Optional[_Union[OrderStatus, _Mapping]] = ..., total_workers: _Optional[int] = ..., feasible_workers: _Optional[int] = ..., constraint_counts: _Optional[_Iterable[_Union[ConstraintCount, _Mapping]]] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., unassigned: _Optional[_Union[UnassignedOrder, _Mapping]] = ...) -> None: ...

class OptimizePlansRequest(_message.Message):
    __slots__ = ("worker_ids", "time_limit", "as_of_time", "request_id")
    WORKER_IDS_FIELD_NUMBER: _ClassVar[int]
    TIME_LIMIT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    worker_ids: _containers.RepeatedScalarFieldContainer[str]
    time_limit: _duration_pb2.Duration
    as_of_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, worker_ids: _Optional[_Iterable[str]] = ..., time_limit: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class OptimizePlansResponse(_message.Message):
    __slots__ = ("jobs_moved", "travel_km_before", "travel_km_after", "score_before", "score_after", "lateness_before", "lateness_after", "orders_placed", "improved", "detail")
    JOBS_MOVED_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_KM_BEFORE_FIELD_NUMBER: _ClassVar[int]
    TRAVEL_KM_AFTER_FIELD_NUMBER: _ClassVar[int]
    SCORE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    SCORE_AFTER_FIELD_NUMBER: _ClassVar[int]
    LATENESS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    LATENESS_AFTER_FIELD_NUMBER: _ClassVar[int]
    ORDERS_PLACED_FIELD_NUMBER: _ClassVar[int]
    IMPROVED_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    jobs_moved: int
    travel_km_before: float
    travel_km_after: float
    score_before: float
    score_after: float
    lateness_before: _duration_pb2.Duration
    lateness_after: _duration_pb2.Duration
    orders_placed: _containers.RepeatedScalarFieldContainer[str]
    improved: bool
    detail: str
    def __init__(self, jobs_moved: _Optional[int] = ..., travel_km_before: _Optional[float] = ..., travel_km_after: _Optional[float] = ..., score_before: _Optional[float] = ..., score_after: _Optional[float] = ..., lateness_before: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., lateness_after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., orders_placed: _Optional[_Iterable[str]] = ..., improved: bool = ..., detail: _Optional[str] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: OrderStatus
    def __init__(self, order: _Optional[_Union[OrderStatus, _Mapping]] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id", "cancelled_by", "reason", "request_id", "as_of_time", "worker_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_BY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    cancelled_by: CancelledBy
    reason: str
    request_id: str
    as_of_time: _timestamp_pb2.Timestamp
    worker_id: str
    def __init__(self, order_id: _Optional[str] = ..., cancelled_by: _Optional[_Union[CancelledBy, str]] = ..., reason: _Optional[str] = ..., request_id: _Optional[str] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., worker_id: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: OrderStatus
    def __init__(self, order: _Optional[_Union[OrderStatus, _Mapping]] = ...) -> None: ...

class GetWorkerScheduleRequest(_message.Message):
    __slots__ = ("worker_id",)
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    def __init__(self, worker_id: _Optional[str] = ...) -> None: ...

class GetWorkerScheduleResponse(_message.Message):
    __slots__ = ("jobs", "worker")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[ScheduledJob]
    worker: Worker
    def __init__(self, jobs: _Optional[_Iterable[_Union[ScheduledJob, _Mapping]]] = ..., worker: _Optional[_Union[Worker, _Mapping]] = ...) -> None: ...

class RespondToOfferRequest(_message.Message):
    __slots__ = ("order_id", "worker_id", "accept", "request_id", "as_of_time")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    worker_id: str
    accept: bool
    request_id: str
    as_of_time: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., accept: bool = ..., request_id: _Optional[str] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StartOrderRequest(_message.Message):
    __slots__ = ("order_id", "actual_start_time", "request_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_START_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    actual_start_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, order_id: _Optional[str] = ..., actual_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class StartOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: OrderStatus
    def __init__(self, order: _Optional[_Union[OrderStatus, _Mapping]] = ...) -> None: ...

class RespondToOfferResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: OrderStatus
    def __init__(self, order: _Optional[_Union[OrderStatus, _Mapping]] = ...) -> None: ...

class CompleteOrderRequest(_message.Message):
    __slots__ = ("order_id", "actual_start_time", "actual_end_time", "request_id")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_START_TIME_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_END_TIME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    actual_start_time: _timestamp_pb2.Timestamp
    actual_end_time: _timestamp_pb2.Timestamp
    request_id: str
    def __init__(self, order_id: _Optional[str] = ..., actual_start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actual_end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class CompleteOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: OrderStatus
    def __init__(self, order: _Optional[_Union[OrderStatus, _Mapping]] = ...) -> None: ...

class SubmitFeedbackRequest(_message.Message):
    __slots__ = ("order_id", "stars", "complaint", "on_time", "no_show", "source", "request_id", "worker_id", "as_of_time")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STARS_FIELD_NUMBER: _ClassVar[int]
    COMPLAINT_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    NO_SHOW_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    stars: int
    complaint: ComplaintSeverity
    on_time: bool
    no_show: bool
    source: FeedbackSource
    request_id: str
    worker_id: str
    as_of_time: _timestamp_pb2.Timestamp
    def __init__(self, order_id: _Optional[str] = ..., stars: _Optional[int] = ..., complaint: _Optional[_Union[ComplaintSeverity, str]] = ..., on_time: bool = ..., no_show: bool = ..., source: _Optional[_Union[FeedbackSource, str]] = ..., request_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., as_of_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WorkerCredit(_message.Message):
    __slots__ = ("worker_id", "credit_score", "tier")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_SCORE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    credit_score: float
    tier: str
    def __init__(self, worker_id: _Optional[str] = ..., credit_score: _Optional[float] = ..., tier: _Optional[str] = ...) -> None: ...

class SubmitFeedbackResponse(_message.Message):
    __slots__ = ("credit_score", "tier", "workers")
    CREDIT_SCORE_FIELD_NUMBER: _ClassVar[int]
    TIER_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    credit_score: float
    tier: str
    workers: _containers.RepeatedCompositeFieldContainer[WorkerCredit]
    def __init__(self, credit_score: _Optional[float] = ..., tier: _Optional[str] = ..., workers: _Optional[_Iterable[_Union[WorkerCredit, _Mapping]]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("cursor", "type", "event_time", "order_id", "worker_id", "detail")
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    cursor: str
    type: EventType
    event_time: _timestamp_pb2.Timestamp
    order_id: str
    worker_id: str
    detail: str
    def __init__(self, cursor: _Optional[str] = ..., type: _Optional[_Union[EventType, str]] = ..., event_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., order_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("after_cursor",)
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    after_cursor: str
    def __init__(self, after_cursor: _Optional[str] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: Event
    def __init__(self, event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class GetConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetConfigResponse(_message.Message):
    __slots__ = ("config_toml", "config_hash")
    CONFIG_TOML_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    config_toml: str
    config_hash: str
    def __init__(self, config_toml: _Optional[str] = ..., config_hash: _Optional[str] = ...) -> None: ...

class ReloadConfigRequest(_message.Message):
    __slots__ = ("config_toml", "request_id")
    CONFIG_TOML_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    config_toml: str
    request_id: str
    def __init__(self, config_toml: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class ReloadConfigResponse(_message.Message):
    __slots__ = ("applied", "config_hash", "errors")
    APPLIED_FIELD_NUMBER: _ClassVar[int]
    CONFIG_HASH_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    applied: bool
    config_hash: str
    errors: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, applied: bool = ..., config_hash: _Optional[str] = ..., errors: _Optional[_Iterable[str]] = ...) -> None: ...
