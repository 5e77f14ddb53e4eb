"""The compiled tallies of a priced block against the numpy they replace, on random blocks
with tied scores."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher import block_tally


@st.composite
def blocks(draw):
    m, k = draw(st.integers(0, 5)), draw(st.integers(0, 40))
    code = np.array(draw(st.lists(st.integers(-1, 4), min_size=m * k, max_size=m * k)),
                    dtype=np.int8).reshape(m, k)
    # few distinct scores: many ties, which go to the earlier column
    score = np.array(draw(st.lists(st.sampled_from([-2.5, -1.0, 0.0, 0.25, 3.0]),
                                   min_size=m * k, max_size=m * k))).reshape(m, k)
    return code, score


def numpy_best(code, score, limit):
    score = np.where(code == 0, score, -np.inf)
    order = np.argsort(-score, axis=1, kind="stable")[:, :limit]
    best = np.zeros(score.shape, dtype=bool)
    best[np.arange(len(best))[:, None], order] = True
    return best & np.isfinite(score)


@settings(max_examples=300, deadline=None)
@given(blocks(), st.integers(0, 45))
def test_best_is_a_stable_sort_by_score_among_the_feasible(block, limit):
    code, score = block
    assert block_tally.best(code, score, limit).tolist() == numpy_best(code, score, limit).tolist()


@settings(max_examples=200, deadline=None)
@given(blocks())
def test_tally_counts_the_eligible_and_each_refusal(block):
    """Into the rows ``where`` names (the searched orders'), the others left as they were."""
    code, _ = block
    m = len(code)
    where = np.arange(m, dtype=np.int64)[::-1] * 2 + 1  # every other row, backwards
    eligible, refused = np.full(2 * m + 1, -7), np.full((2 * m + 1, 4), -7)
    block_tally.tally_into(code, where, eligible, refused)
    assert eligible[where].tolist() == np.count_nonzero(code >= 0, axis=1).tolist()
    assert refused[where].tolist() == [[int(np.count_nonzero(row == c)) for c in range(1, 5)]
                                       for row in code]
    others = np.setdiff1d(np.arange(2 * m + 1), where)
    assert (eligible[others] == -7).all() and (refused[others] == -7).all()


def test_best_keeps_the_nearer_of_tied_workers_and_never_an_infeasible_one():
    code = np.array([[0, 0, 2, 0, 0]], dtype=np.int8)
    score = np.array([[1.0, 2.0, 9.0, 2.0, 1.0]])
    assert block_tally.best(code, score, 2).tolist() == [[False, True, False, True, False]]
    assert block_tally.best(code, score, 3).tolist() == [[True, True, False, True, False]]
    assert block_tally.best(code, score, 0).tolist() == [[False] * 5]


def test_warm_up_compiles_the_types_a_real_block_passes():
    """After ``warm_up``, a block as the search builds it needs no other compiled version."""
    from matcher.candidates import STATIC_FAIL, FEASIBLE
    block_tally.warm_up()
    kernels = (block_tally.tally_into, block_tally.best, block_tally.ended,
               block_tally.widest_within)
    compiled = [list(kernel.signatures) for kernel in kernels]
    ok = np.array([[True, False, True]])
    code = np.where(ok, FEASIBLE, STATIC_FAIL).astype(np.int8)  # as CandidateSearch builds it
    values, weights = np.ones((1, 3, 7)), np.ones(7)
    block_tally.tally_into(np.concatenate([code, code], axis=1), np.arange(1) + 3,
                           np.zeros(5, dtype=np.int64), np.zeros((5, 4), dtype=np.int64))
    block_tally.best(code, values @ weights, 12)
    block_tally.ended(code, np.ones((1, 3)), 12, 15.0, 3000)
    block_tally.widest_within(np.ones((1, 3)), 1, float(15))
    assert [list(kernel.signatures) for kernel in kernels] == compiled


@settings(max_examples=200, deadline=None)
@given(blocks(), st.integers(0, 6), st.floats(0.0, 20.0), st.integers(0, 12))
def test_ended_is_the_pool_and_limit_rule_as_numpy_writes_it(block, limit, radius, size):
    code, _ = block
    rng = np.random.default_rng(code.size + limit)
    for k in (0, code.shape[1]):
        km = np.sort(rng.uniform(0.0, 25.0, (code.shape[0], k)), axis=1)
        pool_done, done, n_done = block_tally.ended(code, km, limit, radius, size)
        if k == 0:
            want_pool = np.ones(code.shape[0], dtype=bool)
        else:
            want_pool = (k >= size) | (km[:, -1] > radius)
        want = want_pool | (np.count_nonzero(code == 0, axis=1) >= limit)
        assert pool_done.tolist() == want_pool.tolist()
        assert done.tolist() == want.tolist()
        assert n_done == np.count_nonzero(want)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 5), st.integers(0, 30), st.integers(0, 35), st.floats(0.0, 30.0))
