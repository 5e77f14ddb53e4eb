"""A simulation scenario: one TOML file validated into frozen dataclasses.

Every key has a type and an allowed range next to its default (validated by
:mod:`matcher.toml_schema`, as the dispatch config is); an unknown key, a wrong type or an
out-of-range value is a :class:`ScenarioError` that names the key path. ``with_values`` changes
keys of a scenario under the same checks (a sweep's overrides); ``scaled`` shrinks the city and
the demand together for quick runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matcher import toml_schema
from matcher.toml_schema import SchemaError, key, table_of

SCENARIOS = Path(__file__).parent / "scenarios"


class ScenarioError(SchemaError):
    """A scenario that cannot be used; ``errors`` has one line per problem, naming its key."""


@dataclass(frozen=True, slots=True)
class CityParams:
    # Workers in the city (before --scale).
    workers: int = key(2000, 1, 1_000_000)
    # Share of the workers offline for the whole run (a supply shortage).
    offline_share: float = key(0.0, 0.0, 1.0)
    # Share of certificates that expire during the run (the rest as the synthetic city has them).
    expiring_share: float = key(0.02, 0.0, 1.0)


@dataclass(frozen=True, slots=True)
class OrderKind:
    # The engine's service type this kind of order is (config service.service_types).
    service_type: str = "cleaning"
    # Relative share of the demand (before peaks).
    share: float = key(1.0, 0.0, 1000.0)
    # Duration range in hours, drawn in half hours.
    duration_hours: tuple[float, ...] = key((2.0, 4.0), 0.5, 24.0, length=2)
    # Workers that do one job together (a team job starts together).
    workers_needed: int = key(1, 1, 10)
    # Multiplier on this kind's rate (a peak; 3.0 triples it).
    peak: float = key(1.0, 0.0, 100.0)
    # What a worker earns per hour of the job.
    pay_per_hour: float = key(50.0, 0.0, 10_000.0)


@dataclass(frozen=True, slots=True)
class DemandParams:
    # Orders placed on a day whose day-of-week factor and peak factor are 1 (before --scale).
    orders_per_day: float = key(8000.0, 0.0, 10_000_000.0)
    # Multiplier on the whole demand (sweeps vary it).
    peak_factor: float = key(1.0, 0.0, 100.0)
    # Relative placement rate per local hour 0..23 (normalised to sum 1).
    hourly_profile: tuple[float, ...] = key(
        (0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 3.5, 6.0, 7.5, 7.5, 7.0,
         6.0, 6.0, 6.5, 6.5, 6.0, 5.5, 5.0, 4.5, 4.0, 3.0, 2.0, 1.0), 0.0, 1e6, length=24)
    # Factor per day of the week, Monday first.
    day_of_week: tuple[float, ...] = key((1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.2), 0.0, 100.0,
                                          length=7)
    # Share of instant orders: the start window opens instant_lead_minutes after placement.
    instant_share: float = key(0.35, 0.0, 1.0)
    instant_lead_minutes: tuple[float, ...] = key((30.0, 120.0), 0.0, 1440.0, length=2)
    # Bookings start this many days after the day they are placed (range, whole days).
    booking_days: tuple[float, ...] = key((0.0, 2.0), 0.0, 14.0, length=2)
    # Local hours in which booked jobs may start (range).
    booking_hours: tuple[float, ...] = key((8.0, 17.0), 0.0, 23.5, length=2)
    # Length of the start window in minutes (range, drawn in half hours).
    window_minutes: tuple[float, ...] = key((60.0, 180.0), 0.0, 1440.0, length=2)
    # Order kinds: [demand.kinds.<name>] tables.
    kinds: tuple[tuple[str, OrderKind], ...] = table_of(OrderKind)


@dataclass(frozen=True, slots=True)
class BehaviourParams:
    # Chance a worker accepts an offer at 0 km and the reference pay (as a logit base).
    accept_base: float = key(0.92, 0.0, 1.0)
    # Logit change per km of travel to the job (declines grow with distance).
    accept_per_km: float = key(0.08, 0.0, 10.0)
    # Logit change per unit of pay above (below) 50 per hour.
    accept_per_pay: float = key(0.02, 0.0, 10.0)
    # Seconds a worker takes to answer an offer (range).
    response_seconds: tuple[float, ...] = key((5.0, 120.0), 0.0, 86400.0, length=2)
    # No-show chance of a worker with credit 100, and what a credit of 0 adds (linear between).
    no_show_base: float = key(0.003, 0.0, 1.0)
    no_show_low_credit: float = key(0.05, 0.0, 1.0)
    # Share of orders the customer cancels before the start.
    cancel_share: float = key(0.03, 0.0, 1.0)
    # Minutes a customer waits for a worker (range); an order still unplaced then is abandoned
    # (cancelled by the customer).
    patience_minutes: tuple[float, ...] = key((20.0, 60.0), 1.0, 100_000.0, length=2)
    # Relative spread (lognormal sigma) of service durations and of travel times.
    duration_noise: float = key(0.1, 0.0, 2.0)
    travel_noise: float = key(0.2, 0.0, 2.0)
    # Share of served orders with customer feedback, and the cadence at which the app hands it
    # in (feedback collected in batches; 0 = at once).
    feedback_share: float = key(0.5, 0.0, 1.0)
    feedback_every_s: int = key(900, 0, 86400)


@dataclass(frozen=True, slots=True)
class DispatchParams:
    # The policy when --policy is not given: greedy, instant, batched or reoptimise.
    policy: str = "batched"
    # Seconds between batch rounds (batched, reoptimise).
    batch_window_s: int = key(30, 1, 86400)
    # Seconds between OptimizePlans runs (reoptimise) and the time limit of one run.
    reoptimise_every_s: int = key(1800, 60, 86400)
    reoptimise_time_limit_s: float = key(2.0, 0.01, 600.0)
    # Seconds between the engine's ticks (offers lapse, credit decays, certificates).
    tick_s: int = key(300, 1, 86400)
    # Seconds a worker has to answer an offer (config offers.timeout_s; 0 = no offers).
    offer_timeout_s: int = key(300, 0, 86400)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str = "scenario"
    description: str = ""
    # Local start of the simulation (ISO date, the day's midnight in Asia/Shanghai).
    start_date: str = "2026-12-01"
    # Days of demand; the run goes on until the last booked job is over.
    days: int = key(1, 1, 60)
    city: CityParams = CityParams()
    demand: DemandParams = DemandParams()
    behaviour: BehaviourParams = BehaviourParams()
    dispatch: DispatchParams = DispatchParams()
    # Set by --scale: workers and demand are multiplied by it.
    scale: float = key(1.0, 1e-6, 1000.0)

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
    return toml_schema.parse(Scenario, text, ScenarioError, _check_semantics)


def with_values(scenario: Scenario, changes: Mapping[str, Any]) -> Scenario:
    """The scenario with ``changes`` (key path to value: ``{"dispatch.batch_window_s": 60}``)
    validated as the same keys in a scenario file are; raise :class:`ScenarioError` listing
    every problem by key path (a value of the wrong type, out of its key's range)."""
    table = _as_table(scenario)
    for path, value in changes.items():
        *tables, name = path.split(".")
        node = table
        for part in tables:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError([f"{path}: {part} is not a table"])
        node[name] = value
    errors: list[str] = []
    changed = toml_schema.build(Scenario, table, "", errors)
    if not errors:
        _check_semantics(changed, errors)
    if errors:
        raise ScenarioError(errors)
    return changed


def _as_table(value: Any) -> dict[str, Any]:
    """A scenario (or a part of one) as the TOML table it is read from."""
    table: dict[str, Any] = {}
    for spec in dataclasses.fields(value):
        item = getattr(value, spec.name)
        if "table_of" in spec.metadata:
            table[spec.name] = {name: _as_table(part) for name, part in item}
        elif dataclasses.is_dataclass(item):
            table[spec.name] = _as_table(item)
        else:
            table[spec.name] = list(item) if isinstance(item, tuple) else item
    return table


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
