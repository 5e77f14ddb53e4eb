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


@pytest.mark.parametrize("timezone", ["Asia/Shanghai", "Europe/Berlin", "America/New_York"])
def test_the_offset_table_gives_the_day_of_every_second_it_covers(timezone):
    """What the compiled insertion reads a candidate start's service day from: one UTC day's
    table, or several days' across a change of offset, from the bucket it says."""
    calendar = ServiceCalendar(timezone)
    rng = np.random.default_rng(5)
    start = 1_774_700_000  # Europe changes to summer time 2026-03-29 01:00 UTC
    for span in (600, 86_400, 5 * 86_400):
        first, last = start + 977, start + 977 + span
        first_bucket, offsets = calendar.offset_table(first, last)
        ts = np.concatenate(([first, last], rng.integers(first, last + 1, size=300)))
        table_days = (ts + offsets[ts // 900 - first_bucket]) // 86_400
        assert table_days.tolist() == [calendar.day(t) for t in ts.tolist()]
