"""The steps of a k-NN query around the grid, compiled (:class:`geo.spatial.SpatialIndex`).

An instant order's query ranks a few dozen fetched points; written as numpy that took some
thirty calls, and their fixed cost was most of the query. Here a query is one call
(:func:`knn_query`). Its distances are :func:`geo.distance.arc`'s, the very ones
:func:`geo.distance.haversine_km` gives (the same C library trigonometry and the same
operations in the same order, so the same bits).
"""

from __future__ import annotations

import math

import numba
import numpy as np

from geo import distance, grid
from geo.distance import DEGREE, EARTH_RADIUS_KM, arc
from geo.grid import nearest
from geo.kernel_cache import cached_with

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)

# What :func:`bad_coordinate` finds first.
COORDINATES_OK, BAD_LAT, BAD_LON = 0, 1, 2


@_jit
def bad_coordinate(lat, lon):
    """The first failing check: a latitude not within [-90, 90] (NaN fails it), then a
    longitude not finite; ``COORDINATES_OK`` when none fails."""
    for i in range(lat.shape[0]):
        if not abs(lat[i]) <= 90.0:
            return BAD_LAT
    for i in range(lon.shape[0]):
        if not math.isfinite(lon[i]):
            return BAD_LON
    return COORDINATES_OK


@_jit
def unit_xyz(lat, lon):
    """Query points on the unit sphere (the grid's coordinates). Only the grid reads them,
    whose answers the exact ranking re-checks with a slack far above rounding, so numba's
    trigonometry is fine here."""
    out = np.empty((lat.shape[0], 3))
    for i in range(lat.shape[0]):
        phi, lam = math.radians(lat[i]), math.radians(lon[i])
        out[i, 0] = math.cos(phi) * math.cos(lam)
        out[i, 1] = math.cos(phi) * math.sin(lam)
        out[i, 2] = math.sin(phi)
    return out


@_jit
def sides(lat, lon):
    """Per point (n, 3): its latitude and longitude in radians and the cosine of its latitude,
    what :func:`candidate_arcs` reads of a point (the cosine as :func:`geo.distance.arc`'s
    callers compute it)."""
    out = np.empty((lat.shape[0], 3))
    for i in range(lat.shape[0]):
        phi = lat[i] * DEGREE
        out[i, 0], out[i, 1], out[i, 2] = phi, lon[i] * DEGREE, math.cos(phi)
    return out


@cached_with(distance)
@_jit
def candidate_arcs(sides, at, counts, lat, lon):
    """Per query point ``i`` (degrees), the arcs (:func:`geo.distance.arc`) to its first
    ``counts[i]`` candidates, whose rows of ``sides`` (:func:`sides`) are ``at[i]``; the
    other entries are not written."""
    m, f = at.shape
    arcs = np.empty((m, f))
    for i in range(m):
        phi1, lam1 = lat[i] * DEGREE, lon[i] * DEGREE
        cos1 = math.cos(phi1)
        for j in range(counts[i]):
            p = at[i, j]
            arcs[i, j] = arc(phi1, lam1, sides[p, 0], sides[p, 1], cos1, sides[p, 2])
    return arcs


@_jit
def ranked_prefix(arcs, scale, cand, counts, kept):
    """Each row's first ``counts`` candidates sorted by (km, index), km = ``scale`` * arc;
    the first ``kept`` of them and their km. The grid gives them in chord order (nearly, for
    a wide pool), so rows are almost sorted and an insertion sort does little."""
    m, f = cand.shape
    rows = np.empty((m, kept), dtype=np.int64)
    km = np.empty((m, kept))
    order_km = np.empty(f)
    order_at = np.empty(f, dtype=np.int64)
    for i in range(m):
        for j in range(counts[i]):
            d, p = scale * arcs[i, j], cand[i, j]
            at = j
            while at > 0 and (order_km[at - 1] > d
                              or (order_km[at - 1] == d and order_at[at - 1] > p)):
                order_km[at], order_at[at] = order_km[at - 1], order_at[at - 1]
                at -= 1
            order_km[at], order_at[at] = d, p
        rows[i] = order_at[:kept]
        km[i] = order_km[:kept]
    return rows, km


@cached_with(grid, distance)
@_jit
def knn_query(xyz, points, starts, shape, plane, low, side, sides, lat, lon, k, slack):
    """A k-NN query in one call: the grid's candidates of each query point
    (:func:`geo.grid.nearest` of its :func:`unit_xyz`), their :func:`candidate_arcs` and
    their :func:`ranked_prefix`: per query point its ``k`` nearest points and their km.
    ``sides`` holds the points' rows in the grid's order (a query's candidates lie in a few
    cells, so their rows share cache lines)."""
    at, counts = nearest(xyz, starts, shape, plane, low, side, unit_xyz(lat, lon), k, slack)
    arcs = candidate_arcs(sides, at, counts, lat, lon)
    cand = np.empty_like(at)
    for i in range(at.shape[0]):
        for j in range(counts[i]):
            cand[i, j] = points[at[i, j]]
    return ranked_prefix(arcs, 2.0 * EARTH_RADIUS_KM, cand, counts, k)
