"""Travel legs between paired points (1-D arrays), compiled around numpy's trigonometry.

:meth:`geo.travel.TravelModel.legs` prices the legs of an order's candidate workers in one
call; as numpy (:func:`geo.distance.haversine_km`, then the road km and the seconds) that was
some twenty-five calls, and their fixed cost was most of it for the few hundred legs of an
instant order. Here the arithmetic around ``np.cos``, ``np.sin`` and ``np.arcsin`` is one loop
per step, the same operations in the same order (IEEE: the same bits); the trigonometry
itself stays numpy's, whose last bit numba's does not always match.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from geo.distance import EARTH_RADIUS_KM

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)

# np.radians(x) is x * (pi / 180), this very constant
_DEGREE = np.pi / 180.0


@_jit
def angles(lat1, lon1, lat2, lon2):
    """Latitudes in radians (2, n: first points, then second points) and the half
    differences of latitude and longitude (2, n)."""
    n = lat1.shape[0]
    phis = np.empty((2, n))
    halves = np.empty((2, n))
    for i in range(n):
        phi1, phi2 = lat1[i] * _DEGREE, lat2[i] * _DEGREE
        phis[0, i], phis[1, i] = phi1, phi2
        halves[0, i] = (phi2 - phi1) / 2.0
        halves[1, i] = (lon2[i] * _DEGREE - lon1[i] * _DEGREE) / 2.0
    return phis, halves


@_jit
def haversine_root(cosines, sines):
    """sqrt of the haversine clipped to [0, 1]."""
    n = cosines.shape[1]
    out = np.empty(n)
    for i in range(n):
        a, b = sines[0, i], sines[1, i]
        hav = a * a + cosines[0, i] * cosines[1, i] * (b * b)
        out[i] = math.sqrt(min(max(hav, 0.0), 1.0))
    return out


@_jit
def road(arcs, detour, speed_kmh, keep):
    """Road km (great-circle km times ``detour``) and whole seconds (``ceil(km * 3600 /
    speed_kmh * keep)``); the seconds are -1 where the km are not finite."""
    n = arcs.shape[0]
    km = np.empty(n)
    seconds = np.empty(n, dtype=np.int64)
    scale = 2.0 * EARTH_RADIUS_KM
    for i in range(n):
        road_km = scale * arcs[i] * detour
        km[i] = road_km
        if math.isfinite(road_km) and road_km >= 0.0:
            seconds[i] = math.ceil(road_km * 3600.0 / speed_kmh * keep)
        else:
            seconds[i] = -1
    return seconds, km


def legs(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray,
         detour: float, speed_kmh: float, keep: float) -> tuple[np.ndarray, np.ndarray]:
    """Seconds (int64) and road km of each leg ``i`` between (lat1[i], lon1[i]) and (lat2[i],
    lon2[i]): C-ordered float64 arrays of one length. ``keep`` is 1 minus the rounding slack
    of :meth:`~geo.travel.TravelModel.seconds_for_km`."""
    phis, halves = angles(lat1, lon1, lat2, lon2)
    return road(np.arcsin(haversine_root(np.cos(phis), np.sin(halves))), detour, speed_kmh,
                keep)
