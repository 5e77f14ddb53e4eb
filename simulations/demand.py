"""Demand: orders from a non-homogeneous Poisson process over the run's days.

The placement rate is piecewise constant per local hour: ``orders_per_day x peak_factor x
day_of_week[weekday] x hourly_profile[h] / sum(hourly_profile) x sum(share x peak) / sum(share)``.
Each hour's count is Poisson with that mean and its placements are uniform within the hour
(exactly an inhomogeneous Poisson process with that step rate). Each order then draws its kind
(by ``share x peak``), an address from the city's hot spots, a lead time (instant, or a booking
days ahead in the booking hours), a start window and a duration in half hours.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from matcher.model import Order
from simulations.scenario import DemandParams, OrderKind, Scenario
from simulations.synthetic_city import DAY_S, HOUR, MIN_LEVEL, MINUTE, _pick, points


@dataclass(frozen=True, slots=True)
class SimOrder:
    """An order of the run and what the simulator knows of it beyond the engine's order."""

    order: Order
    placed: int          # seconds since the run's start when it is revealed to the dispatcher
    kind: str
    pay_per_hour: float  # per worker


def hourly_rates(scenario: Scenario) -> np.ndarray:
    """Expected placements per hour of the run, one entry per hour of each demand day."""
    d = scenario.demand
    profile = np.asarray(d.hourly_profile) / sum(d.hourly_profile)
    shares = np.array([k.share for _, k in d.kinds])
    peaks = np.array([k.peak for _, k in d.kinds])
    mix = float((shares * peaks).sum() / shares.sum()) if shares.sum() > 0 else 0.0
    per_day = [d.orders_per_day * d.peak_factor * mix *
               d.day_of_week[(scenario.day + dt.timedelta(days=i)).weekday()]
               for i in range(scenario.days)]
    return np.concatenate([day * profile for day in per_day])


def make_demand(scenario: Scenario, seed: int, start: int) -> list[SimOrder]:
    """Every order of the run, by placement time (ties by id); deterministic per seed."""
    rng = np.random.default_rng([seed, 200])
    counts = rng.poisson(hourly_rates(scenario))
    hour = np.repeat(np.arange(len(counts)), counts)
    placed = np.sort(hour * HOUR + rng.integers(0, HOUR, size=len(hour)))
    return _orders(rng, scenario, placed, start)


def _orders(rng: np.random.Generator, scenario: Scenario, placed: np.ndarray,
            start: int) -> list[SimOrder]:
    d, n = scenario.demand, len(placed)
    names = [name for name, _ in d.kinds]
    kinds: list[OrderKind] = [k for _, k in d.kinds]
    weight = np.array([k.share * k.peak for k in kinds])
    kind = rng.choice(len(kinds), size=n, p=weight / weight.sum()) if n else np.zeros(0, int)
    lat, lon = points(rng, n, "orders")
    earliest = _earliest(rng, d, placed)
    window = _half_hours(rng, np.array(d.window_minutes) / 60, n)
    span = np.array([k.duration_hours for k in kinds])[kind] if n else np.zeros((0, 2))
    duration = rng.integers(span[:, 0] * 2, span[:, 1] * 2 + 1) * 30 * MINUTE if n else []
    min_level = _pick(rng, MIN_LEVEL, n)
    priority = np.minimum(10, rng.geometric(0.35, size=n) - 1)
    out = []
    for i in range(n):
        k = kinds[kind[i]]
        out.append(SimOrder(Order(
            order_id=f"o{i:06d}", customer_id=f"c{i:06d}", service_type=k.service_type,
            min_skill_level=int(min_level[i]), lat=float(lat[i]), lon=float(lon[i]),
            earliest_start=start + int(earliest[i]),
            latest_start=start + int(earliest[i] + window[i]), duration=int(duration[i]),
            priority=int(priority[i]), workers_needed=k.workers_needed),
            int(placed[i]), names[kind[i]], k.pay_per_hour))
    return out


def _half_hours(rng: np.random.Generator, hours: np.ndarray, n: int) -> np.ndarray:
    """Seconds, whole half hours between ``hours[0]`` and ``hours[1]``."""
    lo, hi = int(round(hours[0] * 2)), int(round(hours[1] * 2))
    return rng.integers(lo, hi + 1, size=n) * 30 * MINUTE


def _earliest(rng: np.random.Generator, d: DemandParams, placed: np.ndarray) -> np.ndarray:
    """Start window openings (seconds since the start): instant orders a lead after placement,
    bookings ``booking_days`` later in the booking hours (never sooner than 30 min ahead)."""
    n = len(placed)
    instant = rng.random(n) < d.instant_share
    lead = rng.uniform(*d.instant_lead_minutes, size=n) * MINUTE
    soon = np.ceil((placed + lead) / MINUTE) * MINUTE
    day = placed // DAY_S + rng.integers(int(d.booking_days[0]), int(d.booking_days[1]) + 1,
                                         size=n)
    booked = day * DAY_S + _half_hours(rng, np.array(d.booking_hours), n)
    booked = np.where(booked < placed + 30 * MINUTE, booked + DAY_S, booked)
    return np.where(instant, soon, booked).astype(np.int64)

