"""The dispatch config: one TOML file validated into frozen dataclasses.

Every key has a type and an allowed range declared next to its default; an unknown key, a wrong
type or an out-of-range value is an error that names the key path and what is allowed. All
problems of a file are reported at once (:class:`ConfigError`); :mod:`matcher.toml_schema` is
the validator. The hash of the validated config
is recorded on every assignment it produces.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher import toml_schema
from matcher.toml_schema import SchemaError, key, table_of


class ConfigError(SchemaError):
    """A config that cannot be used; ``errors`` has one line per problem, each naming its key."""


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    # IANA zone of the service area: it decides the service day for certificates and daily limits.
    timezone: str = "Asia/Shanghai"
    # The service types orders and skills may name.
    service_types: tuple[str, ...] = (
        "cleaning", "hourly", "maternity", "nanny", "elder_care", "repair", "moving")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    listen: str = "127.0.0.1:50051"
    # Seconds a SIGTERM waits for in-flight requests before the server stops.
    shutdown_grace_s: float = key(5.0, 0.0, 600.0)
    # Largest request message in bytes; a larger one is refused with RESOURCE_EXHAUSTED.
    max_message_bytes: int = key(4 * 1024 * 1024, 1024, 256 * 1024 * 1024)


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    # Port of the Prometheus endpoint (http://HOST:PORT/metrics); 0 = no endpoint.
    port: int = key(0, 0, 65535)
    # Address it binds to; loopback unless the scraper is on another machine.
    host: str = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class RequestsConfig:
    # Workers in one UpsertWorkers request at most.
    max_workers_per_upsert: int = key(10_000, 1, 1_000_000)
    # Orders in one SubmitOrders request at most.
    max_orders_per_submit: int = key(10_000, 1, 1_000_000)
    # Order ids in one Dispatch request at most.
    max_order_ids_per_dispatch: int = key(10_000, 1, 1_000_000)
    # Worker ids in one OptimizePlans request at most.
    max_worker_ids_per_optimize: int = key(10_000, 1, 1_000_000)
    # Items of any other list in a request (a worker's skills, shifts, breaks and tags; an
    # order's tags and preferred and blocked workers) at most.
    max_list_items: int = key(1000, 1, 1_000_000)
    # Characters of an id or a name (worker, order, customer, agency, request ids, tags,
    # service types, cursors) at most.
    max_id_length: int = key(128, 1, 65536)
    # Characters of a free-text reason (CancelOrder, SetWorkerStatus) at most: the order's
    # history and the event keep it, and every reader of them gets it back.
    max_reason_length: int = key(1000, 1, 1_000_000)
    # Candidates one ExplainOrder may ask for (top_k) at most.
    max_top_k: int = key(100, 1, 100_000)


@dataclass(frozen=True, slots=True)
class LogConfig:
    # Least severity logged by the homedispatch loggers: "debug" (one line per request and
    # per dispatch run), "info", "warning" or "error".
    level: str = "info"


LOG_LEVELS = ("debug", "info", "warning", "error")


@dataclass(frozen=True, slots=True)
class StoreConfig:
    # "memory" (the embedded store) or a Redis URL (redis://, rediss://, unix://); the
    # environment variable HOME_DISPATCH_STORE overrides it.
    url: str = "memory"
    # Prefix of every Redis key (several services may share one Redis).
    prefix: str = "hd"
    # Connections in the pool at most; a request waits up to timeout_s for one.
    max_connections: int = key(16, 1, 1024)
    # Seconds a Redis call may take before the request fails with UNAVAILABLE.
    timeout_s: float = key(2.0, 0.01, 60.0)
    # Events kept for WatchEvents (the newest, at least this many); a watcher whose cursor fell
    # out of them gets FAILED_PRECONDITION and starts again from an empty cursor.
    event_retention: int = key(1_000_000, 1_000, 100_000_000)
    # Seconds a request id is remembered: a retry within them gets the first answer.
    request_id_ttl_s: float = key(86_400.0, 1.0, 30 * 86_400.0)


@dataclass(frozen=True, slots=True)
class TravelConfig:
    # Road km per great-circle km.
    detour_factor: float = key(1.3, 1.0, 5.0)
    # Average door-to-door speed in km/h (city traffic, on foot, by e-bike or metro).
    speed_kmh: float = key(25.0, 1.0, 200.0)


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    # A worker below this credit score takes no order.
    min_credit_score: float = key(60.0, 0.0, 100.0)
    # Working minutes per service day for workers that set no limit of their own.
    max_work_minutes_per_day: int = key(600, 1, 1440)
    # A worker takes orders within this great-circle distance of home (its service area).
    service_radius_km: float = key(15.0, 0.1, 20000.0)


@dataclass(frozen=True, slots=True)
class WeightsConfig:
    # Per hour of travel the job adds to the worker's day.
    travel: float = key(1.0, 0.0, 1000.0)
    # Per unit of credit score / 100.
    credit: float = key(0.3, 0.0, 1000.0)
    # Per level above the order's minimum, / 4 (keeps senior workers for demanding jobs).
    skill_surplus: float = key(0.1, 0.0, 1000.0)
    # 1 for a worker the order prefers, 0.5 for one with another job of the customer planned.
    customer_preference: float = key(0.5, 0.0, 1000.0)
    # Per share of the day's working minutes already planned (spreads work across workers).
    workload_balance: float = key(0.2, 0.0, 1000.0)
    # Per unit of priority / 10.
    priority: float = key(0.5, 0.0, 1000.0)
    # Per unit of the lateness term: minus late minutes x the service type's penalty_per_minute.
    lateness: float = key(1.0, 0.0, 1000.0)


@dataclass(frozen=True, slots=True)
class LatenessConfig:
    """``[lateness.<service_type>]``: a soft start window for one service type."""

    # Minutes after latest_start_time a job may still start (the hard limit). 0 = on time only.
    max_late_minutes: int = key(0, 0, 1440)
    # Score units per minute late: the lateness term's value is minus minutes x this.
    penalty_per_minute: float = key(0.05, 0.0, 1e6)


# A service type without a [lateness.<type>] table must start inside its window.
HARD_WINDOW = LatenessConfig(0, 0.0)


@dataclass(frozen=True, slots=True)
class UnassignedConfig:
    # Cost of leaving an order unassigned in a round: base + per_priority * priority.
    penalty_base: float = key(10.0, 0.0, 1e6)
    penalty_per_priority: float = key(1.0, 0.0, 1e6)


@dataclass(frozen=True, slots=True)
class SolverConfig:
    # Feasible candidates kept per order for the matching: the best-scoring among the nearest.
    candidates_per_order: int = key(12, 1, 1000)
    # Matching rounds per Dispatch call at most (each worker takes one order per round).
    max_rounds: int = key(50, 1, 10000)


@dataclass(frozen=True, slots=True)
class OptimizerConfig:
    # Search time of one OptimizePlans run when the request sets none, in seconds.
    time_limit_s: float = key(5.0, 0.01, 600.0)
    # Improving solutions after which the search stops (0 = only the time limit). A limit makes
    # the result independent of the machine's speed, hence reproducible.
    solution_limit: int = key(0, 0, 1_000_000)
    # Workers (nearest eligible first) a job may move to.
    candidates_per_order: int = key(16, 1, 1000)
    # Seconds between automatic re-optimisations of all plans (0 = only on request).
    interval_s: float = key(0.0, 0.0, 86400.0)
    # Count each day's trip from the last job back home in the objective.
    return_home: bool = True


@dataclass(frozen=True, slots=True)
class OffersConfig:
    # Seconds a worker has to accept an offer; no answer in time counts as a decline. 0 = no
    # offers: assignments are final at once (the centre assigns, nobody accepts).
    timeout_s: int = key(300, 0, 86400)
    # Seconds between the server's checks for timed-out offers, expiring certificates and
    # decayed credit.
    check_interval_s: float = key(1.0, 0.05, 3600.0)


@dataclass(frozen=True, slots=True)
class CancellationConfig:
    # Priority added to an order its worker cancelled (capped at 10), so it is re-placed first.
    worker_priority_boost: int = key(2, 0, 10)


@dataclass(frozen=True, slots=True)
class CreditConfig:
    # The Bayesian prior: this many reviews' worth of the worker's base score (as stars).
    prior_reviews: float = key(5.0, 0.1, 1000.0)
    # Half-life of every credit event (reviews and penalties), in days: old events fade.
    half_life_days: float = key(90.0, 1.0, 3650.0)
    # Credit points taken off per event, before decay.
    complaint_minor: float = key(3.0, 0.0, 100.0)
    complaint_major: float = key(10.0, 0.0, 100.0)
    complaint_severe: float = key(30.0, 0.0, 100.0)
    no_show: float = key(20.0, 0.0, 100.0)
    worker_cancellation: float = key(5.0, 0.0, 100.0)
    late_arrival: float = key(1.0, 0.0, 100.0)
    # The score is re-read from the events (their decay) at most this often per worker, seconds.
    refresh_s: int = key(3600, 1, 86400 * 30)


@dataclass(frozen=True, slots=True)
class TierConfig:
    """``[tiers.<name>]``: credit from ``min_score`` up (to the next tier) is this tier."""

    min_score: float = key(0.0, 0.0, 100.0)
    # Added to the credit term's value (credit / 100) for workers of this tier.
    score_bonus: float = key(0.0, -10.0, 10.0)
    # A worker of this tier takes no order at all, and loses its jobs not yet started. Only
    # the lowest tiers may be excluded (the credit floor is the lowest tier that is not).
    excluded: bool = False


@dataclass(frozen=True, slots=True)
class CreditFloorConfig:
    """``[credit_floor.<service_type>]``: a stricter credit floor for one service type."""

    min_credit_score: float = key(0.0, 0.0, 100.0)


@dataclass(frozen=True, slots=True)
class CertificatesConfig:
    # Days before a certificate expires on which the worker gets a warning event.
    warn_days: int = key(14, 0, 365)


@dataclass(frozen=True, slots=True)
class LocationConfig:
    # A reported location counts for planning this many seconds after its report time.
    max_age_s: int = key(900, 0, 86400)


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    service: ServiceConfig = ServiceConfig()
    server: ServerConfig = ServerConfig()
    metrics: MetricsConfig = MetricsConfig()
    log: LogConfig = LogConfig()
    requests: RequestsConfig = RequestsConfig()
    store: StoreConfig = StoreConfig()
    travel: TravelConfig = TravelConfig()
    limits: LimitsConfig = LimitsConfig()
    weights: WeightsConfig = WeightsConfig()
    unassigned: UnassignedConfig = UnassignedConfig()
    solver: SolverConfig = SolverConfig()
    optimizer: OptimizerConfig = OptimizerConfig()
    offers: OffersConfig = OffersConfig()
    cancellation: CancellationConfig = CancellationConfig()
    credit: CreditConfig = CreditConfig()
    certificates: CertificatesConfig = CertificatesConfig()
    location: LocationConfig = LocationConfig()
    # (service type, its soft window) pairs sorted by type: a table of tables keyed by type.
    lateness: tuple[tuple[str, LatenessConfig], ...] = table_of(LatenessConfig)
    # (tier name, tier) pairs sorted by name; see :mod:`matcher.credit`.
    tiers: tuple[tuple[str, TierConfig], ...] = table_of(TierConfig, (
        ("excellent", TierConfig(90.0, 0.1)), ("normal", TierConfig(75.0)),
        ("probation", TierConfig(60.0, -0.1)), ("suspended", TierConfig(0.0, 0.0, True))))
    # (service type, its credit floor) pairs sorted by type.
    credit_floor: tuple[tuple[str, CreditFloorConfig], ...] = table_of(CreditFloorConfig)

    @property
    def hash(self) -> str:
        return config_hash(self)

    def credit_floor_for(self, service_type: str) -> float:
        """The lowest credit score that may take an order of ``service_type``."""
        own = dict(self.credit_floor).get(service_type)
        return max(self.limits.min_credit_score, own.min_credit_score if own else 0.0)

    def lateness_for(self, service_type: str) -> LatenessConfig:
        """The soft window of ``service_type``; :data:`HARD_WINDOW` when it has no table."""
        return dict(self.lateness).get(service_type, HARD_WINDOW)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _plain(section: Any) -> dict[str, Any]:
    """A section as plain values; a table of tables as {name: {key: value}}."""
    if dataclasses.is_dataclass(section):
        return dataclasses.asdict(section)
    return {name: dataclasses.asdict(value) for name, value in section}


def config_hash(config: DispatchConfig) -> str:
    canonical = json.dumps(config.to_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def load_config(path: str | Path) -> DispatchConfig:
    """Read and validate a TOML config file."""
    return parse_config(Path(path).read_text(encoding="utf-8"))


def parse_config(text: str) -> DispatchConfig:
    """Validate TOML text into a config; raise :class:`ConfigError` listing every problem."""
    return toml_schema.parse(DispatchConfig, text, ConfigError, _check_semantics)


def _check_semantics(config: DispatchConfig, errors: list[str]) -> None:
    try:
        zoneinfo.ZoneInfo(config.service.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        errors.append(f"service.timezone: unknown time zone {config.service.timezone!r}")
    types = config.service.service_types
    if not types or len(set(types)) != len(types) or not all(types):
        errors.append("service.service_types: must be a non-empty list of distinct names")
    for section in ("lateness", "credit_floor"):
        for name, _ in getattr(config, section):
            if name not in types:
                errors.append(f"{section}.{name}: unknown service type {name!r} "
                              f"(known: {', '.join(types)})")
    scores = [tier.min_score for _, tier in config.tiers]
    if config.tiers and min(scores) != 0.0:
        errors.append(f"tiers: the lowest tier must start at min_score = 0 (got {min(scores)!r})")
    if len(set(scores)) != len(scores):
        errors.append("tiers: two tiers have the same min_score")
    taking = [tier.min_score for _, tier in config.tiers if not tier.excluded]
    for name, tier in config.tiers:
        if tier.excluded and any(score < tier.min_score for score in taking):
            # (the credit floor is the lowest tier that takes orders: a higher tier that
            # takes none would leave workers under it taking orders, over it not)
            errors.append(f"tiers.{name}.excluded: an excluded tier must lie below every tier "
                          f"that takes orders (min_score {tier.min_score:g} is above "
                          f"{min(taking):g})")
    url = config.store.url
    if url != "memory" and not url.startswith(("redis://", "rediss://", "unix://")):
        errors.append(f"store.url: expected \"memory\" or a redis://, rediss:// or unix:// "
                      f"URL, got {url!r}")
    if not config.store.prefix:
        errors.append("store.prefix: must not be empty")
    elif ":" in config.store.prefix:
        errors.append(f"store.prefix: must not contain ':' (the separator of the store's keys: "
                      f"'hd' and 'hd:x' would share keys), got {config.store.prefix!r}")
    host, _, port = config.server.listen.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        errors.append(f"server.listen: expected HOST:PORT, got {config.server.listen!r}")
    if config.log.level not in LOG_LEVELS:
        errors.append(f"log.level: expected one of {', '.join(LOG_LEVELS)}, "
                      f"got {config.log.level!r}")
    if not config.metrics.host:
        errors.append("metrics.host: must not be empty (127.0.0.1 for loopback)")


def key_paths() -> list[str]:
    """Every key a config file may set, as its path (``weights.travel``); a table of tables
    contributes ``<name>`` in place of the table's name (``tiers.<name>.min_score``)."""
    return toml_schema.key_paths(DispatchConfig)


