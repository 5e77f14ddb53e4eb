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


def warm_up() -> None:
    """Load them now (numba's cache; compiled on a first run) rather than in the first
    order's answer, with the types a priced block passes."""
    code = np.zeros((1, 1), dtype=np.int8)
    tally(code, 4)
    best(code, np.zeros((1, 1)), 1)
    ended(code, np.zeros((1, 1)), 1, 1.0, 1)
    widest_within(np.zeros((1, 1)), 0, 1.0)
    # the positions of a block's pairs: np.nonzero of its mask (strided views), or made whole
    pair = np.zeros((1, 2), dtype=np.int8)
    for j, c in (np.nonzero(pair == 0), (np.zeros(2, dtype=np.int64), np.arange(2))):
        scatter(pair, np.zeros((6, 1, 2), dtype=np.int64), np.zeros((3, 1, 2)), j, c,
                np.ones(2, dtype=bool), 0, 0, pair[0], np.zeros((5, 2), dtype=np.int64),
                np.zeros((3, 2)), 1)
