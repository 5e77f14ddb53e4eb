"""Builders for tests: a worker or an order with sensible defaults, overridable per field."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from matcher.model import Order, Shift, Skill, Worker

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
# 2026-12-01 00:00 Shanghai time: the day most tests plan.
DAY = int(dt.datetime(2026, 12, 1, tzinfo=SHANGHAI).timestamp())
HOUR = 3600
CENTRE = (31.2304, 121.4737)  # People's Square, Shanghai


def at(hours: float, day: int = DAY) -> int:
    """A time on the test day, ``hours`` after local midnight."""
    return day + int(hours * HOUR)


def make_worker(worker_id: str = "w1", **overrides) -> Worker:
    fields = dict(worker_id=worker_id, agency_id="a1", home_lat=CENTRE[0], home_lon=CENTRE[1],
                  skills=(Skill("cleaning", 3, DAY + 90 * 24 * HOUR),), credit_score=80.0,
                  shifts=(Shift(at(8), at(18)),), max_jobs_per_day=0)
    fields.update(overrides)
    return Worker(**fields)


def make_order(order_id: str = "o1", **overrides) -> Order:
    fields = dict(order_id=order_id, customer_id="c1", service_type="cleaning",
                  min_skill_level=1, lat=CENTRE[0] + 0.01, lon=CENTRE[1] + 0.01,
                  earliest_start=at(9), latest_start=at(11), duration=2 * HOUR)
    fields.update(overrides)
    return Order(**fields)


def without_offers(config):
    """``config`` with ``offers.timeout_s = 0``: assignments are final at once, for tests of
    planning rather than of offers."""
    import dataclasses
    from matcher.config import OffersConfig
    return dataclasses.replace(config, offers=OffersConfig(timeout_s=0))


def world_of(workers: list[Worker], plans=None, blocked=None):
    """A planner world over ``workers`` (rows in id order, as the engine builds it)."""
    from matcher.world import World
    from matcher.worker_table import WorkerTable
    table = WorkerTable(sorted(workers, key=lambda w: w.worker_id))
    return World(table, dict(plans or {}), dict(blocked or {}))
