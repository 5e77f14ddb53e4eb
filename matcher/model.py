"""Domain values: workers, orders, planned jobs and assignments.

Times are whole seconds since the Unix epoch (UTC) and durations whole seconds, so that every
schedule is exact integer arithmetic. Values are frozen and validated on construction; a bad
value raises :class:`~matcher.errors.InvalidArgument` naming the field.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from matcher.errors import InvalidArgument

MIN_LEVEL, MAX_LEVEL = 1, 5
MAX_PRIORITY = 10
# A team larger than this is not a home-service job; larger values are input errors.
MAX_TEAM = 10
# Nothing in a home-service day lasts longer than a week; larger values are input errors.
MAX_DURATION_S = 7 * 24 * 3600
# Times are refused from 2100-01-01 UTC on: nothing is booked that far ahead, and it keeps every
# calendar computation far from the limits of Python's datetime.
MAX_TIME = 4_102_444_800
# A break window spans at most a day: a break belongs to one stretch of a worker's days.
MAX_BREAK_WINDOW_S = 24 * 3600


class WorkerStatus(enum.IntEnum):
    ONLINE = 1
    OFFLINE = 2
    ON_LEAVE = 3
    SUSPENDED = 4


class DispatchMode(enum.IntEnum):
    INSTANT = 1
    BATCHED = 2


class OrderState(enum.IntEnum):
    PENDING = 1
    OFFERED = 2
    ASSIGNED = 3
    IN_PROGRESS = 4
    COMPLETED = 5
    CANCELLED = 6
    EXPIRED = 7


class LinkType(enum.IntEnum):
    SAME_WORKER = 1   # done by the worker who does the linked order
    START_GAP = 2     # starts min_gap..max_gap after the linked order starts


class EventType(enum.IntEnum):
    ASSIGNED = 1
    OFFERED = 2
    ACCEPTED = 3
    DECLINED = 4
    OFFER_TIMED_OUT = 5
    REDISPATCHED = 6
    CANCELLED = 7
    COMPLETED = 8
    CREDIT_CHANGED = 9
    TIER_CHANGED = 10
    CERTIFICATE_EXPIRING = 11
    STARTED = 12
    WORKER_STATUS_CHANGED = 13


class FeedbackSource(enum.IntEnum):
    CUSTOMER = 1
    FOLLOW_UP = 2   # the centre's follow-up visit (回访)


class Complaint(enum.IntEnum):
    NONE = 1
    MINOR = 2
    MAJOR = 3
    SEVERE = 4


class UnassignedReason(enum.IntEnum):
    NO_ELIGIBLE_WORKER = 1
    NO_FEASIBLE_SLOT = 2
    OUTBID = 3
    EXPIRED = 4
    DAILY_LIMIT = 5
    LINKED_ORDER = 6
    ROUND_LIMIT = 7


def _require(ok: bool, field_name: str, message: str) -> None:
    if not ok:
        raise InvalidArgument(field_name, message)


def _check_location(lat: float, lon: float, prefix: str) -> None:
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InvalidArgument(f"{prefix}.latitude",
                              f"must be a finite number in [-90, 90], got {lat!r}")
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InvalidArgument(f"{prefix}.longitude",
                              f"must be a finite number in [-180, 180], got {lon!r}")


def _check_time(value: int, field_name: str) -> None:
    if not 0 < value < MAX_TIME:
        raise InvalidArgument(field_name,
                              f"must be set and before 2100-01-01T00:00:00Z, got {value}")


def _check_id(value: str, field_name: str) -> None:
    _require(bool(value) and value.strip() == value and len(value) <= 128, field_name,
             "must be a non-empty id of at most 128 characters without surrounding spaces")


@dataclass(frozen=True, slots=True)
class Skill:
    """A certified skill: the service type, the level (1-5) and the certificate's expiry."""

    service_type: str
    level: int
    certified_until: int

    def __post_init__(self) -> None:
        _require(bool(self.service_type), "service_type", "must not be empty")
        _require(MIN_LEVEL <= self.level <= MAX_LEVEL, "level",
                 f"must be in [{MIN_LEVEL}, {MAX_LEVEL}], got {self.level}")
        _check_time(self.certified_until, "certified_until_time")


@dataclass(frozen=True, slots=True)
class Shift:
    """An interval ``[start, end)`` in which the worker takes jobs, starting from home."""

    start: int
    end: int

    def __post_init__(self) -> None:
        _check_time(self.start, "start_time")
        _check_time(self.end, "end_time")
        _require(self.end > self.start, "end_time",
                 f"must be after start_time ({self.end} <= {self.start})")
        _require(self.end - self.start <= MAX_DURATION_S, "end_time",
                 f"a shift may last at most {MAX_DURATION_S} s")


