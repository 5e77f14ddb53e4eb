"""What a priced block of (order, worker) pairs says per order, compiled: how many workers
passed the static checks, how many each slot check refused, and which feasible workers score
best. One loop per order instead of a dozen numpy calls per block, whose fixed cost was most
of it for the one or two orders of an instant block."""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@_jit
def tally_into(code, where, eligible, refused):
    """Per order ``i`` (row of ``code``: -1 static failure, 0 feasible, c > 0 the slot check
    that refused), into row ``where[i]`` of ``eligible`` and ``refused`` (one column per slot
    check): the pairs past the static checks, and each slot check's refusals."""
    m, k = code.shape
    for i in range(m):
        at = where[i]
        eligible[at] = 0
        refused[at] = 0
        for j in range(k):
            c = code[i, j]
            if c >= 0:
                eligible[at] += 1
                if c > 0:
                    refused[at, c - 1] += 1


@_jit
def best(code, score, limit):
    """Mask of each order's ``limit`` highest-scoring feasible pairs (``code`` 0), ties to
    the earlier column (the nearer worker): a stable sort by score, descending."""
    m, k = code.shape
    mask = np.zeros((m, k), dtype=np.bool_)
    if limit <= 0:
        return mask
    kept_score = np.empty(limit)
    kept_at = np.empty(limit, dtype=np.int64)
    for i in range(m):
        n = 0
        for j in range(k):
            if code[i, j] != 0:
                continue
            s = score[i, j]
            if n == limit and not s > kept_score[n - 1]:
                continue
            at = n if n < limit else limit - 1
            while at > 0 and kept_score[at - 1] < s:
                kept_score[at], kept_at[at] = kept_score[at - 1], kept_at[at - 1]
                at -= 1
            kept_score[at], kept_at[at] = s, j
            n = min(n + 1, limit)
        for t in range(n):
            mask[i, kept_at[t]] = True
    return mask


@_jit
def ended(code, km, limit, radius, size):
    """Per order of a widening's pass: whether its pool alone ends its search (the pool's
    ``km`` (m, k) holds every one of the ``size`` certified workers, or its farthest lies past
    the ``radius``; an empty pool too), whether its search is done (that, or ``limit``
    feasible pairs in ``code``), and how many are done."""
    m, k = km.shape
    pool_done = np.empty(m, dtype=np.bool_)
    done = np.empty(m, dtype=np.bool_)
    n_done = 0
    for i in range(m):
        pool_done[i] = k == 0 or k >= size or km[i, k - 1] > radius
        feasible = 0
        for j in range(code.shape[1]):
            if code[i, j] == 0:
                feasible += 1
        done[i] = pool_done[i] or feasible >= limit
        n_done += done[i]
    return pool_done, done, n_done


@_jit
def widest_within(km, start, radius):
    """The most columns from ``start`` on that one row of ``km`` (m, k) holds within the
    ``radius`` (``np.count_nonzero(km[:, start:] <= radius, axis=1).max(initial=0)``, whose
    numpy calls cost more than the count on a pass of a few orders)."""
    widest = 0
    for i in range(km.shape[0]):
        n = 0
        for j in range(start, km.shape[1]):
            if km[i, j] <= radius:
                n += 1
        widest = max(widest, n)
    return widest


@_jit
def scatter(code, ints, floats, j, c, at, slot_code, slot_ints, slot_floats):
    """Write the pricing of a block's priced pairs (``j``, ``c``: positions in ``code`` (m, k)
    and in ``ints`` and ``floats`` (fields, m, k)) from the slots of a joined pricing, slot
    ``at`` on: its code, its int fields into ``ints[1:]``, its float fields. The next slot."""
    for t in range(j.shape[0]):
        a, b = j[t], c[t]
        code[a, b] = slot_code[at]
        for f in range(slot_ints.shape[0]):
            ints[1 + f, a, b] = slot_ints[f, at]
        for f in range(slot_floats.shape[0]):
            floats[f, a, b] = slot_floats[f, at]
        at += 1
    return at


