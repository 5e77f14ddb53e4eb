"""Tests for geo.spatial.SpatialIndex: exact agreement with brute force."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import EARTH_RADIUS_KM, haversine_km
from geo.ranking import candidate_arcs, ranked_prefix, sides
from geo.spatial import SpatialIndex

SHANGHAI_LAT = (30.9, 31.5)
SHANGHAI_LON = (121.1, 121.9)
GLOBAL_LAT = (-90.0, 90.0)
GLOBAL_LON = (-180.0, 180.0)

examples = settings(max_examples=60, deadline=None)


@st.composite
def clouds(draw, lat_range, lon_range, min_size=0):
    """Point clouds with deliberate duplicates and grid-aligned near-ties."""
    free = st.tuples(st.floats(*lat_range), st.floats(*lon_range))
    grid = st.tuples(
        st.sampled_from(np.linspace(*lat_range, 5).tolist()),
        st.sampled_from(np.linspace(*lon_range, 5).tolist()),
    )
    points = draw(st.lists(st.one_of(free, grid), min_size=min_size, max_size=60))
    if points:
        copies = draw(st.lists(st.sampled_from(points), max_size=10))
        points = points + copies
        order = draw(st.permutations(range(len(points))))
        points = [points[i] for i in order]
    lat = np.array([p[0] for p in points], dtype=np.float64)
    lon = np.array([p[1] for p in points], dtype=np.float64)
    return lat, lon


def queries(lat_range, lon_range, cloud_lat, cloud_lon):
    """Free query points, grid points and the cloud's own points."""
    free = st.tuples(st.floats(*lat_range), st.floats(*lon_range))
    grid = st.tuples(
        st.sampled_from(np.linspace(*lat_range, 5).tolist()),
        st.sampled_from(np.linspace(*lon_range, 5).tolist()),
    )
    options = [free, grid]
    if cloud_lat.size:
        options.append(st.sampled_from(list(zip(cloud_lat.tolist(), cloud_lon.tolist()))))
    return st.one_of(*options)


def brute_nearest(lat, lon, q_lat, q_lon, k):
    """Reference k-NN: full haversine scan sorted by (km, index)."""
    km = haversine_km(q_lat, q_lon, lat, lon)
    order = np.lexsort((np.arange(lat.size), km))[:k]
    return order, km[order]


def brute_within(lat, lon, q_lat, q_lon, radius_km):
    """Reference radius search: full haversine scan sorted by (km, index)."""
    idx, km = brute_nearest(lat, lon, q_lat, q_lon, lat.size)
    inside = km <= radius_km
    return idx[inside], km[inside]


def assert_same_result(actual, expected):
    """Indices, distances and dtypes must match the reference exactly."""
    idx, km = actual
    exp_idx, exp_km = expected
    assert idx.dtype == np.int64 and km.dtype == np.float64
    np.testing.assert_array_equal(km, exp_km)
    np.testing.assert_array_equal(idx, exp_idx)


REGIONS = [
    pytest.param(SHANGHAI_LAT, SHANGHAI_LON, id="shanghai"),
    pytest.param(GLOBAL_LAT, GLOBAL_LON, id="global"),
]


@pytest.mark.parametrize(("lat_range", "lon_range"), REGIONS)
@examples
@given(data=st.data())
def test_nearest_matches_brute_force(lat_range, lon_range, data):
    lat, lon = data.draw(clouds(lat_range, lon_range))
    q_lat, q_lon = data.draw(queries(lat_range, lon_range, lat, lon))
    k = data.draw(st.integers(0, lat.size + 3))
    index = SpatialIndex(lat, lon)
    assert_same_result(index.nearest(q_lat, q_lon, k), brute_nearest(lat, lon, q_lat, q_lon, k))


