"""The service day: the local calendar day (in the config's time zone) that daily limits and
certificate validity are counted in."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class ServiceCalendar:
    timezone: str

    def day(self, ts: int) -> int:
        """The local date of ``ts`` as a proleptic ordinal (consecutive days differ by 1)."""
        return _local(ts, self.timezone).toordinal()

    def day_end(self, ts: int) -> int:
        """The first second after the local day that contains ``ts``."""
        return _day_end(self.day(ts), self.timezone)


def _local(ts: int, timezone: str) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, _zone(timezone))


@lru_cache(maxsize=64)
def _zone(timezone: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(timezone)


@lru_cache(maxsize=4096)
def _day_end(ordinal: int, timezone: str) -> int:
    next_day = dt.date.fromordinal(ordinal + 1)
    midnight = dt.datetime(next_day.year, next_day.month, next_day.day, tzinfo=_zone(timezone))
    return int(midnight.timestamp())