@dataclass(frozen=True, slots=True)
class Break:
    """``duration`` seconds, entirely inside the window ``[start, end]``, in which the worker
    neither works nor travels (see :mod:`matcher.insertion` for when a day plan holds it)."""

    start: int
    end: int
    duration: int

    def __post_init__(self) -> None:
        _check_time(self.start, "window_start_time")
        _check_time(self.end, "window_end_time")
        _require(self.duration > 0, "duration", f"must be positive, got {self.duration}")
        _require(self.end - self.start >= self.duration, "window_end_time",
                 f"the window must be at least the break's duration ({self.duration} s) long")
        _require(self.end - self.start <= MAX_BREAK_WINDOW_S, "window_end_time",
                 f"a break window may span at most {MAX_BREAK_WINDOW_S} s")


@dataclass(frozen=True, slots=True)
class Worker:
    worker_id: str
    agency_id: str
    home_lat: float
    home_lon: float
    skills: tuple[Skill, ...]
    credit_score: float
    shifts: tuple[Shift, ...]
    max_jobs_per_day: int = 0
    tags: frozenset[str] = frozenset()
    status: WorkerStatus = WorkerStatus.ONLINE
    max_work_minutes_per_day: int = 0
    breaks: tuple[Break, ...] = ()

    def __post_init__(self) -> None:
        _check_id(self.worker_id, "worker_id")
        _check_location(self.home_lat, self.home_lon, "home")
        _require(math.isfinite(self.credit_score) and 0.0 <= self.credit_score <= 100.0,
                 "credit_score", f"must be in [0, 100], got {self.credit_score!r}")
        _require(self.max_jobs_per_day >= 0, "max_jobs_per_day", "must be >= 0 (0 = no limit)")
        _require(0 <= self.max_work_minutes_per_day <= 24 * 60, "max_work_minutes_per_day",
                 "must be in [0, 1440] (0 = the config's limit)")
        seen: set[str] = set()
        for i, skill in enumerate(self.skills):
            _require(skill.service_type not in seen, f"skills[{i}].service_type",
                     f"duplicate service type {skill.service_type!r}")
            seen.add(skill.service_type)
        ordered = sorted(self.shifts, key=lambda s: s.start)
        for i in range(1, len(ordered)):
            _require(ordered[i].start >= ordered[i - 1].end, "shifts",
                     "shifts must not overlap")
        object.__setattr__(self, "shifts", tuple(ordered))
        for i in range(1, len(self.breaks)):
            _require(self.breaks[i].start >= self.breaks[i - 1].end,
                     f"breaks[{i}].window_start_time",
                     f"must not be before breaks[{i - 1}].window_end_time: break windows are "
                     "listed in time order and do not overlap")
        object.__setattr__(self, "breaks", tuple(self.breaks))

    def skill(self, service_type: str) -> Skill | None:
        return next((s for s in self.skills if s.service_type == service_type), None)


@dataclass(frozen=True, slots=True)
class OrderLink:
    """This order depends on ``order_id``: same worker, or a start ``min_gap..max_gap`` seconds
    after that order's start (a follow-up visit; a gap of 0 is a simultaneous visit)."""

    order_id: str
    kind: LinkType
    min_gap: int = 0
    max_gap: int = 0

    def __post_init__(self) -> None:
        _check_id(self.order_id, "order_id")
        if self.kind == LinkType.START_GAP:
            _require(abs(self.min_gap) <= MAX_DURATION_S, "min_gap",
                     f"must be within {MAX_DURATION_S} s either way, got {self.min_gap}")
            _require(self.min_gap <= self.max_gap <= MAX_DURATION_S, "max_gap",
                     f"must be in [min_gap, {MAX_DURATION_S}] s, got {self.max_gap}")