@pytest.mark.parametrize(("lat_range", "lon_range"), REGIONS)
@examples
@given(data=st.data())
def test_nearest_many_matches_brute_force(lat_range, lon_range, data):
    lat, lon = data.draw(clouds(lat_range, lon_range))
    points = data.draw(st.lists(queries(lat_range, lon_range, lat, lon), max_size=8))
    q_lat = np.array([p[0] for p in points], dtype=np.float64)
    q_lon = np.array([p[1] for p in points], dtype=np.float64)
    k = data.draw(st.integers(0, lat.size + 3))
    idx, km = SpatialIndex(lat, lon).nearest_many(q_lat, q_lon, k)
    assert idx.shape == km.shape == (len(points), min(k, lat.size))
    for row in range(len(points)):
        expected = brute_nearest(lat, lon, q_lat[row], q_lon[row], k)
        assert_same_result((idx[row], km[row]), expected)


@pytest.mark.parametrize(("lat_range", "lon_range"), REGIONS)
@examples
@given(data=st.data())
def test_within_matches_brute_force(lat_range, lon_range, data):
    lat, lon = data.draw(clouds(lat_range, lon_range))
    q_lat, q_lon = data.draw(queries(lat_range, lon_range, lat, lon))
    all_km = haversine_km(q_lat, q_lon, lat, lon)
    # Radii equal to an actual point distance probe the inclusive boundary.
    radius_choices = [st.floats(0.0, 25_000.0)]
    if lat.size:
        radius_choices.append(st.sampled_from(all_km.tolist()))
    radius = data.draw(st.one_of(*radius_choices))
    result = SpatialIndex(lat, lon).within(q_lat, q_lon, radius)
    assert_same_result(result, brute_within(lat, lon, q_lat, q_lon, radius))


def test_k_larger_than_size_returns_all_sorted():
    index = SpatialIndex([31.3, 31.1, 31.2], [121.5, 121.5, 121.5])
    idx, km = index.nearest(31.0, 121.5, 10)
    np.testing.assert_array_equal(idx, [1, 2, 0])
    assert np.all(np.diff(km) > 0)
    many_idx, _ = index.nearest_many([31.0, 31.4], [121.5, 121.5], 10)
    np.testing.assert_array_equal(many_idx, [[1, 2, 0], [0, 2, 1]])


def test_empty_index():
    index = SpatialIndex([], [])
    assert index.size == 0
    for idx, km in (index.nearest(31.2, 121.5, 3), index.within(31.2, 121.5, 100.0)):
        assert idx.shape == km.shape == (0,)
        assert idx.dtype == np.int64 and km.dtype == np.float64
    idx, km = index.nearest_many([31.2, 31.3], [121.5, 121.6], 3)
    assert idx.shape == km.shape == (2, 0)


def test_k_zero_and_no_queries():
    index = SpatialIndex([31.2, 31.3], [121.5, 121.6])
    idx, km = index.nearest(31.2, 121.5, 0)
    assert idx.shape == km.shape == (0,)
    idx, km = index.nearest_many([], [], 2)
    assert idx.shape == km.shape == (0, 2)


def test_radius_zero_returns_all_duplicates_by_index():
    lat = [31.2, 31.25, 31.2, 31.2, 31.2000001]
    lon = [121.5, 121.5, 121.5, 121.5, 121.5]
    idx, km = SpatialIndex(lat, lon).within(31.2, 121.5, 0.0)
    np.testing.assert_array_equal(idx, [0, 2, 3])
    np.testing.assert_array_equal(km, [0.0, 0.0, 0.0])


def test_ties_at_k_boundary_broken_by_index():
    """Twenty identical points: k-NN must return the lowest indices."""
    lat = np.full(20, 31.2)
    lon = np.full(20, 121.5)
    lat[0], lon[0] = 31.3, 121.5  # one farther point first
    idx, km = SpatialIndex(lat, lon).nearest(31.2, 121.5, 3)
    np.testing.assert_array_equal(idx, [1, 2, 3])
    np.testing.assert_array_equal(km, [0.0, 0.0, 0.0])


def test_within_whole_earth_radius_returns_everything():
    lat = np.array([90.0, -90.0, 0.0, 31.2])
    lon = np.array([0.0, 0.0, -179.9, 121.5])
    idx, _ = SpatialIndex(lat, lon).within(0.0, 0.0, 1e6)
    assert sorted(idx.tolist()) == [0, 1, 2, 3]


