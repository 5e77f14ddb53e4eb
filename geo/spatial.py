"""Exact nearest-neighbour and radius queries over a fixed set of points.

Points live on the unit sphere in a grid of cells (:class:`geo.grid.PointGrid`). Chord
length is a monotonic function of great-circle distance, so the grid's chord ordering agrees
with the haversine ordering; the grid is only used to find candidates, and the reported
distances and final order always come from :func:`geo.distance.haversine_km` (to the bit) with
ties broken by point index. Results are therefore identical to a brute-force haversine scan.
"""

from __future__ import annotations

import operator

import numpy as np
from numpy.typing import ArrayLike, NDArray

from geo.distance import haversine_km, km_to_chord, to_unit_xyz
from geo.grid import PointGrid
from geo.ranking import BAD_LAT, BAD_LON, bad_coordinate, knn_query, sides

__all__ = ["SpatialIndex", "warm_up"]

# Chord and haversine are computed along different float paths, so two
# nearly tied points can swap order between them. Candidate searches are
# widened by this much (unit-sphere chord, about 6 mm on Earth), far above
# the ~1e-15 rounding error yet far below any distance that matters.
_CHORD_SLACK = 1e-9


def _coordinates(lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate degree coordinates as equal-length finite 1-D float arrays (C-ordered: the
    compiled steps of a query take them as they are)."""
    lat_arr = np.ascontiguousarray(lat, dtype=np.float64)
    lon_arr = np.ascontiguousarray(lon, dtype=np.float64)
    if lat_arr.ndim != 1:
        raise ValueError(f"lat must be a scalar or 1-D array, got shape {lat_arr.shape}")
    if lon_arr.ndim != 1:
        raise ValueError(f"lon must be a scalar or 1-D array, got shape {lon_arr.shape}")
    if lat_arr.shape != lon_arr.shape:
        raise ValueError(
            f"lat and lon must have the same length, got {lat_arr.size} and {lon_arr.size}"
        )
    bad = bad_coordinate(lat_arr, lon_arr)  # NaN fails the latitude's range as it should
    if bad == BAD_LAT:
        raise ValueError("lat must be finite and within [-90, 90]")
    if bad == BAD_LON:
        raise ValueError("lon must be finite")
    return lat_arr, lon_arr


def _scalar_coordinates(lat: float, lon: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Validate a single query point, returned as length-1 arrays."""
    if np.ndim(lat) != 0:
        raise ValueError("lat must be a scalar")
    if np.ndim(lon) != 0:
        raise ValueError("lon must be a scalar")
    return _coordinates(lat, lon)


def _neighbour_count(k: int) -> int:
    """Validate ``k`` as a non-negative integer."""
    if isinstance(k, bool):
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    try:
        count = operator.index(k)
    except TypeError:
        raise ValueError(f"k must be a non-negative integer, got {k!r}") from None
    if count < 0:
        raise ValueError(f"k must be a non-negative integer, got {k!r}")
    return count


class SpatialIndex:
    """Immutable k-nearest-neighbour / radius index over lat/lon points.

    Parameters
    ----------
    lat, lon : array_like
        1-D arrays (equal length) of point latitudes and longitudes in
        degrees. Point ``i`` is reported as index ``i`` by all queries.

    Raises
    ------
    ValueError
        If the arrays are not 1-D, differ in length, contain non-finite
        values, or a latitude lies outside ``[-90, 90]``.
    """

    __slots__ = ("_lat", "_lon", "_grid", "_grid_sides")

    def __init__(self, lat: ArrayLike, lon: ArrayLike) -> None:
        lat_arr, lon_arr = _coordinates(lat, lon)
        # Private read-only copies: the grid must never drift from them.
        self._lat = lat_arr.copy()
        self._lon = lon_arr.copy()
        self._lat.flags.writeable = False
        self._lon.flags.writeable = False
        self._grid = PointGrid(to_unit_xyz(self._lat, self._lon)) if self.size else None
        # The points' side of the haversine (radians, cosine of the latitude), computed once
        # instead of on every query, a row per point in the grid's order
        self._grid_sides = (sides(self._lat[self._grid.points], self._lon[self._grid.points])
                            if self._grid is not None else None)

    @property
    def size(self) -> int:
        """Number of indexed points."""
        return int(self._lat.size)

    def nearest(
        self, lat: float, lon: float, k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The ``k`` points nearest to one query point.

        Parameters
        ----------
        lat, lon : float
            Query point in degrees.
        k : int
            Number of neighbours wanted; all points are returned when
            ``k > size``.

        Returns
        -------
        indices : numpy.ndarray
            int64 point indices, length ``min(k, size)``.
        km : numpy.ndarray
            Great-circle distances in km, sorted ascending with ties broken
            by ascending index.
        """
        lat_arr, lon_arr = _scalar_coordinates(lat, lon)
        indices, km = self._knn(lat_arr, lon_arr, _neighbour_count(k))
        return indices[0], km[0]

    def nearest_many(
        self, lats: ArrayLike, lons: ArrayLike, k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """The ``k`` nearest points for each of many query points.

        Parameters
        ----------
        lats, lons : array_like
            1-D arrays of ``m`` query latitudes and longitudes in degrees.
        k : int
            Number of neighbours wanted per query.

        Returns
        -------
        indices : numpy.ndarray
            int64 array of shape ``(m, min(k, size))``.
        km : numpy.ndarray
            float64 array of the same shape; each row sorted like
            :meth:`nearest`.
        """
        lat_arr, lon_arr = _coordinates(lats, lons)
        return self._knn(lat_arr, lon_arr, _neighbour_count(k))

    def within(
        self, lat: float, lon: float, radius_km: float
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """All points within a great-circle radius of one query point.

        Parameters
        ----------
        lat, lon : float
            Query point in degrees.
        radius_km : float
            Inclusive search radius in km; finite and non-negative.

        Returns
        -------
        indices : numpy.ndarray
            int64 indices of every point with distance ``<= radius_km``.
        km : numpy.ndarray
            Their great-circle distances, sorted ascending with ties broken
            by ascending index.
        """
        lat_arr, lon_arr = _scalar_coordinates(lat, lon)
        if np.ndim(radius_km) != 0 or not np.isfinite(radius_km) or radius_km < 0:
            raise ValueError(f"radius_km must be a finite non-negative number, got {radius_km!r}")
        if self._grid is None:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        query = to_unit_xyz(lat_arr, lon_arr)[0]
        candidates = self._grid.within(query, km_to_chord(radius_km) + _CHORD_SLACK)
        indices, km = self._ranked(lat_arr[0], lon_arr[0], candidates)
        inside = km <= radius_km
        return indices[inside], km[inside]

    def _ranked(
        self, lat: float, lon: float, candidates: NDArray[np.int64]
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Sort candidate points by (haversine km, index)."""
        km = haversine_km(np.float64(lat), np.float64(lon), self._lat[candidates],
                          self._lon[candidates])
        order = np.lexsort((candidates, km))
        return candidates[order], km[order]

    def _knn(
        self, lat: NDArray[np.float64], lon: NDArray[np.float64], k: int
    ) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Exact k-NN for validated query arrays (see module docstring)."""
        m, kept = lat.size, min(k, self.size)
        if kept == 0 or m == 0:
            return np.empty((m, kept), dtype=np.int64), np.empty((m, kept), dtype=np.float64)
        # the grid's candidates, sorted by (km, index) and cut to the first ``kept``: their
        # km are haversine_km's (geo.ranking), so the same bits
        grid = self._grid
        return knn_query(grid.xyz, grid.points, grid.starts, grid.shape, grid.plane, grid.low,
                         grid.side, self._grid_sides, lat, lon, kept, _CHORD_SLACK)


def warm_up() -> None:
    """Load the compiled steps of a query now (numba's cache; compiled on a first run) rather
    than in the first order's answer: one query, as an order's pool asks it."""
    index = SpatialIndex(np.linspace(30.0, 31.0, 8), np.linspace(120.0, 121.0, 8))
    index.nearest_many(np.array([30.5]), np.array([120.5]), 1)
