"""Travel legs between paired points (1-D arrays), compiled.

:meth:`geo.travel.TravelModel.legs` prices the legs of an order's candidate workers in one
call; as numpy (:func:`geo.distance.haversine_km`, then the road km and the seconds) that was
some twenty-five calls, and their fixed cost was most of it for the few hundred legs of an
instant order. Here it is one loop; each leg's great-circle km are
:func:`geo.distance.arc`'s, so :func:`geo.distance.haversine_km`'s to the bit.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from geo import distance
from geo.distance import DEGREE, EARTH_RADIUS_KM, arc
from geo.kernel_cache import cached_with

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@cached_with(distance)
@_jit
def leg_arcs(lat1, lon1, lat2, lon2):
    """:func:`geo.distance.arc` of each pair of points (degrees)."""
    out = np.empty(lat1.shape[0])
    for i in range(lat1.shape[0]):
        phi1, phi2 = lat1[i] * DEGREE, lat2[i] * DEGREE
        out[i] = arc(phi1, lon1[i] * DEGREE, phi2, lon2[i] * DEGREE, math.cos(phi1),
                     math.cos(phi2))
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


@cached_with(distance)
@_jit
def legs(lat1, lon1, lat2, lon2, detour, speed_kmh, keep):
    """Seconds (int64) and road km of each leg ``i`` between (lat1[i], lon1[i]) and (lat2[i],
    lon2[i]): C-ordered float64 arrays of one length. ``keep`` is 1 minus the rounding slack
    of :meth:`~geo.travel.TravelModel.seconds_for_km`."""
    return road(leg_arcs(lat1, lon1, lat2, lon2), detour, speed_kmh, keep)