def test_size_and_input_not_aliased():
    lat = np.array([31.2, 31.3])
    lon = np.array([121.5, 121.6])
    index = SpatialIndex(lat, lon)
    lat[0] = 0.0  # mutating the caller's array must not corrupt the index
    assert index.size == 2
    idx, km = index.nearest(31.2, 121.5, 1)
    assert idx.tolist() == [0] and km[0] == 0.0


@pytest.mark.parametrize(
    ("lat", "lon", "field"),
    [
        ([31.2, 31.3], [121.5], "lat and lon"),
        ([[31.2]], [121.5], "lat"),
        ([91.0], [121.5], "lat"),
        ([np.nan], [121.5], "lat"),
        ([-np.inf], [121.5], "lat"),
        ([-90.5], [121.5], "lat"),
        ([31.2], [np.inf], "lon"),
        ([31.2], [np.nan], "lon"),
    ],
)
def test_constructor_validation(lat, lon, field):
    with pytest.raises(ValueError, match=field):
        SpatialIndex(lat, lon)


def test_query_validation():
    index = SpatialIndex([31.2], [121.5])
    with pytest.raises(ValueError, match="k"):
        index.nearest(31.2, 121.5, -1)
    with pytest.raises(ValueError, match="k"):
        index.nearest(31.2, 121.5, 1.5)
    with pytest.raises(ValueError, match="radius_km"):
        index.within(31.2, 121.5, -0.1)
    with pytest.raises(ValueError, match="lat"):
        index.nearest([31.2, 31.3], 121.5, 1)


def test_nearest_many_mixes_crowded_and_plain_rows():
    """One query with a crowd of tied points at its k-th neighbour (all of them are
    candidates) beside plain ones: every row as a brute-force haversine ranking gives it."""
    rng = np.random.default_rng(3)
    lat = np.concatenate([31.0 + rng.random(200) * 0.5, np.full(30, 31.6)])
    lon = np.concatenate([121.0 + rng.random(200) * 0.5, np.full(30, 121.6)])
    index = SpatialIndex(lat, lon)
    q_lat, q_lon = np.array([31.2, 31.6, 31.4]), np.array([121.2, 121.6, 121.1])
    idx, km = index.nearest_many(q_lat, q_lon, 10)
    for row in range(3):
        every = haversine_km(q_lat[row], q_lon[row], lat, lon)
        want = np.lexsort((np.arange(len(lat)), every))[:10]
        np.testing.assert_array_equal(idx[row], want)
        np.testing.assert_array_equal(km[row], every[want])


def test_wide_queries_rank_as_brute_force_even_with_tied_points():
    """Wide rows of candidates with runs of identical points (ties the grid may give in any
    order) rank by (km, index), pools sorted by insertion in the grid or not
    (``geo.grid._INSERTION_SORTED``) alike."""
    rng = np.random.default_rng(5)
    lat = 31.0 + rng.random(1500) * 0.5
    lon = 121.0 + rng.random(1500) * 0.5
    dup = rng.integers(0, 1500, size=300)
    lat, lon = np.concatenate([lat, lat[dup]]), np.concatenate([lon, lon[dup]])
    index = SpatialIndex(lat, lon)
    q_lat, q_lon = 31.0 + rng.random(12) * 0.5, 121.0 + rng.random(12) * 0.5
    for k in (48, 63, 64, 65, 130, 300):
        idx, km = index.nearest_many(q_lat, q_lon, k)
        for row in range(len(q_lat)):
            assert_same_result((idx[row], km[row]),
                               brute_nearest(lat, lon, q_lat[row], q_lon[row], k))


