"""Great-circle distances on the mean-radius Earth sphere.

A sphere is used instead of the WGS84 ellipsoid because it is vectorisable,
an order of magnitude cheaper than a geodesic solver, and its error (at most
about 0.56 %, for short north-south hops at the equator; below 0.3 % around
Shanghai) is far smaller than the road-detour uncertainty that
:mod:`geo.travel` multiplies in afterwards.

All functions accept plain floats or numpy arrays and follow numpy
broadcasting; scalar inputs give Python floats back.

The haversine's sines, cosines and arcsines are the C library's (``math``'s, and numba's in
compiled code, which calls the same functions), here and in every compiled kernel that prices
a distance (:func:`arc`): numpy's own vectorised float64 trigonometry differs from it in the
last bit on some CPUs (AVX-512), and a distance must be the same bits wherever it is computed
and on whichever host, or a tie between two workers could go either way.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EARTH_RADIUS_KM", "haversine_km", "to_unit_xyz", "chord_to_km", "km_to_chord"]

#: IUGG mean Earth radius R1 = (2a + b) / 3, in kilometres.
EARTH_RADIUS_KM = 6371.0088

_HALF_CIRCUMFERENCE_KM = np.pi * EARTH_RADIUS_KM

# np.radians(x) is x * (pi / 180), this very constant
DEGREE = np.pi / 180.0


@numba.njit(cache=True, nogil=True, inline="always")
def arc(phi1, lam1, phi2, lam2, cos_phi1, cos_phi2):
    """Half the central angle between two points (radians in, radians out), given the
    cosines of their latitudes: ``haversine_km`` is ``2 * EARTH_RADIUS_KM`` times it. Compiled
    kernels call this (inlined; one that does is ``cached_with`` this module) so that their
    distances are ``haversine_km``'s to the bit."""
    a = math.sin((phi2 - phi1) / 2.0)
    b = math.sin((lam2 - lam1) / 2.0)
    hav = a * a + cos_phi1 * cos_phi2 * (b * b)
    # clipped: rounding near the antipodes can push it past 1 (NaN stays NaN)
    return math.asin(math.sqrt(min(max(hav, 0.0), 1.0)))


def _haversine_one(lat1: float, lon1: float, lat2: float, lon2: float, cos1: float,
                   cos2: float) -> float:
    return 2.0 * EARTH_RADIUS_KM * arc(lat1 * DEGREE, lon1 * DEGREE, lat2 * DEGREE,
                                       lon2 * DEGREE, cos1, cos2)


def _cos_degrees(lat: float) -> float:
    return math.cos(lat * DEGREE)


def _ufunc(function, arguments: int):
    """``function`` as a compiled float64 ufunc (broadcasting, no copies); with
    NUMBA_DISABLE_JIT (debugging) numpy's Python-level vectorize of it."""
    if numba.config.DISABLE_JIT:
        return np.vectorize(function, otypes=[np.float64])
    signature = "float64(" + ", ".join(["float64"] * arguments) + ")"
    return numba.vectorize([signature], cache=True, nopython=True)(function)


# the latitudes' cosines are a ufunc of their own: on broadcast inputs (a matrix of rows
# against columns) each is computed once per point, not once per pair
_haversine = _ufunc(_haversine_one, 6)
_cosine = _ufunc(_cos_degrees, 1)


def _float_or_array(values: NDArray[np.float64], inputs: tuple) -> float | NDArray[np.float64]:
    """Return a Python float when every input was a scalar, else the array."""
    if all(np.ndim(x) == 0 for x in inputs):
        return float(values)
    return values


