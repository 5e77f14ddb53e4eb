"""The steps of a k-NN query around the grid, compiled (:class:`geo.spatial.SpatialIndex`).

An instant order's query ranks a few dozen fetched points; written as numpy that took some
thirty calls, and their fixed cost was most of the query. Here each step is one loop. The
trigonometry stays in numpy (``np.sin``, ``np.arcsin`` between the steps): numba's sine is
not numpy's in the last bit, and these distances must be the very ones
:func:`geo.distance.haversine_km` gives. The rest (differences, products, square root,
clipping, sorting) is exact IEEE arithmetic in the same order, so the bits are the same.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from geo import grid
from geo.grid import nearest
from geo.kernel_cache import cached_with

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)

# np.radians(x) is x * (pi / 180), this very constant
_DEGREE = np.pi / 180.0

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
def half_angles(sides, at, phi1, lam1):
    """Per (row, candidate): (phi2 - phi1) / 2 and (lam2 - lam1) / 2, stacked (2, m, f), and
    the candidate's cos(phi2) (m, f); ``sides`` (n, 3) holds each point's phi, lambda,
    cos(phi) in a row, ``at`` (m, f) the candidates' rows of it."""
    m, f = at.shape
    halves = np.empty((2, m, f))
    cos2 = np.empty((m, f))
    for i in range(m):
        for j in range(f):
            p = at[i, j]
            halves[0, i, j] = (sides[p, 0] - phi1[i]) / 2.0
            halves[1, i, j] = (sides[p, 1] - lam1[i]) / 2.0
            cos2[i, j] = sides[p, 2]
    return halves, cos2


@_jit
def haversine_root(sines, cos1, cos2):
    """sqrt of the haversine clipped to [0, 1], from the sines of the half angles: the
    operations of :func:`geo.distance.haversine_km`, in its order."""
    m, f = cos2.shape
    out = np.empty((m, f))
    for i in range(m):
        for j in range(f):
            a, b = sines[0, i, j], sines[1, i, j]
            hav = a * a + cos1[i] * cos2[i, j] * (b * b)
            out[i, j] = math.sqrt(min(max(hav, 0.0), 1.0))
    return out


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


@cached_with(grid)
@_jit
def query_halves(xyz, points, starts, shape, plane, low, side, sides, lat, lon, k, slack):
    """One k-NN query's steps before its first trigonometry, in one call: the grid's
    candidates of each query point (:func:`geo.grid.nearest` of its :func:`unit_xyz`), as
    point indices, and their :func:`half_angles`, with the query points' latitudes in
    radians. ``sides`` holds the points' rows in the grid's order (a query's candidates lie
    in a few cells, so their rows share cache lines)."""
    at, counts = nearest(xyz, starts, shape, plane, low, side, unit_xyz(lat, lon), k, slack)
    phi1, lam1 = np.empty(lat.shape[0]), np.empty(lat.shape[0])
    for i in range(lat.shape[0]):
        phi1[i], lam1[i] = lat[i] * _DEGREE, lon[i] * _DEGREE
    halves, cos2 = half_angles(sides, at, phi1, lam1)
    cand = np.empty_like(at)
    for i in range(at.shape[0]):
        for j in range(at.shape[1]):
            cand[i, j] = points[at[i, j]]
    return cand, counts, halves, cos2, phi1
