"""A synthetic city around Shanghai: workers and one day's orders, deterministic per seed.

Homes and order addresses are drawn from one mixture over Shanghai's built-up extent (about lat
30.95-31.45, lon 121.20-121.75): eight Gaussian hot spots at real districts plus a uniform share.
Workers lean to the outer residential districts, orders to the centre. Everything else (skills,
shifts, limits, tags, order windows and durations) follows the shares in the tables below, so
the city is plausible enough for benchmarks and the simulator, not a model of any real data.

The benchmarks (``benchmarks/city.py`` re-exports this module) and the simulator
(:mod:`simulations.city`) build their cities here.

Usage::

    city = make_city(seed=7, n_workers=20_000, n_orders=2_000)
    more = city.orders_for(2_000, stream=1, prefix="pre")   # another batch, same day

Same seed and arguments, same workers and orders (a seeded numpy ``Generator``; numpy does not
promise the same streams across its versions, so pin numpy to compare cities).
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from geo import SpatialIndex
from matcher.model import Order, Shift, Skill, Worker, WorkerStatus

TIMEZONE = "Asia/Shanghai"
# The planned day (a Tuesday) and the moment of dispatch on it, local time.
DAY = dt.date(2026, 12, 1)
DISPATCH_AT = dt.time(7, 0)

LAT_RANGE = (30.95, 31.45)
LON_RANGE = (121.20, 121.75)
HOUR, MINUTE, DAY_S = 3600, 60, 86400

# Hot spots: (lat, lon, sigma km, weight for worker homes, weight for order addresses).
HOT_SPOTS = (
    (31.2304, 121.4737, 3.0, 0.06, 0.20),   # People's Square / Huangpu
    (31.2350, 121.5050, 3.0, 0.06, 0.16),   # Lujiazui / Pudong
    (31.1940, 121.4370, 3.5, 0.10, 0.16),   # Xujiahui
    (31.3000, 121.5120, 4.0, 0.12, 0.12),   # Wujiaochang / Yangpu
    (31.1130, 121.3810, 5.0, 0.20, 0.10),   # Xinzhuang / Minhang
    (31.2030, 121.5900, 4.5, 0.14, 0.10),   # Zhangjiang
    (31.4000, 121.4900, 4.0, 0.14, 0.06),   # Baoshan
    (31.3750, 121.2650, 4.5, 0.08, 0.04),   # Jiading
)
UNIFORM_SHARE = {"workers": 0.15, "orders": 0.10}

# Relative shares per service type (a type not listed gets DEFAULT_SHARE).
SKILL_SHARE = {"cleaning": 0.30, "hourly": 0.26, "repair": 0.10, "moving": 0.06,
               "nanny": 0.10, "elder_care": 0.10, "maternity": 0.08}
ORDER_SHARE = {"cleaning": 0.34, "hourly": 0.28, "repair": 0.10, "moving": 0.06,
               "nanny": 0.09, "elder_care": 0.08, "maternity": 0.05}
DEFAULT_SHARE = 0.05
# Job duration range in hours per service type (drawn in half hours).
DURATION_H = {"cleaning": (2.0, 4.0), "hourly": (1.0, 3.0), "moving": (3.0, 4.0),
              "repair": (1.0, 2.0), "nanny": (3.0, 5.0), "elder_care": (2.0, 4.0),
              "maternity": (3.0, 4.0)}
DEFAULT_DURATION_H = (1.0, 3.0)

SKILL_COUNT = ((1, 2, 3), (0.50, 0.35, 0.15))
LEVELS = ((1, 2, 3, 4, 5), (0.22, 0.30, 0.26, 0.14, 0.08))
MIN_LEVEL = ((0, 1, 2, 3), (0.40, 0.25, 0.20, 0.15))
MAX_JOBS = ((0, 1, 2, 3, 4, 5, 6), (0.30, 0.04, 0.10, 0.20, 0.20, 0.11, 0.05))
EXPIRED_SHARE = 0.03           # certificates that expired before the day
STATUS = ((WorkerStatus.ONLINE, WorkerStatus.OFFLINE, WorkerStatus.ON_LEAVE),
          (0.95, 0.04, 0.01))
OWN_MINUTES_SHARE = 0.10       # workers with their own daily minute limit (240-480)

# Shift patterns, local (start, end) hours; every start shifts by 0, 30 or 60 min.
SHIFT_PATTERNS = (
    (((8, 12), (13, 18)), 0.45),
    (((8, 12),), 0.12),
    (((13, 18),), 0.13),
    (((9, 17),), 0.18),
    (((12, 20),), 0.12),
)
# Worker tags and how many carry each; orders require each with the second share.
TAGS = {"non_smoker": (0.60, 0.10), "pet_friendly": (0.35, 0.07),
        "speaks_english": (0.15, 0.03), "own_tools": (0.25, 0.04)}
PREFERRED_SHARE, BLOCKED_SHARE = 0.05, 0.03   # orders naming preferred / blocked workers
REPEAT_CUSTOMERS = 0.2         # share of orders from a customer with another order that day


def local_time(day: dt.date, hours: float) -> int:
    """Unix seconds of ``hours`` after local midnight of ``day`` in Shanghai."""
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=zoneinfo.ZoneInfo(TIMEZONE))
    return int(midnight.timestamp()) + int(round(hours * HOUR))


@dataclass(frozen=True, slots=True)
class City:
    """Workers and orders of one synthetic day; ``now`` is the dispatch moment."""

    seed: int
    day: dt.date
    now: int
    service_types: tuple[str, ...]
    workers: list[Worker]
    orders: list[Order]

    def orders_for(self, n: int, stream: int, prefix: str = "o") -> list[Order]:
        """Another batch of ``n`` orders for the same day and workers (``stream`` > 0 keeps it
        independent of the city's own orders, which are stream 0)."""
        rng = np.random.default_rng([self.seed, 1 + stream])
        return make_orders(rng, n, self.day, self.service_types, self.workers, prefix)


def make_city(seed: int, n_workers: int, n_orders: int,
              service_types: Sequence[str] = tuple(SKILL_SHARE), day: dt.date = DAY) -> City:
    """A deterministic city: ``n_workers`` workers and ``n_orders`` orders on ``day``."""
    types = tuple(service_types)
    workers = make_workers(np.random.default_rng([seed, 0]), n_workers, day, types)
    orders = make_orders(np.random.default_rng([seed, 1]), n_orders, day, types, workers, "o")
    now = local_time(day, DISPATCH_AT.hour + DISPATCH_AT.minute / 60)
    return City(seed, day, now, types, workers, orders)


def points(rng: np.random.Generator, n: int, who: str) -> tuple[np.ndarray, np.ndarray]:
    """``n`` (lat, lon) points from the hot-spot mixture for ``"workers"`` or ``"orders"``."""
    weights = np.array([s[3] if who == "workers" else s[4] for s in HOT_SPOTS])
    weights = np.append(weights / weights.sum() * (1 - UNIFORM_SHARE[who]), UNIFORM_SHARE[who])
    spot = rng.choice(len(weights), size=n, p=weights)
    lat = rng.uniform(*LAT_RANGE, size=n)
    lon = rng.uniform(*LON_RANGE, size=n)
    clustered = spot < len(HOT_SPOTS)
    centre = np.array([s[:3] for s in HOT_SPOTS])[spot[clustered]]
    # the C library's cosine, as geo.distance's (numpy's own differs in the last bit on some
    # CPUs): the same city on every host
    km_per_deg_lon = 111.32 * np.array([math.cos(math.radians(s[0])) for s in HOT_SPOTS])[
        spot[clustered]]
    lat[clustered] = centre[:, 0] + rng.normal(size=clustered.sum()) * centre[:, 2] / 110.57
    lon[clustered] = centre[:, 1] + rng.normal(size=clustered.sum()) * centre[:, 2] / km_per_deg_lon
    return np.clip(lat, *LAT_RANGE), np.clip(lon, *LON_RANGE)


def _shares(types: Sequence[str], table: dict[str, float]) -> np.ndarray:
    p = np.array([table.get(t, DEFAULT_SHARE) for t in types])
    return p / p.sum()


def _pick(rng: np.random.Generator, spec: tuple, size: int) -> np.ndarray:
    values, p = spec
    return np.asarray(values)[rng.choice(len(values), size=size, p=p)]


def make_workers(rng: np.random.Generator, n: int, day: dt.date,
                 types: Sequence[str]) -> list[Worker]:
    """``n`` workers (ids ``w000000``... in row order) with shifts on ``day``."""
    lat, lon = points(rng, n, "workers")
    midnight = local_time(day, 0)
    # Distinct skills drawn by weight without replacement: the top ``count`` of Gumbel keys.
    keys = np.log(_shares(types, SKILL_SHARE)) + rng.gumbel(size=(n, len(types)))
    ranked = np.argsort(-keys, axis=1)
    count = np.minimum(_pick(rng, SKILL_COUNT, n), len(types))
    levels = _pick(rng, LEVELS, (n, len(types)))
    expired = rng.random((n, len(types))) < EXPIRED_SHARE
    until = midnight + np.where(expired, -rng.integers(1, 61, (n, len(types))),
                                rng.integers(30, 366, (n, len(types)))) * DAY_S
    pattern = rng.choice(len(SHIFT_PATTERNS), size=n, p=[p for _, p in SHIFT_PATTERNS])
    offset = rng.integers(0, 3, size=n) * 30 * MINUTE
    has_tag = {t: rng.random(n) < share for t, (share, _) in TAGS.items()}
    own_minutes = np.where(rng.random(n) < OWN_MINUTES_SHARE,
                           rng.integers(8, 17, size=n) * 30, 0)
    credit = np.round(50.0 + 50.0 * rng.beta(2.2, 1.0, size=n), 1)
    max_jobs = _pick(rng, MAX_JOBS, n)
    status = _pick(rng, STATUS, n)
    agency = rng.integers(0, 40, size=n)
    workers = []
    for i in range(n):
        chosen = sorted(ranked[i, :count[i]].tolist())
        workers.append(Worker(
            worker_id=f"w{i:06d}", agency_id=f"a{agency[i]:02d}",
            home_lat=float(lat[i]), home_lon=float(lon[i]),
            skills=tuple(Skill(types[t], int(levels[i, t]), int(until[i, t])) for t in chosen),
            credit_score=float(credit[i]),
            shifts=tuple(Shift(midnight + a * HOUR + int(offset[i]),
                               midnight + b * HOUR + int(offset[i]))
                         for a, b in SHIFT_PATTERNS[pattern[i]][0]),
            max_jobs_per_day=int(max_jobs[i]),
            tags=frozenset(t for t, mask in has_tag.items() if mask[i]),
            status=WorkerStatus(int(status[i])), max_work_minutes_per_day=int(own_minutes[i])))
    return workers


def make_orders(rng: np.random.Generator, n: int, day: dt.date, types: Sequence[str],
                workers: Sequence[Worker], prefix: str) -> list[Order]:
    """``n`` orders on ``day`` (ids ``{prefix}000000``...). A customer keeps one address; a
    preferred or blocked worker is one of the 30 living nearest to it (ones a customer meets)."""
    n_customers = max(1, int(round(n * (1 - REPEAT_CUSTOMERS))))
    c_lat, c_lon = points(rng, n_customers, "orders")
    customer = np.concatenate([np.arange(n_customers),
                               rng.integers(0, n_customers, size=n - n_customers)])
    rng.shuffle(customer)
    midnight = local_time(day, 0)
    service = rng.choice(len(types), size=n, p=_shares(types, ORDER_SHARE))
    span = np.array([DURATION_H.get(t, DEFAULT_DURATION_H) for t in types])[service]
    duration = rng.integers(span[:, 0] * 2, span[:, 1] * 2 + 1) * 30 * MINUTE
    earliest = midnight + 8 * HOUR + rng.integers(0, 17, size=n) * 30 * MINUTE  # 08:00-16:00
    window = rng.integers(1, 7, size=n) * 30 * MINUTE                             # 30-180 min
    min_level = _pick(rng, MIN_LEVEL, n)
    priority = np.minimum(10, rng.geometric(0.35, size=n) - 1)
    needs_tag = {t: rng.random(n) < share for t, (_, share) in TAGS.items()}
    homes = SpatialIndex([w.home_lat for w in workers], [w.home_lon for w in workers])
    near, _ = homes.nearest_many(c_lat[customer], c_lon[customer], 30)
    prefers = rng.random(n) < PREFERRED_SHARE
    blocks = rng.random(n) < BLOCKED_SHARE
    orders = []
    for i in range(n):
        c = int(customer[i])
        preferred = blocked = frozenset()
        if near.shape[1] and prefers[i]:
            picked = rng.choice(near[i], size=min(int(rng.integers(1, 3)), near.shape[1]),
                                replace=False)
            preferred = frozenset(workers[r].worker_id for r in picked)
        if near.shape[1] and blocks[i]:
            blocked = frozenset({workers[int(rng.choice(near[i]))].worker_id}) - preferred
        orders.append(Order(
            order_id=f"{prefix}{i:06d}", customer_id=f"{prefix}c{c:06d}",
            service_type=types[service[i]], min_skill_level=int(min_level[i]),
            lat=float(c_lat[c]), lon=float(c_lon[c]), earliest_start=int(earliest[i]),
            latest_start=int(earliest[i] + window[i]), duration=int(duration[i]),
            priority=int(priority[i]),
            required_tags=frozenset(t for t, mask in needs_tag.items() if mask[i]),
            preferred_worker_ids=preferred, blocked_worker_ids=blocked))
    return orders
