"""Straight-line-based travel-time model.

Road distance is approximated as great-circle distance times a constant
detour factor, driven at a constant average speed. Travel times are rounded
up to whole seconds so that every schedule built on them is exact integer
arithmetic (no float drift when summing legs), and rounding up never
promises a technician an arrival earlier than the model predicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo import legs as compiled_legs
from geo.distance import haversine_km

__all__ = ["TravelModel"]

_SECONDS_PER_HOUR = 3600.0
# Relative float noise tolerated before rounding up; see seconds_for_km.
_ROUNDING_SLACK = 1e-12


def _require_finite_real(name: str, value: object) -> float:
    """Return ``value`` as float, or raise ValueError naming the field."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class TravelModel:
    """Constant-speed, constant-detour travel model.

    Parameters
    ----------
    detour_factor : float, default 1.3
        Ratio of road distance to great-circle distance; at least 1.
    speed_kmh : float, default 25.0
        Average door-to-door speed in km/h; strictly positive.

    Raises
    ------
    ValueError
        If a field is not a finite real number or is out of range; the
        message names the offending field.
    """

    detour_factor: float = 1.3
    speed_kmh: float = 25.0

    def __post_init__(self) -> None:
        detour = _require_finite_real("detour_factor", self.detour_factor)
        speed = _require_finite_real("speed_kmh", self.speed_kmh)
        if detour < 1.0:
            raise ValueError(f"detour_factor must be >= 1.0, got {detour!r}")
        if speed <= 0.0:
            raise ValueError(f"speed_kmh must be > 0, got {speed!r}")
        # Normalise ints to floats so equal models compare and hash equal.
        object.__setattr__(self, "detour_factor", detour)
        object.__setattr__(self, "speed_kmh", speed)

    def road_km(
        self, lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
    ) -> float | NDArray[np.float64]:
        """Estimated road distance between points.

        Parameters
        ----------
        lat1, lon1, lat2, lon2 : float or array_like
            Coordinates in degrees, broadcast as in
            :func:`geo.distance.haversine_km`.

        Returns
        -------
        float or numpy.ndarray
            Great-circle km times ``detour_factor`` (float for scalar input).
        """
        return haversine_km(lat1, lon1, lat2, lon2) * self.detour_factor

    def seconds_for_km(self, road_km: ArrayLike) -> int | NDArray[np.int64]:
        """Travel time for a road distance, rounded up to whole seconds.

        Parameters
        ----------
        road_km : float or array_like
            Road distance(s) in kilometres; finite and non-negative.

        Returns
        -------
        int or numpy.ndarray
            ``ceil(road_km * 3600 / speed_kmh)`` (float noise of relative
            size below 1e-12 is ignored, so exact whole seconds are not
            bumped up); a Python int for scalar input, otherwise an int64
            array of the same shape.

        Raises
        ------
        ValueError
            If any distance is negative or not finite.
        """
        if type(road_km) is float and 0.0 <= road_km < math.inf:
            # Scalar fast path for the insertion hot path; same rounding as below.
            return math.ceil(road_km * _SECONDS_PER_HOUR / self.speed_kmh
                             * (1.0 - _ROUNDING_SLACK))
        km = np.asarray(road_km, dtype=np.float64)
        if not np.all(np.isfinite(km)) or np.any(km < 0.0):
            raise ValueError("road_km must be finite and non-negative")
        hours_as_seconds = km * _SECONDS_PER_HOUR / self.speed_kmh
        # A time that is exactly n seconds can come out one ulp above n
        # (e.g. km == speed_kmh gives 3600.0000000000005); shave a relative
        # 1e-12 (under 1 us for a day's drive) so ceil does not add a second.
        seconds = np.ceil(hours_as_seconds * (1.0 - _ROUNDING_SLACK)).astype(np.int64)
        return int(seconds) if seconds.ndim == 0 else seconds

    @property
    def road_terms(self) -> tuple[float, float, float]:
        """(detour factor, speed, 1 minus the rounding slack): what :func:`geo.legs.road`
        reads of the model."""
        return self.detour_factor, self.speed_kmh, 1.0 - _ROUNDING_SLACK

    def legs(self, lat1: NDArray[np.float64], lon1: NDArray[np.float64],
             lat2: NDArray[np.float64], lon2: NDArray[np.float64]
             ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Seconds and road km of each leg from (lat1[i], lon1[i]) to (lat2[i], lon2[i]), 1-D
        arrays of one length: ``seconds_for_km(road_km(...))`` and ``road_km(...)``, to the
        bit, in a few calls (:mod:`geo.legs`)."""
        arrays = [np.ascontiguousarray(x, dtype=np.float64) for x in (lat1, lon1, lat2, lon2)]
        seconds, km = compiled_legs.legs(*arrays, *self.road_terms)
        if len(seconds) and seconds.min() < 0:
            raise ValueError("road_km must be finite and non-negative")
        return seconds, km

    def seconds(
        self, lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
    ) -> int | NDArray[np.int64]:
        """Travel time between points, rounded up to whole seconds.

        Parameters
        ----------
        lat1, lon1, lat2, lon2 : float or array_like
            Coordinates in degrees, broadcast as in
            :func:`geo.distance.haversine_km`.

        Returns
        -------
        int or numpy.ndarray
            A Python int for scalar input, otherwise an int64 array of the
            broadcast shape.
        """
        return self.seconds_for_km(self.road_km(lat1, lon1, lat2, lon2))
