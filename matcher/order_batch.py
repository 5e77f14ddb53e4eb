"""Orders of one service type as columns, so that checks and insertion broadcast over
(order, worker) pairs: order attributes are (m, 1) against worker rows of shape (m, k)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from matcher.model import MIN_LEVEL, Order
from matcher.service_day import ServiceCalendar


# The int64 columns of a batch, packed in one array in this order (taking some of the orders
# is then one gather per kind of column, not one per column).
_INTS = ("earliest", "latest", "duration", "min_level", "priority", "certificate_until")


@dataclass(slots=True)  # (not frozen: made per order, and frozen, __init__ costs 3x)
class OrderBatch:
    """Per order: ``lat``, ``lon`` (views of ``floats``) and the int64 columns of ``_INTS``
    (views of ``ints``): the start window, the duration, the skill level needed (at least
    MIN_LEVEL), the priority and the second until which the certificate must be valid."""

    orders: list[Order]
    service_type: str
    floats: np.ndarray         # (2, m): lat, lon
    ints: np.ndarray           # (len(_INTS), m)
    max_late_s: int = 0        # a start may come this long after ``latest`` (soft windows)

    lat = property(lambda self: self.floats[0])
    lon = property(lambda self: self.floats[1])
    earliest = property(lambda self: self.ints[0])
    latest = property(lambda self: self.ints[1])
    duration = property(lambda self: self.ints[2])
    min_level = property(lambda self: self.ints[3])
    priority = property(lambda self: self.ints[4])
    certificate_until = property(lambda self: self.ints[5])

    @classmethod
    def of(cls, orders: list[Order], calendar: ServiceCalendar,
           max_late_s: int = 0) -> "OrderBatch":
        """The orders (all of one service type) as columns; ``max_late_s`` is that type's soft
        lateness (0: a hard window)."""
        types = {o.service_type for o in orders}
        if len(types) != 1:
            raise ValueError(f"a batch holds one service type, got {sorted(types)}")
        # (one pass over the orders, its rows turned into columns by zip: a batch has a few)
        floats = np.array(list(zip(*[(o.lat, o.lon) for o in orders])), dtype=np.float64)
        ints = np.array(list(zip(*[(o.earliest_start, o.latest_start, o.duration,
                                    max(o.min_skill_level, MIN_LEVEL), o.priority,
                                    certificate_needed_until(o, calendar, max_late_s))
                                   for o in orders])), dtype=np.int64)
        return cls(orders, types.pop(), floats, ints, max_late_s)

    def __len__(self) -> int:
        return len(self.orders)

    @property
    def hard_latest(self) -> np.ndarray:
        """The latest start allowed at all: the window's end plus the soft lateness."""
        return self.latest + self.max_late_s

    def take(self, positions: np.ndarray) -> "OrderBatch":
        """The sub-batch of the orders at ``positions``."""
        # (take, not [:, positions]: its rows stay C-contiguous, as the compiled checks take)
        return OrderBatch([self.orders[i] for i in positions], self.service_type,
                          self.floats.take(positions, axis=1), self.ints.take(positions, axis=1),
                          self.max_late_s)


def certificate_needed_until(order: Order, calendar: ServiceCalendar,
                             max_late_s: int = 0) -> int:
    """The last second of the service day in which the job can end at the latest (starting
    ``max_late_s`` after the window when the service type allows lateness)."""
    return calendar.day_end(order.latest_end + max_late_s - 1) - 1