@dataclass(frozen=True, slots=True)
class Order:
    order_id: str
    customer_id: str
    service_type: str
    min_skill_level: int
    lat: float
    lon: float
    earliest_start: int
    latest_start: int
    duration: int
    priority: int = 0
    required_tags: frozenset[str] = frozenset()
    preferred_worker_ids: frozenset[str] = frozenset()
    blocked_worker_ids: frozenset[str] = frozenset()
    workers_needed: int = 1
    mode: DispatchMode = DispatchMode.BATCHED
    link: OrderLink | None = None

    def __post_init__(self) -> None:
        # every request's orders come through here: a message is formatted only when its
        # check fails
        _check_id(self.order_id, "order_id")
        _check_id(self.customer_id, "customer_id")
        if not self.service_type:
            raise InvalidArgument("service_type", "must not be empty")
        if not 0 <= self.min_skill_level <= MAX_LEVEL:
            raise InvalidArgument("min_skill_level", f"must be in [0, {MAX_LEVEL}] "
                                  f"(0 = any level), got {self.min_skill_level}")
        _check_location(self.lat, self.lon, "location")
        _check_time(self.earliest_start, "earliest_start_time")
        _check_time(self.latest_start, "latest_start_time")
        if self.latest_start < self.earliest_start:
            raise InvalidArgument("latest_start_time", "must not be before earliest_start_time")
        if self.latest_start - self.earliest_start > MAX_DURATION_S:
            raise InvalidArgument("latest_start_time",
                                  f"the start window may span at most {MAX_DURATION_S} s")
        if not 0 < self.duration <= MAX_DURATION_S:
            raise InvalidArgument("duration", f"must be positive and at most {MAX_DURATION_S} "
                                  f"s, got {self.duration}")
        if not 0 <= self.priority <= MAX_PRIORITY:
            raise InvalidArgument("priority",
                                  f"must be in [0, {MAX_PRIORITY}], got {self.priority}")
        if not 1 <= self.workers_needed <= MAX_TEAM:
            raise InvalidArgument("workers_needed",
                                  f"must be in [1, {MAX_TEAM}], got {self.workers_needed}")
        if self.link is not None:
            _require(self.link.order_id != self.order_id, "link.order_id",
                     "an order cannot be linked to itself")
            _require(self.link.kind != LinkType.SAME_WORKER or self.workers_needed == 1,
                     "link.type", "a team job cannot require the same worker as another order")

    @property
    def latest_end(self) -> int:
        return self.latest_start + self.duration


@dataclass(frozen=True, slots=True)
class Job:
    """An order placed in a worker's day: where and when the worker is busy."""

    order_id: str
    customer_id: str
    service_type: str
    lat: float
    lon: float
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ScoreTerm:
    name: str
    weight: float
    value: float

    @property
    def contribution(self) -> float:
        return self.weight * self.value


@dataclass(frozen=True, slots=True)
class Assignment:
    order_id: str
    worker_id: str
    planned_start: int
    planned_end: int
    travel_s: int
    travel_km: float
    added_travel_s: int
    added_travel_km: float
    score_terms: tuple[ScoreTerm, ...]
    config_hash: str
    late_s: int = 0  # seconds the job starts after the order's latest start (soft windows)

    @property
    def score(self) -> float:
        return sum(t.contribution for t in self.score_terms)


@dataclass(frozen=True, slots=True)
class Unassigned:
    order_id: str
    reason: UnassignedReason
    detail: str


@dataclass(slots=True)
class OrderRecord:
    """An order as the service holds it: its state and, when placed, its assignment (see
    :mod:`matcher.lifecycle` for the states)."""

    order: Order
    state: OrderState
    submitted_at: int
    assignments: list[Assignment] = field(default_factory=list)  # a team job has several
    unassigned: Unassigned | None = None
    history: list[str] = field(default_factory=list)
    excluded: set[str] = field(default_factory=set)   # workers who declined or dropped it
    accepted: set[str] = field(default_factory=set)   # members who accepted the offer
    offer_deadline: int = 0                           # an offer not accepted by then lapses
    priority_boost: int = 0                           # added when its worker cancelled
    started_at: int = 0                               # actual start (0: not started)
    completed_at: int = 0                             # actual end (0: not completed)
    feedback: set[FeedbackSource] = field(default_factory=set)
    # Orders linked to this one that stayed placed (they had started) when it went back to the
    # pool: it may go again only where their links still hold (Engine._binding)
    bound_by: set[str] = field(default_factory=set)
    # The store's version of this record (0: never written; each write gives a new one, never
    # an earlier one again); a write must carry the version it read (an optimistic check:
    # another replica's write in between refuses this one).
    version: int = 0

    def copy(self) -> "OrderRecord":
        """A copy whose lists and sets can change without touching this one."""
        return OrderRecord(self.order, self.state, self.submitted_at, list(self.assignments),
                           self.unassigned, list(self.history), set(self.excluded),
                           set(self.accepted), self.offer_deadline, self.priority_boost,
                           self.started_at, self.completed_at, set(self.feedback),
                           set(self.bound_by), self.version)

    @property
    def worker_ids(self) -> list[str]:
        return sorted({a.worker_id for a in self.assignments})

    @property
    def assignment(self) -> Assignment | None:
        """The (first) worker's assignment, or None."""
        return self.assignments[0] if self.assignments else None


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened, for WatchEvents; the store gives it its ``cursor``."""

    type: EventType
    time: int
    order_id: str = ""
    worker_id: str = ""
    detail: str = ""
    cursor: str = ""


@dataclass(frozen=True, slots=True)
class Location:
    """Where a worker reported being, and when."""

    lat: float
    lon: float
    time: int

    def __post_init__(self) -> None:
        _check_location(self.lat, self.lon, "location")
        _check_time(self.time, "report_time")
