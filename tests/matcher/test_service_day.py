"""ServiceCalendar.days over an array is ServiceCalendar.day of each element, whether the
array spans one UTC day or several (with padding at 0, across a change of offset)."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.service_day import ServiceCalendar


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
def test_days_of_an_array_are_the_day_of_each_element(timezone):
    calendar = ServiceCalendar(timezone)
    rng = np.random.default_rng(7)
    start = 1_774_500_000  # a few days before Europe's change to summer time (2026-03-29)
    for span in (3_600, 40 * 86_400):
        ts = rng.integers(start, start + span, size=(40, 6))
        ts[:, -1] = 0  # padding, as insertion pads job columns
        expected = np.array([[calendar.day(t) for t in row] for row in ts.tolist()])
        assert np.array_equal(calendar.days(ts), expected)
    assert calendar.days(np.zeros((0, 3), dtype=np.int64)).shape == (0, 3)
