"""Random small cities for property tests: workers and orders around one neighbourhood, with
every feature the constraints look at (skills, levels, expiring certificates, credit, status,
tags, blocks, preferences, several shifts, daily limits)."""

from __future__ import annotations

import numpy as np

from matcher.model import Break, LinkType, Order, OrderLink, Shift, Skill, Worker, WorkerStatus
from tests.builders import CENTRE, HOUR, at, make_order

TYPES = ("cleaning", "hourly", "elder_care")
TAGS = ("pet_friendly", "non_smoker")


def random_breaks(rng: np.random.Generator) -> tuple[Break, ...]:
    """None, a lunch, or a lunch and an afternoon tea; windows from tight to loose."""
    kinds = [(), ((11.0, 14.0, 1.0),), ((11.5, 13.0, 1.0), (15.0, 16.0, 0.25))]
    return tuple(Break(at(lo), at(hi), int(length * HOUR))
                 for lo, hi, length in kinds[int(rng.integers(0, 3))])


def random_workers(rng: np.random.Generator, n: int, spread: float = 0.06,
                   breaks: bool = False) -> list[Worker]:
    """``n`` workers; with ``breaks``, two in three take a lunch (and some a tea) break."""
    workers = []
    for i in range(n):
        types = rng.choice(TYPES, size=int(rng.integers(1, 3)), replace=False)
        skills = tuple(Skill(str(t), int(rng.integers(1, 6)),
                             at(float(rng.choice([12.0, 30.0, 24 * 60.0])))) for t in types)
        shifts = ((Shift(at(8), at(12)), Shift(at(12.5), at(19))) if rng.random() < 0.5
                  else (Shift(at(float(rng.integers(7, 10))), at(float(rng.integers(15, 21)))),))
        workers.append(Worker(
            f"w{i:03d}", "a1", CENTRE[0] + rng.normal(0, spread), CENTRE[1] + rng.normal(0, spread),
            skills, float(rng.choice([45.0, 70.0, 90.0])), shifts,
            max_jobs_per_day=int(rng.integers(0, 4)),
            tags=frozenset(t for t in TAGS if rng.random() < 0.5),
            status=WorkerStatus.ONLINE if rng.random() < 0.9 else WorkerStatus.SUSPENDED,
            max_work_minutes_per_day=int(rng.choice([0, 240, 480])),
            breaks=random_breaks(rng) if breaks else ()))
    return workers


def random_orders(rng: np.random.Generator, n: int, n_workers: int, prefix: str = "o",
                  spread: float = 0.06) -> list[Order]:
    orders = []
    for i in range(n):
        earliest = at(float(rng.uniform(7, 17)))
        pick = lambda p: frozenset(f"w{int(w):03d}" for w in rng.integers(0, max(n_workers, 1), 2)
                                   if rng.random() < p)
        orders.append(Order(
            f"{prefix}{i:03d}", f"c{int(rng.integers(0, 5))}", str(rng.choice(TYPES)),
            int(rng.integers(0, 4)), CENTRE[0] + rng.normal(0, spread),
            CENTRE[1] + rng.normal(0, spread), earliest,
            earliest + int(rng.choice([0, 1800, 3 * HOUR])),
            int(rng.choice([1, 2, 3])) * HOUR, priority=int(rng.integers(0, 11)),
            required_tags=frozenset(t for t in TAGS if rng.random() < 0.15),
            preferred_worker_ids=pick(0.3), blocked_worker_ids=pick(0.2)))
    return orders


def coupled_to(rng: np.random.Generator, order: Order, i: int, kinds: int) -> Order | None:
    """By chance (one in ``kinds`` each), a team order at ``order``'s place or an order linked
    to it (of every link kind); otherwise None."""
    kind = rng.integers(0, kinds)
    if kind == 1:
        return make_order(f"team{i}", customer_id=order.customer_id,
                          service_type=order.service_type, lat=order.lat, lon=order.lon,
                          workers_needed=int(rng.integers(2, 4)))
    if kind == 2:
        gap = int(rng.integers(0, 6)) * HOUR
        return make_order(
            f"link{i}", customer_id=order.customer_id, service_type=order.service_type,
            lat=order.lat, lon=order.lon, duration=HOUR, earliest_start=at(7),
            latest_start=at(19), link=OrderLink(order.order_id, LinkType(
                int(rng.integers(1, 3))), gap, gap + HOUR))
    return None