@_jit
def screened_pairs(ok, rows, n_ints, n_floats, n_terms, passed, failed, no_shift, order_ints,
                   order_floats, max_late, shifts, now):
    """A block's pairs (m, k) as the static checks (``ok``) and the workers' shifts leave
    them: the code (``failed``; ``no_shift`` where no shift of the worker can hold the order's
    duration starting in its window and not before ``now``, travel and other jobs aside; else
    ``passed``), the int fields with the worker ``rows`` first and the rest zero, the float
    fields and term values zero. Then the ``passed`` pairs, the ones to price, in order, in
    one int64 array (7, n): their positions (j, c), worker rows, and order columns as
    insertion reads them (earliest, latest, duration, ``max_late``), and one float64 (2, n):
    lat, lon; from the batch's ``order_ints`` (earliest, latest, duration, ...) and
    ``order_floats`` (lat, lon); ``max_late`` seconds a start may come after the latest. (Each
    array a kernel returns costs a boxing: the pairs' int columns are one.)"""
    m, k = rows.shape
    code = np.empty((m, k), dtype=np.int8)
    ints = np.zeros((n_ints, m, k), dtype=np.int64)
    n = 0
    for i in range(m):
        earliest, latest = max(order_ints[0, i], now), order_ints[1, i] + max_late
        for t in range(k):
            r = rows[i, t]
            ints[0, i, t] = r
            if not ok[i, t]:
                code[i, t] = failed
            elif _shift_holds(shifts, r, earliest, latest, order_ints[2, i]):
                code[i, t] = passed
                n += 1
            else:
                code[i, t] = no_shift
    pair_ints, pair_floats = np.empty((7, n), np.int64), np.empty((2, n))
    n = 0
    for i in range(m):
        for t in range(k):
            if code[i, t] == passed:
                pair_ints[0, n], pair_ints[1, n], pair_ints[2, n] = i, t, rows[i, t]
                for f in range(3):
                    pair_ints[3 + f, n] = order_ints[f, i]
                pair_ints[6, n] = max_late
                pair_floats[0, n], pair_floats[1, n] = order_floats[0, i], order_floats[1, i]
                n += 1
    return (code, ints, np.zeros((n_floats, m, k)), np.zeros((m, k, n_terms)), pair_ints,
            pair_floats)


@_jit
def _shift_holds(shifts, row, earliest, latest, duration):
    """Some shift of worker ``row`` can hold ``duration`` starting in [earliest, latest]."""
    for s in range(shifts.shape[1]):
        start = max(shifts[row, s, 0], earliest)
        if start <= latest and start + duration <= shifts[row, s, 1]:
            return True
    return False


@_jit
def flatten_into(kept, where, ints, floats, values, duration, from_pairs, end_at, at, order,
                 row, out_values, out_ints, out_floats):
    """Append a block's ``kept`` pairs (m, k), row by row, to the flat candidate columns from
    position ``at``: the searched order (``where`` of the pair's row), the worker row
    (``ints[0]``), the term values, the insertion's int fields (``ints[from_pairs[f]]``;
    field ``end_at`` plus the order's ``duration``) and float fields. The next position."""
    m, k = kept.shape
    for i in range(m):
        for j in range(k):
            if not kept[i, j]:
                continue
            order[at] = where[i]
            row[at] = ints[0, i, j]
            for t in range(values.shape[2]):
                out_values[at, t] = values[i, j, t]
            for f in range(from_pairs.shape[0]):
                out_ints[f, at] = ints[from_pairs[f], i, j]
            out_ints[end_at, at] += duration[i]
            for f in range(floats.shape[0]):
                out_floats[f, at] = floats[f, i, j]
            at += 1
    return at


def warm_up() -> None:
    """Load them now (numba's cache; compiled on a first run) rather than in the first
    order's answer, with the types a priced block passes."""
    code = np.zeros((1, 1), dtype=np.int8)
    tally_into(code, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64),
               np.zeros((1, 4), dtype=np.int64))
    best(code, np.zeros((1, 1)), 1)
    ended(code, np.zeros((1, 1)), 1, 1.0, 1)
    widest_within(np.zeros((1, 1)), 0, 1.0)
    screened_pairs(np.ones((1, 1), dtype=bool), np.zeros((1, 1), dtype=np.int64), 6, 3, 7, 0,
                   -1, 4, np.zeros((6, 1), dtype=np.int64), np.zeros((2, 1)), 0,
                   np.zeros((1, 1, 2), dtype=np.int64), 0)
    ints, one = np.zeros((6, 1, 1), dtype=np.int64), np.zeros(1, dtype=np.int64)
    flatten_into(code == 0, one, ints, np.zeros((3, 1, 1)), np.zeros((1, 1, 7)), one,
                 np.arange(6), 0, 0, one.copy(), one.copy(), np.zeros((1, 7)),
                 np.zeros((6, 1), dtype=np.int64), np.zeros((3, 1)))
    pair = np.zeros((1, 2), dtype=np.int8)
    scatter(pair, np.zeros((6, 1, 2), dtype=np.int64), np.zeros((3, 1, 2)),
            np.zeros(2, dtype=np.int64), np.arange(2), 0, pair[0],
            np.zeros((5, 2), dtype=np.int64), np.zeros((3, 2)))
