"""Orders of one service type as columns, so that checks and insertion broadcast over
(order, worker) pairs: order attributes are (m, 1) against worker rows of shape (m, k)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.model import MIN_LEVEL, Order
from matcher.service_day import ServiceCalendar


@dataclass(frozen=True, slots=True)
class OrderBatch:
    orders: list[Order]
    service_type: str
    lat: np.ndarray
    lon: np.ndarray
    earliest: np.ndarray
    latest: np.ndarray
    duration: np.ndarray
    min_level: np.ndarray      # at least MIN_LEVEL
    priority: np.ndarray
    certificate_until: np.ndarray  # the certificate must be valid at least until this second
    max_late_s: int = 0        # a start may come this long after ``latest`` (soft windows)

    @classmethod
    def of(cls, orders: list[Order], calendar: ServiceCalendar,
           max_late_s: int = 0) -> "OrderBatch":
        """The orders (all of one service type) as columns; ``max_late_s`` is that type's soft
        lateness (0: a hard window)."""
        types = {o.service_type for o in orders}
        if len(types) != 1:
            raise ValueError(f"a batch holds one service type, got {sorted(types)}")

        def column(values, dtype=np.int64) -> np.ndarray:
            return np.array(list(values), dtype=dtype)

        return cls(
            orders, types.pop(),
            column((o.lat for o in orders), np.float64),
            column((o.lon for o in orders), np.float64),
            column(o.earliest_start for o in orders),
            column(o.latest_start for o in orders),
            column(o.duration for o in orders),
            column(max(o.min_skill_level, MIN_LEVEL) for o in orders),
            column(o.priority for o in orders),
            column(certificate_needed_until(o, calendar, max_late_s) for o in orders),
            max_late_s)

    def __len__(self) -> int:
        return len(self.orders)

    @property
    def hard_latest(self) -> np.ndarray:
        """The latest start allowed at all: the window's end plus the soft lateness."""
        return self.latest + self.max_late_s

    def take(self, positions: np.ndarray) -> "OrderBatch":
        """The sub-batch of the orders at ``positions``."""
        return OrderBatch([self.orders[i] for i in positions], self.service_type,
                          *(getattr(self, name)[positions] for name in _COLUMNS),
                          max_late_s=self.max_late_s)


_COLUMNS = ("lat", "lon", "earliest", "latest", "duration", "min_level", "priority",
            "certificate_until")


def certificate_needed_until(order: Order, calendar: ServiceCalendar,
                             max_late_s: int = 0) -> int:
    """The last second of the service day in which the job can end at the latest (starting
    ``max_late_s`` after the window when the service type allows lateness)."""
    return calendar.day_end(order.latest_end + max_late_s - 1) - 1
