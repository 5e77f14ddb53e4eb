"""Travel times and distances from a matrix over a fixed set of points.

Some inputs come with their own travel matrix (the public home-care benchmarks, or a routing
engine's answer for a city) instead of the straight-line model. A :class:`PointMatrix` answers
the same vectorised question as the straight-line model, "seconds and km between these points",
by looking each point up among its known points; a point it does not know is an error, never a
guess.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["PointMatrix"]

# Coordinates are matched at 1e-7 degrees (about 1 cm), the precision inputs carry.
_GRID = 1e7


def _keys(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    return np.round(lat * _GRID).astype(np.int64) * (1 << 32) + np.round(lon * _GRID).astype(
        np.int64)


_PADDING = 0  # the key of (0, 0)


class PointMatrix:
    """``seconds[i, j]`` and ``km[i, j]`` between known points ``(lats[i], lons[i])``."""

    def __init__(self, lats: ArrayLike, lons: ArrayLike, seconds: ArrayLike,
                 km: ArrayLike | None = None) -> None:
        keys = _keys(np.asarray(lats, dtype=np.float64), np.asarray(lons, dtype=np.float64))
        seconds = np.asarray(seconds, dtype=np.int64)
        km = np.zeros(seconds.shape) if km is None else np.asarray(km, dtype=float)
        if seconds.shape != (len(keys), len(keys)) or km.shape != seconds.shape:
            raise ValueError("the matrices must be square over the points")
        if len(np.unique(keys)) != len(keys):
            raise ValueError("two points share a location; a matrix lookup needs distinct points")
        if _PADDING not in keys:
            # vectorised callers pad their columns with (0, 0) and mask the result: that one
            # point is answered (0 s, 0 km) so that padding never raises
            keys = np.append(keys, _PADDING)
            seconds, km = np.pad(seconds, (0, 1)), np.pad(km, (0, 1))
        self.seconds, self.km = seconds, km
        self._order = np.argsort(keys)
        self._sorted = keys[self._order]

    def index(self, lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
        """The matrix index of each point; KeyError for a point the matrix does not know."""
        keys = _keys(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
        at = np.clip(np.searchsorted(self._sorted, keys), 0, len(self._sorted) - 1)
        if not np.all(self._sorted[at] == keys):
            raise KeyError("a point outside the travel matrix")
        return self._order[at]

    def leg(self, lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike):
        """Travel seconds and km between points (scalars or broadcastable arrays)."""
        i, j = self.index(lat1, lon1), self.index(lat2, lon2)
        return self.seconds[i, j], self.km[i, j]
