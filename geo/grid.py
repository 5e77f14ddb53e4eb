"""A uniform grid of cells over points on the unit sphere: the candidates of exact k-nearest and
radius queries, compiled (:class:`geo.spatial.SpatialIndex` ranks them).

The points are the unit vectors of their coordinates, projected onto the plane through the
origin square to their mean direction (for a city's points, its tangent plane) and bucketed
into square cells of side ``h`` over the projections' bounding box, each cell's points stored
together (a counting sort). A query visits the cells ring by ring around its own cell (a
ring: the cells at Chebyshev distance ``r``): after ring ``r`` every point not yet visited is
at least ``r * h`` away in the plane, so at least that far in chord (a projection never
lengthens a distance; for a cloud spread over the globe it prunes little, and stays exact).
A k-NN query stops when its ``k``-th smallest chord so far, plus the slack, is below that
bound; its candidates are then every visited point within the slack of the ``k``-th chord,
which holds every point that can be among the ``k`` nearest by great-circle distance (chord
and haversine agree in order up to rounding far below the slack), in chord order: exactly for a
few dozen, nearly (by buckets) for a wide pool, whose exact ranking follows in
:func:`geo.ranking.ranked_prefix`.

Why not a k-d tree: an instant order asks for a few dozen of a few thousand workers, and
scipy's tree cost about 15 us per call before it found anything (its fixed cost), against a
few microseconds for the whole query here.
"""

from __future__ import annotations

import math

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)

# Points per occupied cell aimed at.
CELL_POINTS = 4.0
# Candidates sorted by insertion at most (a larger pool goes to buckets, or to argsort).
_INSERTION_SORTED = 64
# Points of one bucket at most for a pool sorted by buckets (more: by argsort; the ranking
# after the grid sorts each bucket's points by insertion, which a crowded bucket would slow).
_BUCKET_POINTS = 32
# The most cells a grid has (a wide, sparse cloud gets larger cells instead).
MAX_CELLS = 1 << 20
# Rounding of a point's cell and of a chord, far below the slack callers add.
_ROUNDING = 1e-12
# The smallest cell side (a cloud of points a few micrometres apart is one cell).
_NARROWEST = 1e-12


class PointGrid:
    """The grid over unit vectors ``xyz`` (n, 3); point ``i`` is reported as ``i``."""

    __slots__ = ("size", "plane", "low", "side", "shape", "starts", "points", "xyz")

    def __init__(self, xyz: np.ndarray) -> None:
        self.size = len(xyz)
        self.plane = _plane(xyz)
        flat = xyz @ self.plane.T  # (n, 2): each point's projection
        self.low = flat.min(axis=0) if self.size else np.zeros(2)
        extent = flat.max(axis=0) - self.low if self.size else np.zeros(2)
        side = max(math.sqrt(float(extent[0] * extent[1]) * CELL_POINTS / max(self.size, 1)),
                   float(extent.max()) / 1024, _NARROWEST)
        while np.prod(np.floor(extent / side) + 1) > MAX_CELLS:
            side *= 1.25
        self.side = side
        self.shape = (np.floor(extent / side) + 1).astype(np.int64)
        at = np.minimum(np.floor((flat - self.low) / side).astype(np.int64), self.shape - 1)
        cells = at[:, 0] * self.shape[1] + at[:, 1]
        self.points = np.argsort(cells, kind="stable").astype(np.int64)
        counts = np.bincount(cells, minlength=int(np.prod(self.shape)))
        self.starts = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        self.xyz = np.ascontiguousarray(xyz[self.points])  # cell by cell

    def within(self, query: np.ndarray, chord: float) -> np.ndarray:
        """Every point within ``chord`` of one query point (3,), nearest chord first."""
        return within(self.xyz, self.points, self.starts, self.shape, self.plane, self.low,
                      self.side, query, chord)


def _plane(xyz: np.ndarray) -> np.ndarray:
    """Two orthonormal vectors (2, 3) square to the points' mean direction (any two when the
    points have none, as on a whole sphere)."""
    mean = xyz.sum(axis=0) if len(xyz) else np.zeros(3)
    norm = float(np.linalg.norm(mean))
    normal = mean / norm if norm > 1e-9 else np.array([0.0, 0.0, 1.0])
    helper = np.eye(3)[int(np.argmin(np.abs(normal)))]
    u = np.cross(normal, helper)
    u /= np.linalg.norm(u)
    return np.ascontiguousarray([u, np.cross(normal, u)])