def test_wide_pools_by_buckets_or_by_argsort_rank_as_brute_force():
    """A wide pool goes to equal-width buckets of squared chord unless one bucket is crowded
    (then to argsort): a spread cloud takes the buckets, a crowd of tied points around the
    query the argsort; both rank as brute force, and the buckets put every point in."""
    from geo.grid import _BUCKET_POINTS, _bucket_by_chord
    rng = np.random.default_rng(9)
    spread_lat, spread_lon = 31.0 + rng.random(3000) * 0.5, 121.0 + rng.random(3000) * 0.5
    crowd = np.full(3 * _BUCKET_POINTS, 31.25)
    lat = np.concatenate([spread_lat, crowd])
    lon = np.concatenate([spread_lon, crowd - 31.25 + 121.25])
    index = SpatialIndex(lat, lon)
    q_lat, q_lon = np.array([31.1, 31.2501]), np.array([121.4, 121.2501])
    for k in (65, 200, 700):
        idx, km = index.nearest_many(q_lat, q_lon, k)  # one row each way, in one call
        for row in range(2):
            assert_same_result((idx[row], km[row]),
                               brute_nearest(lat, lon, q_lat[row], q_lon[row], k))
        pools = [np.sort(haversine_km(q_lat[row], q_lon[row], lat, lon))[:k + 40] ** 2
                 for row in range(2)]  # about what each row's pool holds (by km, not chord)
        scratch = np.empty(k + 40, dtype=np.int64)
        assert [_bucket_by_chord(np.arange(k + 40, dtype=np.int64), pool, k + 40, scratch, 0)
                for pool in pools] == [True, False]

    d2 = rng.random(500)
    at, out = np.arange(500, dtype=np.int64), np.full(510, -1, dtype=np.int64)
    assert _bucket_by_chord(at, d2, 500, out, 10)
    assert sorted(out[10:].tolist()) == list(range(500))
    order = d2[out[10:]]
    assert np.count_nonzero(np.diff(order) < 0) < 250  # nearly sorted, not as it came
    crowded = np.concatenate([np.zeros(_BUCKET_POINTS + 1), rng.random(200)])
    untouched = np.full(300, -1, dtype=np.int64)
    assert not _bucket_by_chord(np.arange(len(crowded), dtype=np.int64), crowded,
                                len(crowded), untouched, 0)


def test_a_wide_pool_of_subnormal_chords_is_ranked_and_sorted_in_bounds():
    """Points a hair from the query on the equator: their squared chords are subnormal, where
    a bucket width of (count - 1) / top overflowed and int() of infinity made no bucket (the
    compiled kernel wrote out of bounds; as Python it raises)."""
    from geo.grid import _bucket_by_chord
    lat, lon = np.full(100, 1e-155), np.zeros(100)
    lat[::2] = 2e-155
    index = SpatialIndex(lat, lon)
    idx, km = index.nearest_many(np.array([0.0]), np.array([0.0]), 80)
    assert_same_result((idx[0], km[0]), brute_nearest(lat, lon, 0.0, 0.0, 80))
    d2 = np.where(np.arange(100) % 2 == 0, 1.2e-313, 3e-314)
    out = np.full(100, -1, dtype=np.int64)
    for bucket in (_bucket_by_chord, _bucket_by_chord.py_func):
        placed = bucket(np.arange(100, dtype=np.int64), d2, 100, out, 0)
        assert not placed or sorted(out.tolist()) == list(range(100))


def test_wide_rows_out_of_order_are_sorted():
    """A wide candidate row not in (km, index) order (the grid gave ties or rounding the other
    way round) is sorted, not taken as it came; each distance is haversine_km's, to the bit."""
    rng = np.random.default_rng(6)
    lat, lon = 31.0 + rng.random(400) * 0.5, 121.0 + rng.random(400) * 0.5
    index = SpatialIndex(lat, lon)
    q_lat, q_lon = np.array([31.2, 31.3]), np.array([121.2, 121.1])
    cand = np.array([rng.permutation(400)[:200] for _ in range(2)], dtype=np.int64)
    # the query's steps after the grid (SpatialIndex._knn), on these candidates
    counts = np.array([200, 200])
    arcs = candidate_arcs(sides(lat, lon), cand, counts, q_lat, q_lon)
    idx, km = ranked_prefix(arcs, 2.0 * EARTH_RADIUS_KM, cand, counts, 150)
    for row in range(2):
        every = haversine_km(q_lat[row], q_lon[row], lat[cand[row]], lon[cand[row]])
        want = np.lexsort((cand[row], every))[:150]
        np.testing.assert_array_equal(idx[row], cand[row][want])
        np.testing.assert_array_equal(km[row], every[want])


