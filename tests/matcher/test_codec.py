"""The Redis store's codec: what goes in comes back equal, the text of a value does not change
between versions (stored documents stay readable), and only registered types decode."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from matcher import codec
from matcher.credit import CreditEvent, CreditRecord
from matcher.model import (Assignment, Break, DispatchMode, Event, EventType, Job, Location,
                           OrderLink, LinkType, OrderRecord, OrderState, ScoreTerm, Shift,
                           Skill, Unassigned, UnassignedReason, WorkerStatus)
from tests.builders import at, make_order, make_worker

ids = st.text("abcxyz-0123456789", min_size=1, max_size=6)
floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


def assignment(order_id: str, worker_id: str, km: float) -> Assignment:
    return Assignment(order_id, worker_id, at(9), at(11), 600, km, 300, km / 2,
                      (ScoreTerm("travel", 1.0, -km), ScoreTerm("credit", 0.5, 0.8)), "cfg", 0)


@st.composite
def records(draw) -> OrderRecord:
    order = make_order("o" + draw(ids), customer_id=draw(ids), lat=draw(st.floats(-90, 90)),
                       lon=draw(st.floats(-180, 180)),
                       required_tags=frozenset(draw(st.lists(ids, max_size=3))),
                       blocked_worker_ids=frozenset(draw(st.lists(ids, max_size=3))),
                       mode=draw(st.sampled_from(DispatchMode)),
                       link=draw(st.none() | st.builds(OrderLink, ids.map("l".__add__),
                                                       st.sampled_from(LinkType),
                                                       st.integers(0, 3600),
                                                       st.integers(3600, 7200))))
    record = OrderRecord(order, draw(st.sampled_from(OrderState)), draw(st.integers(0, 2**40)),
                         history=draw(st.lists(st.text(max_size=20), max_size=3)))
    record.assignments = [assignment(order.order_id, w, draw(floats))
                          for w in draw(st.lists(ids, max_size=2, unique=True))]
    record.accepted = set(draw(st.lists(ids, max_size=2)))
    record.excluded = set(draw(st.lists(ids, max_size=2)))
    if draw(st.booleans()):
        record.unassigned = Unassigned(order.order_id, draw(st.sampled_from(UnassignedReason)),
                                       draw(st.text(max_size=20)))
    return record


@settings(max_examples=150, deadline=None)
@given(records())
def test_an_order_record_comes_back_equal(record):
    assert codec.decode(codec.encode(record)) == record


@settings(max_examples=100, deadline=None)
@given(st.lists(ids, max_size=3), st.floats(0, 100), st.sampled_from(WorkerStatus))
def test_a_worker_comes_back_equal(tags, credit, status):
    worker = make_worker("w1", tags=frozenset(tags), credit_score=credit, status=status,
                         shifts=(Shift(at(8), at(12)), Shift(at(13), at(18))),
                         breaks=(Break(at(11), at(14), 1800),),
                         skills=(Skill("cleaning", 3, at(24 * 30)), Skill("repair", 1, at(24 * 10))))
    assert codec.decode(codec.encode(worker)) == worker


@pytest.mark.parametrize("value", [
    Event(EventType.OFFERED, 5, "o1", "w1", "offered until ..."),
    Location(31.2, 121.4, 17),
    CreditRecord(80.0, [CreditEvent(3, "review", "o1", stars=5), CreditEvent(4, "no_show", "o2",
                                                                            points=7.5)], 9, 2),
    Job("o1", "c1", "cleaning", 31.2, 121.4, at(9), at(10)),
    (1, "a", (2.5, None)), {"a": frozenset({3, 1}), 2: {True}}, [], {},
])
def test_other_stored_values_come_back_equal(value):
    assert codec.decode(codec.encode(value)) == value


def test_the_text_of_a_value_is_the_one_earlier_versions_wrote():
    """Documents in Redis outlive the code that wrote them: the same text, tags and order."""
    value = (Job("o1", "c1", "cleaning", 31.5, 121.25, 10, 20), frozenset({"b", "a"}),
             {OrderState.PENDING: [1.5, None]})
    assert codec.encode(value) == (
        '{"~t":[{"~d":"Job","f":{"order_id":"o1","customer_id":"c1","service_type":"cleaning",'
        '"lat":31.5,"lon":121.25,"start":10,"end":20}},{"~f":["a","b"]},'
        '{"~m":[[{"~e":"OrderState","v":1},[1.5,null]]]}]}')


def test_an_unregistered_type_is_refused_both_ways():
    with pytest.raises(ValueError, match="unknown stored type 'Popen'"):
        codec.decode('{"~d":"Popen","f":{"args":"rm"}}')
    with pytest.raises(TypeError, match="cannot store a bytes"):
        codec.encode({"x": b"raw"})