@_jit
def nearest(xyz, starts, shape, plane, low, side, query, k, slack):
    """Per query (m, 3) of a grid (its arrays): the grid positions of the candidates of its
    ``k`` nearest points (see the module), in chord order (nearly, for a wide pool), as rows of ``(m, f)`` padded
    with the row's first candidate, and each row's count. ``0 < k <= size``."""
    m, n = query.shape[0], xyz.shape[0]
    found_at = np.empty(n, dtype=np.int64)
    found_d2 = np.empty(n)
    heap = np.empty(k)
    flat = np.empty(m * (k + 8), dtype=np.int64)  # every row's candidates, one after another
    counts = np.empty(m, dtype=np.int64)
    used = 0
    for i in range(m):
        found = _nearest_one(xyz, starts, shape, plane, low, side, query[i], k, slack,
                             found_at, found_d2, heap)
        if used + found > flat.shape[0]:
            grown = np.empty(2 * (used + found), dtype=np.int64)
            grown[:used] = flat[:used]
            flat = grown
        if found <= _INSERTION_SORTED:
            _sort_by_chord(found_at, found_d2, found)
            flat[used:used + found] = found_at[:found]
        elif not _bucket_by_chord(found_at, found_d2, found, flat, used):
            order = np.argsort(found_d2[:found])
            for j in range(found):
                flat[used + j] = found_at[order[j]]
        counts[i], used = found, used + found
    rows = np.empty((m, counts.max() if m else 0), dtype=np.int64)
    used = 0
    for i in range(m):
        rows[i, :counts[i]] = flat[used:used + counts[i]]
        rows[i, counts[i]:] = flat[used]
        used += counts[i]
    return rows, counts


@_jit
def _nearest_one(xyz, starts, shape, plane, low, side, q, k, slack, found_at, found_d2, heap):
    """The candidates of one query into ``found_at`` (grid positions) and ``found_d2``
    (squared chords); their count. ``heap`` (k) is scratch space."""
    cx, cy, first, last = _ring_bounds(q, shape, plane, low, side)
    found = 0
    kth = 0.0
    for r in range(first, last + 1):
        before = found
        found = _visit_ring(xyz, starts, shape, cx, cy, r, q, found_at, found_d2, found)
        for j in range(before, found):
            _keep_smallest(heap, k, j, found_d2[j])
        if found >= k:
            kth = math.sqrt(heap[0])
            if found == xyz.shape[0] or kth + slack < r * side - _ROUNDING:
                break
    bound = kth + slack
    kept = 0
    for j in range(found):
        if math.sqrt(found_d2[j]) <= bound:
            found_at[kept], found_d2[kept] = found_at[j], found_d2[j]
            kept += 1
    return kept


