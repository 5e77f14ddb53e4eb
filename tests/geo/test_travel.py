"""Tests for geo.travel.TravelModel."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.distance import EARTH_RADIUS_KM
from geo.travel import TravelModel


def test_defaults():
    model = TravelModel()
    assert model.detour_factor == 1.3 and model.speed_kmh == 25.0


def test_known_pair_on_equator():
    """One degree of longitude on the equator: 111.195 km great circle."""
    model = TravelModel()
    great_circle = EARTH_RADIUS_KM * math.radians(1.0)
    assert model.road_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(great_circle * 1.3, rel=1e-12)
    # 144.554 road km at 25 km/h is 20815.7 s, rounded up.
    assert model.seconds(0.0, 0.0, 0.0, 1.0) == 20816


def test_known_pair_in_shanghai():
    """People's Square -> Pudong airport, 33.24 km straight: ~43.21 road km."""
    model = TravelModel(detour_factor=1.3, speed_kmh=25.0)
    road = model.road_km(31.2304, 121.4737, 31.1443, 121.8083)
    assert road == pytest.approx(43.21, abs=0.01)
    assert model.seconds(31.2304, 121.4737, 31.1443, 121.8083) == math.ceil(road * 3600 / 25.0)


def test_zero_distance_is_zero_seconds():
    assert TravelModel().seconds(31.2, 121.5, 31.2, 121.5) == 0
    assert TravelModel().seconds_for_km(0.0) == 0


def test_seconds_round_up():
    # At 3600 km/h one km is exactly one second, so rounding is visible.
    model = TravelModel(detour_factor=1.0, speed_kmh=3600.0)
    assert model.seconds_for_km(1.0) == 1
    assert model.seconds_for_km(1.0001) == 2
    assert model.seconds_for_km(1.5) == 2
    assert model.seconds_for_km(1e-9) == 1


def test_exact_durations_not_bumped_by_float_noise():
    assert TravelModel(speed_kmh=25.0).seconds_for_km(25.0) == 3600
    assert TravelModel(speed_kmh=36.0).seconds_for_km(10.0) == 1000
    assert TravelModel(speed_kmh=25.0).seconds_for_km(25.001) == 3601
    # km == speed is exactly one hour, but km * 3600 / speed rounds above it.
    speed = 2.2898104902439433
    assert TravelModel(speed_kmh=speed).seconds_for_km(speed) == 3600


def test_scalar_returns_python_int_and_arrays_int64():
    model = TravelModel()
    assert type(model.seconds(31.0, 121.0, 31.1, 121.1)) is int
    assert type(model.seconds_for_km(3.0)) is int
    seconds = model.seconds(np.array([31.0, 31.1]), 121.0, 31.2, np.array([[121.0], [121.3]]))
    assert seconds.dtype == np.int64 and seconds.shape == (2, 2)
    assert seconds[1, 0] == model.seconds(31.0, 121.0, 31.2, 121.3)
    assert model.seconds_for_km([1.0, 2.0]).dtype == np.int64


def test_vectorised_matches_scalar():
    model = TravelModel(detour_factor=1.4, speed_kmh=30.0)
    lats = np.array([31.0, 31.05, 31.3, 31.45])
    lons = np.array([121.2, 121.5, 121.7, 121.85])
    expected = [model.seconds(lat, lon, 31.2, 121.5) for lat, lon in zip(lats, lons)]
    np.testing.assert_array_equal(model.seconds(lats, lons, 31.2, 121.5), expected)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 500.0), min_size=2, max_size=30))
def test_seconds_monotonic_in_distance(distances):
    km = np.sort(np.array(distances))
    seconds = TravelModel().seconds_for_km(km)
    assert np.all(np.diff(seconds) >= 0)


def test_seconds_monotonic_along_meridian():
    lats = 31.0 + np.linspace(0.0, 0.5, 200)
    seconds = TravelModel().seconds(31.0, 121.5, lats, 121.5)
    assert seconds[0] == 0 and np.all(np.diff(seconds) >= 0) and seconds[-1] > seconds[0]


@settings(max_examples=100, deadline=None)
@given(st.floats(0.0, 1000.0), st.floats(1.0, 3.0), st.floats(1.0, 120.0))
def test_seconds_are_ceiling_of_exact_time(km, detour, speed):
    """Ceiling of the exact rational time, up to 2e-12 relative float slack."""
    seconds = TravelModel(detour_factor=detour, speed_kmh=speed).seconds_for_km(km)
    exact = Fraction(km) * 3600 / Fraction(speed)
    assert exact * (1 - Fraction(2, 10**12)) <= seconds < exact + 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"detour_factor": 0.99}, "detour_factor"),
        ({"detour_factor": math.nan}, "detour_factor"),
        ({"detour_factor": math.inf}, "detour_factor"),
        ({"detour_factor": "1.3"}, "detour_factor"),
        ({"speed_kmh": 0.0}, "speed_kmh"),
        ({"speed_kmh": -5.0}, "speed_kmh"),
        ({"speed_kmh": math.inf}, "speed_kmh"),
        ({"speed_kmh": True}, "speed_kmh"),
    ],
)
def test_validation_names_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        TravelModel(**kwargs)


def test_detour_factor_of_one_allowed_and_ints_normalised():
    model = TravelModel(detour_factor=1, speed_kmh=30)
    assert model == TravelModel(detour_factor=1.0, speed_kmh=30.0)
    assert type(model.speed_kmh) is float


def test_frozen():
    with pytest.raises(AttributeError):
        TravelModel().speed_kmh = 50.0


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_seconds_for_km_rejects_invalid_distances(bad):
    with pytest.raises(ValueError, match="road_km"):
        TravelModel().seconds_for_km(np.array([1.0, bad]))


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0.0, max_value=500.0))
def test_scalar_seconds_match_the_vectorised_ones(km):
    model = TravelModel(detour_factor=1.3, speed_kmh=25.0)
    assert model.seconds_for_km(float(km)) == int(model.seconds_for_km(np.array([km]))[0])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90),
                          st.floats(-180, 180)), max_size=30),
       st.floats(1.0, 2.0), st.floats(1.0, 120.0))
def test_legs_are_seconds_for_km_of_road_km_to_the_bit(points, detour, speed):
    """The compiled legs of a block are exactly what the numpy functions give, leg by leg."""
    model = TravelModel(detour, speed)
    lat1, lon1, lat2, lon2 = (np.array(column, dtype=np.float64).reshape(-1)
                              for column in (zip(*points) if points else ([],) * 4))
    seconds, km = model.legs(lat1, lon1, lat2, lon2)
    road = model.road_km(lat1, lon1, lat2, lon2)
    assert km.tolist() == np.asarray(road).tolist()
    assert seconds.dtype == np.int64
    assert seconds.tolist() == np.asarray(model.seconds_for_km(road)).tolist()


def test_legs_refuse_coordinates_that_give_no_distance():
    model = TravelModel(1.3, 25.0)
    with pytest.raises(ValueError, match="finite"):
        model.legs(np.array([31.0, np.nan]), np.array([121.0, 121.0]),
                   np.array([31.0, 31.1]), np.array([121.0, 121.0]))
