"""The service day: the local calendar day (in the config's time zone) that daily limits and
certificate validity are counted in. Days are numbered from the epoch in local time."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Offset changes and midnights fall on quarter hours in every zone in use, so all seconds of a
# quarter-hour bucket share one UTC offset and one local date.
BUCKET_S = 900
DAY_S = 86_400
DAY_BUCKETS = DAY_S // BUCKET_S


@dataclass(frozen=True, slots=True)
class ServiceCalendar:
    timezone: str

    def day(self, ts: int) -> int:
        """The local day of ``ts``, as days since 1970-01-01 (local)."""
        return (ts + _offset(ts // BUCKET_S, self.timezone)) // DAY_S

    def days(self, ts: np.ndarray) -> np.ndarray:
        """:meth:`day` over an array."""
        buckets = ts // BUCKET_S
        if not buckets.size:
            return ts // DAY_S
        first = int(buckets.min()) // DAY_BUCKETS
        if int(buckets.max()) // DAY_BUCKETS == first:  # one UTC day: its table
            offsets = _day_offsets(first, self.timezone)
            return (ts + offsets[buckets - first * DAY_BUCKETS]) // DAY_S
        # several UTC days (padding at 0 makes one of them 1970): a table per day, so the
        # Python steps are per distinct day, not per distinct quarter hour
        utc_day = buckets // DAY_BUCKETS
        utc_days, inverse = np.unique(utc_day, return_inverse=True)
        tables = np.concatenate([_day_offsets(int(d), self.timezone) for d in utc_days])
        at = inverse.reshape(ts.shape) * DAY_BUCKETS + (buckets - utc_day * DAY_BUCKETS)
        return (ts + tables[at]) // DAY_S

    def offset_table(self, first: int, last: int) -> tuple[int, np.ndarray]:
        """(first bucket, the UTC offset of every quarter hour from it) covering the seconds
        ``first`` to ``last``: ``(ts + offsets[ts // BUCKET_S - first_bucket]) // DAY_S`` is
        :meth:`day` of every ``ts`` between them (read-only: it is shared)."""
        lo = first // BUCKET_S // DAY_BUCKETS
        return lo * DAY_BUCKETS, _offset_table(lo, max(lo, last // BUCKET_S // DAY_BUCKETS),
                                               self.timezone)

    def day_end(self, ts: int) -> int:
        """The first second after the local day that contains ``ts``."""
        return _day_end(self.day(ts), self.timezone)


@lru_cache(maxsize=64)
def _zone(timezone: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(timezone)


@lru_cache(maxsize=65_536)
def _offset(bucket: int, timezone: str) -> int:
    moment = dt.datetime.fromtimestamp(bucket * BUCKET_S, _zone(timezone))
    return int(moment.utcoffset().total_seconds())


@lru_cache(maxsize=4096)
def _day_offsets(utc_day: int, timezone: str) -> np.ndarray:
    """The UTC offset of every bucket of one UTC day (read-only: it is shared)."""
    first = utc_day * DAY_BUCKETS
    offsets = np.array([_offset(first + b, timezone) for b in range(DAY_BUCKETS)],
                       dtype=np.int64)
    offsets.flags.writeable = False
    return offsets


@lru_cache(maxsize=256)
def _offset_table(first_day: int, last_day: int, timezone: str) -> np.ndarray:
    if first_day == last_day:
        return _day_offsets(first_day, timezone)
    table = np.concatenate([_day_offsets(d, timezone) for d in range(first_day, last_day + 1)])
    table.flags.writeable = False
    return table


@lru_cache(maxsize=4096)
def _day_end(day: int, timezone: str) -> int:
    next_day = dt.date(1970, 1, 1) + dt.timedelta(days=day + 1)
    midnight = dt.datetime(next_day.year, next_day.month, next_day.day, tzinfo=_zone(timezone))
    return int(midnight.timestamp())