@_jit
def _keep_smallest(heap, k, seen, d2):
    """Keep the ``k`` smallest squared chords of the ``seen`` ones and ``d2`` in the max-heap
    ``heap``: once ``k`` are in, its top is the k-th smallest (what ``np.partition`` gave,
    without sorting all found points again after every ring)."""
    if seen < k:  # filling up: sift ``d2`` up from the end
        at = seen
        while at > 0 and heap[(at - 1) // 2] < d2:
            heap[at] = heap[(at - 1) // 2]
            at = (at - 1) // 2
        heap[at] = d2
    elif d2 < heap[0]:  # it displaces the largest: sift it down from the top
        at = 0
        while True:
            child = 2 * at + 1
            if child >= k:
                break
            if child + 1 < k and heap[child + 1] > heap[child]:
                child += 1
            if heap[child] <= d2:
                break
            heap[at] = heap[child]
            at = child
        heap[at] = d2


@_jit
def _sort_by_chord(at, d2, count):
    """Sort the first ``count`` found points by squared chord: an insertion sort, cheaper than
    a general sort on the few dozen candidates of an instant order's pool."""
    for j in range(1, count):
        p, d = at[j], d2[j]
        i = j
        while i > 0 and d2[i - 1] > d:
            at[i], d2[i] = at[i - 1], d2[i - 1]
            i -= 1
        at[i], d2[i] = p, d


@_jit
def _bucket_by_chord(at, d2, count, out, start):
    """The first ``count`` found points into ``out[start:]`` in nearly chord order, when no
    bucket is crowded (else False, nothing written): a counting sort into ``count`` buckets
    of equal squared-chord width (a uniform cloud puts as many points in each, as they are
    equal areas). The ranking after the grid sorts exactly by (km, index) and finds only a
    bucket's few out of order; a comparison sort of a wide pool cost more than its search."""
    top = 0.0
    for j in range(count):
        top = max(top, d2[j])
    if not top > 0.0:  # every point at the query: one crowded bucket
        return False
    bucket = np.empty(count, dtype=np.int64)
    ends = np.zeros(count + 1, dtype=np.int64)
    for j in range(count):
        # d2 / top first: within [0, 1] even for subnormal chords, where (count - 1) / top
        # overflowed (and int() of infinity is no bucket)
        b = min(int(d2[j] / top * (count - 1)), count - 1)
        bucket[j] = b
        ends[b + 1] += 1
        if ends[b + 1] > _BUCKET_POINTS:
            return False
    for b in range(count):
        ends[b + 1] += ends[b]
    for j in range(count):
        b = bucket[j]
        out[start + ends[b]] = at[j]
        ends[b] += 1
    return True


@_jit
def within(xyz, points, starts, shape, plane, low, side, query, chord):
    n = xyz.shape[0]
    found_at = np.empty(n, dtype=np.int64)
    found_d2 = np.empty(n)
    cx, cy, first, last = _ring_bounds(query, shape, plane, low, side)
    found = 0
    for r in range(first, last + 1):
        found = _visit_ring(xyz, starts, shape, cx, cy, r, query, found_at, found_d2, found)
        if chord < r * side - _ROUNDING:
            break
    inside = np.empty(found, dtype=np.int64)
    d2 = np.empty(found)
    kept = 0
    for j in range(found):
        if math.sqrt(found_d2[j]) <= chord:
            inside[kept], d2[kept] = points[found_at[j]], found_d2[j]
            kept += 1
    order = np.argsort(d2[:kept])
    return inside[:kept][order]


@_jit
def _ring_bounds(q, shape, plane, low, side):
    """The query's cell, and the first and last rings that hold any cell of the grid. A query
    outside the grid stands in the cell just outside it (its rings still bound the distance
    to the cells they leave out: the query is farther from them than that cell is), so far
    queries need no huge cell numbers."""
    cell = np.empty(2, dtype=np.int64)
    first = last = 0
    for a in range(2):
        along = plane[a, 0] * q[0] + plane[a, 1] * q[1] + plane[a, 2] * q[2]
        c = int(min(max(math.floor((along - low[a]) / side), -1.0), float(shape[a])))
        cell[a] = c
        first = max(first, -c, c - (shape[a] - 1))
        last = max(last, c, shape[a] - 1 - c)
    return cell[0], cell[1], first, last


@_jit
def _visit_ring(xyz, starts, shape, cx, cy, r, q, found_at, found_d2, found):
    """Every point of the grid's cells in ring ``r`` around cell (``cx``, ``cy``), appended to
    the found ones with its squared chord; their count now."""
    x0, x1 = max(cx - r, 0), min(cx + r, shape[0] - 1)
    y0, y1 = max(cy - r, 0), min(cy + r, shape[1] - 1)
    for x in range(x0, x1 + 1):
        if abs(x - cx) == r:  # a side of the ring: every y
            ys, step = y0, 1
        else:  # inside the ring's x range: only its two y ends
            ys, step = cy - r, max(2 * r, 1)
        for y in range(ys, y1 + 1, step):
            if y < y0:
                continue
            base = x * shape[1] + y
            for p in range(starts[base], starts[base + 1]):
                dx, dy, dz = xyz[p, 0] - q[0], xyz[p, 1] - q[1], xyz[p, 2] - q[2]
                found_at[found], found_d2[found] = p, dx * dx + dy * dy + dz * dz
                found += 1
    return found
