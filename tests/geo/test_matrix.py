import numpy as np
import pytest

from geo.matrix import PointMatrix

LATS, LONS = [45.1, 45.2, 45.3], [9.1, 9.2, 9.25]
SECONDS = [[0, 60, 120], [70, 0, 30], [110, 40, 0]]


def test_looks_up_points_in_any_shape():
    matrix = PointMatrix(LATS, LONS, SECONDS)
    seconds, km = matrix.leg(45.2, 9.2, np.array([45.1, 45.3]), np.array([9.1, 9.25]))
    assert seconds.tolist() == [70, 30] and km.tolist() == [0.0, 0.0]
    grid, _ = matrix.leg(np.array(LATS)[:, None], np.array(LONS)[:, None],
                         np.array(LATS)[None, :], np.array(LONS)[None, :])
    assert grid.tolist() == SECONDS


def test_an_unknown_point_is_an_error_not_a_guess():
    with pytest.raises(KeyError):
        PointMatrix(LATS, LONS, SECONDS).leg(45.1, 9.1, 45.15, 9.1)


def test_points_must_be_distinct_and_the_matrix_square():
    with pytest.raises(ValueError):
        PointMatrix([45.1, 45.1], [9.1, 9.1], [[0, 1], [1, 0]])
    with pytest.raises(ValueError):
        PointMatrix(LATS, LONS, [[0, 1], [1, 0]])


def test_the_padding_point_answers_zero_so_vectorised_callers_never_raise():
    seconds, km = PointMatrix(LATS, LONS, SECONDS).leg(0.0, 0.0, 45.1, 9.1)
    assert seconds == 0 and km == 0.0
