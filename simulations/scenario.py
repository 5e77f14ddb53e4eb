"""A simulation scenario: one TOML file validated into frozen dataclasses.

Every key has a type and an allowed range next to its default (as in :mod:`matcher.config`); an
unknown key, a wrong type or an out-of-range value is a :class:`ScenarioError` that names the key
path. ``scaled`` shrinks the city and the demand together for quick runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCENARIOS = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``errors`` has one line per problem, naming its key."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _key(default: Any, lo: float | None = None, hi: float | None = None, length: int = 0) -> Any:
    """A key with its default, its range (each number of a list too) and a list's length."""
    if isinstance(default, tuple):
        return field(default=default, metadata={"range": (lo, hi), "length": length})
    return field(default=default, metadata={"range": (lo, hi)})


@dataclass(frozen=True, slots=True)
class CityParams:
    # Workers in the city (before --scale).
    workers: int = _key(2000, 1, 1_000_000)
    # Share of the workers offline for the whole run (a supply shortage).
    offline_share: float = _key(0.0, 0.0, 1.0)
    # Share of certificates that expire during the run (the rest as the synthetic city has them).
    expiring_share: float = _key(0.02, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class OrderKind:
    # The engine's service type this kind of order is (config service.service_types).
    service_type: str = "cleaning"
    # Relative share of the demand (before peaks).
    share: float = _key(1.0, 0.0, 1000.0)
    # Duration range in hours, drawn in half hours.
    duration_hours: tuple[float, ...] = _key((2.0, 4.0), 0.5, 24.0, length=2)
    # Workers that do one job together (a team job starts together).
    workers_needed: int = _key(1, 1, 10)
    # Multiplier on this kind's rate (a peak; 3.0 triples it).
    peak: float = _key(1.0, 0.0, 100.0)
    # What a worker earns per hour of the job.
    pay_per_hour: float = _key(50.0, 0.0, 10_000.0)


@dataclass(frozen=True, slots=True)
class DemandParams:
    # Orders placed on a day whose day-of-week factor and peak factor are 1 (before --scale).
    orders_per_day: float = _key(8000.0, 0.0, 10_000_000.0)
    # Multiplier on the whole demand (sweeps vary it).
    peak_factor: float = _key(1.0, 0.0, 100.0)
    # Relative placement rate per local hour 0..23 (normalised to sum 1).
    hourly_profile: tuple[float, ...] = _key(
        (0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.5, 6.0, 7.5, 7.5, 7.0,
         6.0, 6.0, 6.5, 6.5, 6.0, 5.5, 5.0, 4.5, 4.0, 3.0, 2.0, 1.0), 0.0, 1e6, length=24)
    # Factor per day of the week, Monday first.
    day_of_week: tuple[float, ...] = _key((1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.2), 0.0, 100.0,
                                          length=7)
    # Share of instant orders: the start window opens instant_lead_minutes after placement.
    instant_share: float = _key(0.35, 0.0, 1.0)
    instant_lead_minutes: tuple[float, ...] = _key((30.0, 120.0), 0.0, 1440.0, length=2)
    # Bookings start this many days after the day they are placed (range, whole days).
    booking_days: tuple[float, ...] = _key((0.0, 2.0), 0.0, 14.0, length=2)
    # Local hours in which booked jobs may start (range).
    booking_hours: tuple[float, ...] = _key((8.0, 17.0), 0.0, 23.5, length=2)
    # Length of the start window in minutes (range, drawn in half hours).
    window_minutes: tuple[float, ...] = _key((60.0, 180.0), 0.0, 1440.0, length=2)
    # Order kinds: [demand.kinds.<name>] tables.
    kinds: tuple[tuple[str, OrderKind], ...] = field(default=(), metadata={"table_of": OrderKind})


@dataclass(frozen=True, slots=True)
class BehaviourParams:
    # Chance a worker accepts an offer at 0 km and the reference pay (as a logit base).
    accept_base: float = _key(0.92, 0.0, 1.0)
    # Logit change per km of travel to the job (declines grow with distance).
    accept_per_km: float = _key(0.08, 0.0, 10.0)
    # Logit change per unit of pay above (below) 50 per hour.
    accept_per_pay: float = _key(0.02, 0.0, 10.0)
    # Seconds a worker takes to answer an offer (range).
    response_seconds: tuple[float, ...] = _key((5.0, 120.0), 0.0, 86400.0, length=2)
    # No-show chance of a worker with credit 100, and what a credit of 0 adds (linear between).
    no_show_base: float = _key(0.003, 0.0, 1.0)
    no_show_low_credit: float = _key(0.05, 0.0, 1.0)
    # Share of orders the customer cancels before the start.
    cancel_share: float = _key(0.03, 0.0, 1.0)
    # Minutes a customer waits for a worker (range); an order still unplaced then is abandoned
    # (cancelled by the customer).
    patience_minutes: tuple[float, ...] = _key((20.0, 60.0), 1.0, 100_000.0, length=2)
    # Relative spread (lognormal sigma) of service durations and of travel times.
    duration_noise: float = _key(0.1, 0.0, 2.0)
    travel_noise: float = _key(0.2, 0.0, 2.0)
    # Share of served orders with customer feedback, and the cadence at which the app hands it
    # in (feedback collected in batches; 0 = at once).
    feedback_share: float = _key(0.5, 0.0, 1.0)
    feedback_every_s: int = _key(900, 0, 86400)


@dataclass(frozen=True, slots=True)
class DispatchParams:
    # The policy when --policy is not given: greedy, instant, batched or reoptimise.
    policy: str = "batched"
    # Seconds between batch rounds (batched, reoptimise).
    batch_window_s: int = _key(30, 1, 86400)
    # Seconds between OptimizePlans runs (reoptimise) and the time limit of one run.
    reoptimise_every_s: int = _key(1800, 60, 86400)
    reoptimise_time_limit_s: float = _key(2.0, 0.01, 600.0)
    # Seconds between the engine's ticks (offers lapse, credit decays, certificates).
    tick_s: int = _key(300, 1, 86400)
    # Seconds a worker has to answer an offer (config offers.timeout_s; 0 = no offers).
    offer_timeout_s: int = _key(300, 0, 86400)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str = "scenario"
    description: str = ""
    # Local start of the simulation (ISO date, the day's midnight in Asia/Shanghai).
    start_date: str = "2026-12-01"
    # Days of demand; the run goes on until the last booked job is over.
    days: int = _key(1, 1, 60)
    city: CityParams = CityParams()
    demand: DemandParams = DemandParams()
    behaviour: BehaviourParams = BehaviourParams()
    dispatch: DispatchParams = DispatchParams()
    # Set by --scale: workers and demand are multiplied by it.
    scale: float = _key(1.0, 1e-6, 1000.0)

    @property
    def day(self) -> dt.date:
        return dt.date.fromisoformat(self.start_date)

    def scaled(self, factor: float) -> "Scenario":
        """The scenario with city and demand multiplied by ``factor`` (at least one worker)."""
        city = dataclasses.replace(self.city, workers=max(1, round(self.city.workers * factor)))
        demand = dataclasses.replace(self.demand,
                                     orders_per_day=self.demand.orders_per_day * factor)
        return dataclasses.replace(self, city=city, demand=demand, scale=self.scale * factor)


POLICIES = ("greedy", "instant", "batched", "reoptimise")


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; a bare name means ``simulations/scenarios/NAME.toml``."""
    path = Path(path)
    if not path.exists() and not path.suffix:
        path = SCENARIOS / f"{path}.toml"
    return parse_scenario(path.read_text(encoding="utf-8"))


def parse_scenario(text: str) -> Scenario:
    """Validate TOML text; raise :class:`ScenarioError` listing every problem by key path."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"<toml>: {exc}"]) from exc
    errors: list[str] = []
    scenario = _build(Scenario, table, "", errors)
    if not errors:
        _check_semantics(scenario, errors)
    if errors:
        raise ScenarioError(errors)
    return scenario


def _build(cls: type, table: dict[str, Any], path: str, errors: list[str]) -> Any:
    known = {f.name: f for f in dataclasses.fields(cls)}
    for name in sorted(set(table) - set(known)):
        errors.append(f"{path}{name}: unknown key (allowed: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for name, spec in known.items():
        if name not in table:
            continue
        key_path, value = f"{path}{name}", table[name]
        if "table_of" in spec.metadata:
            values[name] = _tables(spec.metadata["table_of"], value, key_path, errors)
        elif dataclasses.is_dataclass(spec.default):
            if isinstance(value, dict):
                values[name] = _build(type(spec.default), value, key_path + ".", errors)
            else:
                errors.append(f"{key_path}: must be a table")
        else:
            value = _coerce(value, spec, key_path, errors)
            if value is not None:
                values[name] = value
    return cls(**values)


def _tables(cls: type, table: Any, path: str, errors: list[str]) -> tuple:
    if not isinstance(table, dict) or not all(isinstance(v, dict) for v in table.values()):
        errors.append(f"{path}: must be a table of tables ([{path}.<name>])")
        return ()
    return tuple((name, _build(cls, table[name], f"{path}.{name}.", errors))
                 for name in sorted(table))


def _coerce(value: Any, spec: dataclasses.Field, key_path: str, errors: list[str]) -> Any:
    default, (lo, hi) = spec.default, spec.metadata.get("range", (None, None))
    if isinstance(default, tuple):
        length = spec.metadata.get("length", 0)
        if not isinstance(value, list) or not all(_number(v) for v in value) or \
                (length and len(value) != length):
            errors.append(f"{key_path}: expected a list of {length or 'some'} numbers, "
                          f"got {value!r}")
            return None
        bad = [v for v in value if not _within(float(v), lo, hi)]
        if bad:
            errors.append(f"{key_path}: {bad[0]!r} is out of range [{lo}, {hi}]")
            return None
        return tuple(float(v) for v in value)
    if isinstance(default, bool) != isinstance(value, bool) or isinstance(default, str) != \
            isinstance(value, str) or isinstance(default, int) and not isinstance(default, bool) \
            and not isinstance(value, int) or isinstance(default, float) and not _number(value):
        errors.append(f"{key_path}: expected {type(default).__name__}, got {value!r}")
        return None
    if isinstance(default, float):
        value = float(value)
    if _number(value) and not _within(value, lo, hi):
        errors.append(f"{key_path}: {value!r} is out of range [{lo}, {hi}]")
        return None
    return value


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _within(value: float, lo: float | None, hi: float | None) -> bool:
    return math.isfinite(value) and (lo is None or value >= lo) and (hi is None or value <= hi)


def _check_semantics(scenario: Scenario, errors: list[str]) -> None:
    from matcher.config import DispatchConfig
    types = DispatchConfig().service.service_types
    try:
        scenario.day
    except ValueError:
        errors.append(f"start_date: {scenario.start_date!r} is not an ISO date (YYYY-MM-DD)")
    if scenario.dispatch.policy not in POLICIES:
        errors.append(f"dispatch.policy: {scenario.dispatch.policy!r} is not one of "
                      f"{', '.join(POLICIES)}")
    if not scenario.demand.kinds:
        errors.append("demand.kinds: at least one [demand.kinds.<name>] table is needed")
    for name, kind in scenario.demand.kinds:
        if kind.service_type not in types:
            errors.append(f"demand.kinds.{name}.service_type: {kind.service_type!r} is not a "
                          f"service type ({', '.join(types)})")
        if kind.duration_hours[0] > kind.duration_hours[1]:
            errors.append(f"demand.kinds.{name}.duration_hours: the first must not exceed the "
                          "second")
    d = scenario.demand
    for key in ("instant_lead_minutes", "booking_days", "booking_hours", "window_minutes"):
        lo, hi = getattr(d, key)
        if lo > hi:
            errors.append(f"demand.{key}: the first must not exceed the second")
    for key in ("response_seconds", "patience_minutes"):
        lo, hi = getattr(scenario.behaviour, key)
        if lo > hi:
            errors.append(f"behaviour.{key}: the first must not exceed the second")
    if sum(d.hourly_profile) <= 0:
        errors.append("demand.hourly_profile: at least one hour must have a positive rate")