def haversine_km(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> float | NDArray[np.float64]:
    """Great-circle distance between WGS84 points on the mean-radius sphere.

    Parameters
    ----------
    lat1, lon1 : float or array_like
        Latitude and longitude of the first point(s), in degrees.
    lat2, lon2 : float or array_like
        Latitude and longitude of the second point(s), in degrees.
        All four arguments are broadcast against each other.

    Returns
    -------
    float or numpy.ndarray
        Distance in kilometres; a float when all inputs are scalars,
        otherwise a float64 array of the broadcast shape.

    Notes
    -----
    The haversine form keeps full relative precision for tiny distances
    (unlike the spherical law of cosines). Near antipodes rounding can push
    the haversine slightly above 1, which is clipped so that the result is
    ``pi * R`` rather than NaN.
    """
    inputs = (lat1, lon1, lat2, lon2)
    if all(type(x) is float for x in inputs):
        return _haversine_scalar(lat1, lon1, lat2, lon2)
    lat1, lon1, lat2, lon2 = (np.asarray(x, dtype=np.float64) for x in inputs)
    km = _haversine(lat1, lon1, lat2, lon2, _cosine(lat1), _cosine(lat2))
    return _float_or_array(km, inputs)


def _haversine_scalar(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    # plain floats: the ufuncs' functions in Python, on math's functions (the same C library
    # calls, the same operations: the same bits), some 20x faster than a ufunc call
    phi1, phi2 = lat1 * DEGREE, lat2 * DEGREE
    return 2.0 * EARTH_RADIUS_KM * _arc_py(phi1, lon1 * DEGREE, phi2, lon2 * DEGREE,
                                           math.cos(phi1), math.cos(phi2))


_arc_py = getattr(arc, "py_func", arc)  # (with NUMBA_DISABLE_JIT, arc is the plain function)


def to_unit_xyz(lat: ArrayLike, lon: ArrayLike) -> NDArray[np.float64]:
    """Convert latitude/longitude to cartesian points on the unit sphere.

    Parameters
    ----------
    lat, lon : float or array_like
        Latitudes and longitudes in degrees; scalars or 1-D arrays of equal
        length.

    Returns
    -------
    numpy.ndarray
        Array of shape ``(n, 3)`` (``n == 1`` for scalar input) holding
        ``(x, y, z)`` with ``z`` pointing to the north pole.

    Raises
    ------
    ValueError
        If ``lat`` or ``lon`` has more than one dimension, or their lengths
        differ.
    """
    phi = np.radians(np.atleast_1d(np.asarray(lat, dtype=np.float64)))
    lam = np.radians(np.atleast_1d(np.asarray(lon, dtype=np.float64)))
    if phi.ndim != 1:
        raise ValueError(f"lat must be a scalar or 1-D array, got shape {phi.shape}")
    if lam.ndim != 1:
        raise ValueError(f"lon must be a scalar or 1-D array, got shape {lam.shape}")
    if phi.shape != lam.shape:
        raise ValueError(f"lat and lon must have the same length, got {phi.size} and {lam.size}")
    cos_phi = np.cos(phi)
    return np.column_stack((cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)))


def chord_to_km(chord: ArrayLike) -> float | NDArray[np.float64]:
    """Convert a unit-sphere chord length to great-circle kilometres.

    Parameters
    ----------
    chord : float or array_like
        Straight-line distance between two points on the unit sphere.
        Values are clipped to the valid range ``[0, 2]`` so that rounding
        noise (e.g. ``2 + 1e-16``) does not produce NaN.

    Returns
    -------
    float or numpy.ndarray
        Great-circle distance in kilometres (float for scalar input).
    """
    half = np.clip(np.asarray(chord, dtype=np.float64) / 2.0, 0.0, 1.0)
    km = 2.0 * EARTH_RADIUS_KM * np.arcsin(half)
    return _float_or_array(km, (chord,))


def km_to_chord(km: ArrayLike) -> float | NDArray[np.float64]:
    """Convert great-circle kilometres to a unit-sphere chord length.

    Parameters
    ----------
    km : float or array_like
        Great-circle distance in kilometres. Distances are clipped to
        ``[0, pi * R]``: no two points are further apart than half the
        circumference, so larger values map to the maximal chord 2 (this
        keeps the mapping monotonic, which radius searches rely on).

    Returns
    -------
    float or numpy.ndarray
        Chord length on the unit sphere (float for scalar input).
    """
    clipped = np.clip(np.asarray(km, dtype=np.float64), 0.0, _HALF_CIRCUMFERENCE_KM)
    chord = 2.0 * np.sin(clipped / (2.0 * EARTH_RADIUS_KM))
    return _float_or_array(chord, (km,))