def test_warm_up_compiles_every_step_a_real_query_takes():
    """The server loads the compiled steps before serving: an order's query after
    ``warm_up`` needs no other compiled version (one would be compiled in its answer)."""
    from geo import grid, ranking
    from geo.spatial import warm_up
    kernels = (ranking.bad_coordinate, ranking.knn_query, ranking.sides, ranking.unit_xyz,
               ranking.candidate_arcs, ranking.ranked_prefix, grid.nearest)
    warm_up()
    compiled = [list(kernel.signatures) for kernel in kernels]
    rng = np.random.default_rng(8)
    index = SpatialIndex(31.0 + rng.random(300) * 0.5, 121.0 + rng.random(300) * 0.5)
    batch_lat = np.array([31.2, 31.3, 31.25])[[0, 2]]  # as an order batch takes its rows
    index.nearest_many(batch_lat, np.array([121.2, 121.3]), 48)
    assert [list(kernel.signatures) for kernel in kernels] == compiled


def test_nan_and_infinite_queries_are_refused_naming_the_coordinate():
    index = SpatialIndex(31.0 + np.arange(50) / 100, 121.0 + np.arange(50) / 100)
    for lat, lon, field in ((np.nan, 121.0, "lat"), (31.0, np.inf, "lon"),
                            (-90.01, 121.0, "lat"), (31.0, np.nan, "lon")):
        with pytest.raises(ValueError, match=field):
            index.nearest_many(np.array([31.0, lat]), np.array([121.0, lon]), 5)
    assert index.nearest_many(np.array([90.0, -90.0]), np.array([180.0, -180.0]), 5)[0].shape \
        == (2, 5)


def test_a_wide_cloud_gets_a_bounded_grid_and_exact_answers():
    """Points all over the globe, and a query far from a city's cloud: the grid stays within
    its cell budget and every answer is the brute-force one."""
    from geo.grid import MAX_CELLS
    rng = np.random.default_rng(9)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 30_000)))
    lon = rng.uniform(-180, 180, 30_000)
    index = SpatialIndex(lat, lon)
    assert index._grid.starts.size - 1 <= MAX_CELLS
    q_lat, q_lon = np.array([89.99, -45.0, 0.0]), np.array([0.0, 179.99, -179.99])
    idx, km = index.nearest_many(q_lat, q_lon, 40)
    for row in range(3):
        assert_same_result((idx[row], km[row]),
                           brute_nearest(lat, lon, q_lat[row], q_lon[row], 40))
    city = SpatialIndex(31.0 + rng.random(500) * 0.5, 121.0 + rng.random(500) * 0.5)
    far = city.nearest(39.9, 116.4, 7)  # Beijing, about 1,000 km away
    assert_same_result(far, brute_nearest(city._lat, city._lon, 39.9, 116.4, 7))


def test_points_a_hair_apart_and_a_query_across_the_globe():
    """Points 1e-97 degrees apart make the narrowest cells; a query at the pole is then
    countless cells away (a cell number past any integer), and still gets the exact answer."""
    lat = np.array([0.0, 1.9246443e-97, 0.0, 0.0])
    lon = np.full(4, -180.0)
    index = SpatialIndex(lat, lon)
    for q_lat, q_lon in ((90.0, -90.0), (-90.0, 0.0), (0.0, 0.0), (0.0, -180.0)):
        assert_same_result(index.nearest(q_lat, q_lon, 2), brute_nearest(lat, lon, q_lat, q_lon, 2))
        assert_same_result(index.within(q_lat, q_lon, 20_100.0),
                           brute_within(lat, lon, q_lat, q_lon, 20_100.0))
