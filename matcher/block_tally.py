"""What a priced block of (order, worker) pairs says per order, compiled: how many workers
passed the static checks, how many each slot check refused, and which feasible workers score
best. One loop per order instead of a dozen numpy calls per block, whose fixed cost was most
of it for the one or two orders of an instant block."""

from __future__ import annotations

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True, boundscheck=False)


@_jit
def tally(code, refusals):
    """Per order (row of ``code``: -1 static failure, 0 feasible, 1..``refusals`` the slot
    check that refused): the pairs past the static checks, and each slot check's refusals."""
    m, k = code.shape
    eligible = np.zeros(m, dtype=np.int64)
    refused = np.zeros((m, refusals), dtype=np.int64)
    for i in range(m):
        for j in range(k):
            c = code[i, j]
            if c >= 0:
                eligible[i] += 1
                if c > 0:
                    refused[i, c - 1] += 1
    return eligible, refused


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
    the ``radius``; an empty pool too), and whether its search is done (that, or ``limit``
    feasible pairs in ``code``)."""
    m, k = km.shape
    pool_done = np.empty(m, dtype=np.bool_)
    done = np.empty(m, dtype=np.bool_)
    for i in range(m):
        pool_done[i] = k == 0 or k >= size or km[i, k - 1] > radius
        feasible = 0
        for j in range(code.shape[1]):
            if code[i, j] == 0:
                feasible += 1
        done[i] = pool_done[i] or feasible >= limit
    return pool_done, done


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
def scatter(code, ints, floats, j, c, covered, at, priced, slot_code, slot_ints, slot_floats,
            refused):
    """Write the pricing of a block's pairs (``j``, ``c``: positions in ``code`` (m, k) and in
    ``ints`` and ``floats`` (fields, m, k)) from the slots of a joined pricing: pair ``t`` is
    refused with ``refused`` (no shift holds it) where ``covered[at + t]`` is false, else it
    takes the next priced slot from ``priced`` on (its code, its int fields into ``ints[1:]``,
    its float fields). The next slot not taken."""
    for t in range(j.shape[0]):
        a, b = j[t], c[t]
        if not covered[at + t]:
            code[a, b] = refused
            continue
        code[a, b] = slot_code[priced]
        for f in range(slot_ints.shape[0]):
            ints[1 + f, a, b] = slot_ints[f, priced]
        for f in range(slot_floats.shape[0]):
            floats[f, a, b] = slot_floats[f, priced]
        priced += 1
    return priced


@_jit
def screened_pairs(ok, rows, n_ints, n_floats, n_terms, passed, failed):
    """A block's pairs (m, k) as the static checks (``ok``) leave them: the code (``passed``
    or ``failed``), the int fields with the worker ``rows`` first and the rest zero, the
    float fields and term values zero; and the positions (j, c) of the pairs that passed."""
    m, k = rows.shape
    code = np.empty((m, k), dtype=np.int8)
    ints = np.zeros((n_ints, m, k), dtype=np.int64)
    n = 0
    for i in range(m):
        for t in range(k):
            ints[0, i, t] = rows[i, t]
            code[i, t] = passed if ok[i, t] else failed
            n += ok[i, t]
    j, c = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    n = 0
    for i in range(m):
        for t in range(k):
            if ok[i, t]:
                j[n], c[n] = i, t
                n += 1
    return code, ints, np.zeros((n_floats, m, k)), np.zeros((m, k, n_terms)), j, c


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
    tally(code, 4)
    best(code, np.zeros((1, 1)), 1)
    ended(code, np.zeros((1, 1)), 1, 1.0, 1)
    widest_within(np.zeros((1, 1)), 0, 1.0)
    screened_pairs(np.ones((1, 1), dtype=bool), np.zeros((1, 1), dtype=np.int64), 6, 3, 7, 0,
                   -1)
    ints, one = np.zeros((6, 1, 1), dtype=np.int64), np.zeros(1, dtype=np.int64)
    flatten_into(code == 0, one, ints, np.zeros((3, 1, 1)), np.zeros((1, 1, 7)), one,
                 np.arange(6), 0, 0, one.copy(), one.copy(), np.zeros((1, 7)),
                 np.zeros((6, 1), dtype=np.int64), np.zeros((3, 1)))
    pair = np.zeros((1, 2), dtype=np.int8)
    scatter(pair, np.zeros((6, 1, 2), dtype=np.int64), np.zeros((3, 1, 2)),
            np.zeros(2, dtype=np.int64), np.arange(2), np.ones(2, dtype=bool), 0, 0, pair[0],
            np.zeros((5, 2), dtype=np.int64), np.zeros((3, 2)), 1)