def to_toml(config: DispatchConfig) -> str:
    """The config as TOML text (what GetConfig returns); parses back to an equal config with
    the same hash."""
    lines: list[str] = []
    for spec in dataclasses.fields(config):
        values = _plain(getattr(config, spec.name))
        if "table_of" not in spec.metadata:
            lines.extend(_toml_table(spec.name, values))
        elif values:
            for name, keys in values.items():
                lines.extend(_toml_table(f"{spec.name}.{_toml_key(name)}", keys))
        elif spec.default:
            # no table at all would read as the default tables: an empty one says "none"
            lines.extend([f"[{spec.name}]", ""])
    return "\n".join(lines)


def _toml_table(header: str, values: dict[str, Any]) -> list[str]:
    return [f"[{header}]", *(f"{key} = {_toml_value(value)}" for key, value in values.items()),
            ""]


def _toml_key(name: str) -> str:
    """A bare TOML key when the name allows one, else a quoted one."""
    bare = name and all(c.isascii() and (c.isalnum() or c in "_-") for c in name)
    return name if bare else _toml_string(name)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return _toml_string(value)
    return repr(value)


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string. json.dumps escapes quotes, backslashes and the C0
    controls as TOML does, but leaves DEL raw, which TOML forbids. Other characters stay raw
    (ensure_ascii=False): with ensure_ascii, json.dumps writes one beyond U+FFFF as the two
    \\u escapes of a surrogate pair, which TOML rejects."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