def test_widest_within_is_the_count_numpy_writes(m, k, start, radius):
    """The most columns from ``start`` on within the radius in one row; ties at the radius
    count (``<=``), and a start past the end counts none."""
    rng = np.random.default_rng(m * 1000 + k * 10 + start)
    km = np.sort(rng.choice([0.0, 5.0, 10.0, 15.0, 20.0, rng.uniform(0, 25)], (m, k)), axis=1)
    want = int(np.count_nonzero(km[:, start:] <= radius, axis=1).max(initial=0))
    assert block_tally.widest_within(km, start, radius) == want


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4), st.integers(0, 6), st.integers(0, 3), st.integers(0, 10 ** 6),
       st.integers(0, 86400), st.sampled_from([0, 1800]))
def test_screening_refuses_the_pairs_no_shift_can_hold_and_lists_the_rest_to_price(
        m, k, n_shifts, seed, now, max_late):
    """A pair past the static checks goes on to pricing when some shift of its worker holds
    the duration from the earliest allowed start (not before ``now``) to the latest plus the
    soft lateness, as numpy over every (pair, shift) says; else it is refused as SHIFT. The
    ones to price come in (order, worker) order with their rows and order columns."""
    rng = np.random.default_rng(seed)
    begin = rng.integers(0, 86400, size=(8, n_shifts))
    shifts = np.stack([begin, begin + rng.integers(0, 4 * 3600, size=begin.shape)], axis=-1)
    shifts[rng.random(begin.shape) < 0.2] = 0  # padding: (0, 0) holds nothing
    shifts = shifts.reshape(8, n_shifts, 2).astype(np.int64)
    rows = rng.integers(0, 8, size=(m, k))
    ok = rng.random((m, k)) < 0.7
    earliest = rng.integers(0, 86400, size=m)
    order_ints = np.array([earliest, earliest + rng.integers(0, 3 * 3600, size=m),
                           rng.integers(1, 3 * 3600, size=m), rng.integers(1, 5, size=m),
                           rng.integers(0, 9, size=m), rng.integers(0, 10 ** 9, size=m)],
                          dtype=np.int64).reshape(6, m)
    order_floats = rng.uniform(30, 32, size=(2, m))
    code, ints, floats, values, pair_ints, pair_floats = block_tally.screened_pairs(
        ok, rows, 6, 3, 7, 0, -1, 4, order_ints, order_floats, max_late, shifts, now)
    j, c, priced = pair_ints[:3]

    start = np.maximum(shifts[rows][..., 0], np.maximum(order_ints[0], now)[:, None, None])
    fits = ((start <= (order_ints[1] + max_late)[:, None, None])
            & (start + order_ints[2][:, None, None] <= shifts[rows][..., 1])).any(axis=-1)
    assert code.tolist() == np.where(~ok, -1, np.where(fits, 0, 4)).tolist()
    assert ints[0].tolist() == rows.tolist() and not ints[1:].any()
    assert not floats.any() and not values.any() and values.shape == (m, k, 7)
    jj, cc = np.nonzero(ok & fits)
    assert j.tolist() == jj.tolist() and c.tolist() == cc.tolist()
    assert priced.tolist() == rows[jj, cc].tolist()
    assert pair_ints[3:].tolist() == [*order_ints[:3, jj].tolist(), [max_late] * len(jj)]
    assert pair_floats.tolist() == order_floats[:, jj].tolist()
