"""The checker's rules across workers: team jobs and linked orders, each with a valid plan and a
hand-made wrong one."""

from __future__ import annotations

import pytest

from matcher.config import DispatchConfig
from matcher.model import Job, LinkType, OrderLink
from tests.builders import HOUR, at, make_order, make_worker
from tests.checker import check_plans

CONFIG = DispatchConfig()
WORKERS = {w: make_worker(w) for w in ("w1", "w2", "w3")}
TEAM = make_order("team", workers_needed=2)
FIRST = make_order("first", duration=HOUR)
FOLLOW = make_order("follow", duration=HOUR, earliest_start=at(8), latest_start=at(17),
                    link=OrderLink("first", LinkType.START_GAP, 2 * HOUR, 3 * HOUR))
AGAIN = make_order("again", duration=HOUR, earliest_start=at(8), latest_start=at(17),
                   link=OrderLink("first", LinkType.SAME_WORKER))
ORDERS = {o.order_id: o for o in (TEAM, FIRST, FOLLOW, AGAIN)}


def job(order_id: str, start: int) -> Job:
    o = ORDERS[order_id]
    return Job(o.order_id, o.customer_id, o.service_type, o.lat, o.lon, start, start + o.duration)


def problems(plans):
    return check_plans(CONFIG, WORKERS, plans, ORDERS)


def test_valid_team_and_links():
    assert problems({"w1": [job("team", at(9) + 600)], "w2": [job("team", at(9) + 600)],
                     "w3": [job("first", at(9) + 600), job("again", at(11)),
                            job("follow", at(12))]}) == []


@pytest.mark.parametrize(("plans", "problem"), [
    ({"w1": [job("team", at(9) + 600)]}, "team of 2"),
    ({"w1": [job("team", at(9) + 600)], "w2": [job("team", at(10))]}, "different times"),
    ({"w1": [job("first", at(9) + 600)], "w2": [job("first", at(9) + 600)]}, "planned for"),
    ({"w1": [job("follow", at(12))]}, "linked order first is not"),
    ({"w1": [job("first", at(9) + 600), job("follow", at(11))]}, "outside"),
    ({"w1": [job("first", at(9) + 600)], "w2": [job("again", at(12))]}, "not w1"),
])
def test_wrong_team_or_link_plans_are_caught(plans, problem):
    found = problems(plans)
    assert any(problem in p for p in found), found
