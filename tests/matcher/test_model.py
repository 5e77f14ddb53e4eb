"""Domain values refuse bad input with the field named."""

from __future__ import annotations

import math

import pytest

from matcher.errors import InvalidArgument
from matcher.model import Break, LinkType, OrderLink, Shift, Skill
from tests.builders import HOUR, at, make_order, make_worker


@pytest.mark.parametrize(("build", "field"), [
    (lambda: make_order(duration=-60), "duration"),
    (lambda: make_order(duration=0), "duration"),
    (lambda: make_order(duration=10**9), "duration"),
    (lambda: make_order(earliest_start=at(11), latest_start=at(9)), "latest_start_time"),
    (lambda: make_order(earliest_start=0), "earliest_start_time"),
    (lambda: make_order(latest_start=253402214400), "latest_start_time"),  # 9999-12-31
    (lambda: Shift(at(8), 253402214400), "end_time"),
    (lambda: make_order(lat=91.0), "location.latitude"),
    (lambda: make_order(lat=math.nan), "location.latitude"),
    (lambda: make_order(lon=-180.5), "location.longitude"),
    (lambda: make_order(priority=11), "priority"),
    (lambda: make_order(min_skill_level=6), "min_skill_level"),
    (lambda: make_order(order_id=""), "order_id"),
    (lambda: make_order(customer_id=" c1"), "customer_id"),
    (lambda: make_order(workers_needed=0), "workers_needed"),
    (lambda: make_order(workers_needed=11), "workers_needed"),
    (lambda: make_order(link=OrderLink("o1", LinkType.START_GAP)), "link.order_id"),
    (lambda: make_order(workers_needed=2, link=OrderLink("o0", LinkType.SAME_WORKER)),
     "link.type"),
    (lambda: OrderLink("o0", LinkType.START_GAP, 600, 300), "max_gap"),
    (lambda: make_worker(home_lat=-90.01), "home.latitude"),
    (lambda: make_worker(credit_score=100.5), "credit_score"),
    (lambda: make_worker(credit_score=math.inf), "credit_score"),
    (lambda: make_worker(max_jobs_per_day=-1), "max_jobs_per_day"),
    (lambda: make_worker(shifts=(Shift(at(8), at(12)), Shift(at(11), at(14)))), "shifts"),
    (lambda: make_worker(skills=(Skill("cleaning", 2, at(30)), Skill("cleaning", 3, at(30)))),
     "skills[1].service_type"),
    (lambda: Shift(at(12), at(8)), "end_time"),
    (lambda: Skill("cleaning", 0, at(30)), "level"),
    (lambda: Skill("cleaning", 2, 0), "certified_until_time"),
    (lambda: Break(at(11), at(14), 0), "duration"),
    (lambda: Break(at(11), at(14), -60), "duration"),
    (lambda: Break(at(11), at(11.5), HOUR), "window_end_time"),
    (lambda: Break(at(11), at(11) + 24 * HOUR + 1, HOUR), "window_end_time"),
    (lambda: Break(0, at(14), HOUR), "window_start_time"),
    (lambda: make_worker(breaks=(Break(at(11), at(14), HOUR), Break(at(13), at(15), 600))),
     "breaks[1].window_start_time"),
    (lambda: make_worker(breaks=(Break(at(15), at(16), 600), Break(at(11), at(14), HOUR))),
     "breaks[1].window_start_time"),
])
def test_bad_values_are_refused_naming_the_field(build, field):
    with pytest.raises(InvalidArgument) as caught:
        build()
    assert caught.value.field == field


def test_shifts_are_kept_in_time_order():
    worker = make_worker(shifts=(Shift(at(13), at(18)), Shift(at(8), at(12))))
    assert [s.start for s in worker.shifts] == [at(8), at(13)]


def test_break_windows_may_touch_and_span_a_whole_day():
    worker = make_worker(breaks=[Break(at(11), at(12), HOUR), Break(at(12), at(36), 600)])
    assert worker.breaks == (Break(at(11), at(12), HOUR), Break(at(12), at(36), 600))
