"""The canonical text of a request body is written directly (matcher.fingerprint); it must be,
character for character, ``json.dumps`` of the body's plain form with sorted keys: stored
digests are compared with new ones across versions."""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.fingerprint import canonical, fingerprint
from matcher.model import DispatchMode, LinkType, Order, OrderLink


def reference_plain(value: Any) -> Any:
    """The plain form, written out simply: dataclasses as dicts, sets sorted, enums by name."""
    if isinstance(value, enum.Enum):
        return value.name
    if dataclasses.is_dataclass(value):
        return {f.name: reference_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (set, frozenset)):
        return sorted(reference_plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [reference_plain(v) for v in value]
    return value


def reference_text(value: Any) -> str:
    return json.dumps(reference_plain(value), sort_keys=True)


@dataclasses.dataclass(frozen=True)
class Box:
    zeta: Any
    alpha: Any = None


@dataclasses.dataclass
class One:
    only: Any


class Colour(enum.Enum):
    RED = "r"
    BLUE = 2


texts = st.text()
json_scalars = texts | st.integers() | st.floats() | st.booleans() | st.none()
scalars = (texts | st.integers() | st.integers(min_value=-2**80, max_value=2**80)
           | st.floats(allow_nan=True, allow_infinity=True) | st.booleans() | st.none()
           | st.sampled_from(list(DispatchMode) + list(LinkType) + list(Colour)))
sets = (st.frozensets(texts, max_size=5) | st.sets(st.integers(), max_size=5)
        | st.frozensets(st.sampled_from(list(DispatchMode)), max_size=3))


def containers(children):
    return (st.lists(children, max_size=4) | st.tuples(children, children)
            | st.builds(Box, children, children) | st.builds(One, children)
            # (a dict is taken as it is, as json takes it: JSON values only)
            | st.dictionaries(texts, json_scalars, max_size=3))


bodies = st.recursive(scalars | sets, containers, max_leaves=20)

ids = st.text(min_size=1, max_size=20).map(str.strip).filter(bool)
orders = st.builds(
    Order, ids.map("o:".__add__), ids, st.sampled_from(["cleaning", "清洁"]), st.integers(0, 5),
    st.floats(-90, 90), st.floats(-180, 180), st.just(1796706000), st.just(1796715000),
    st.integers(1, 36000), priority=st.integers(0, 10),
    required_tags=st.frozensets(texts, max_size=3),
    preferred_worker_ids=st.frozensets(ids, max_size=3),
    blocked_worker_ids=st.frozensets(ids, max_size=3),
    mode=st.sampled_from(list(DispatchMode)),
    link=st.none() | st.builds(OrderLink, ids.map("l:".__add__), st.sampled_from(list(LinkType)),
                               st.integers(0, 3600), st.integers(3600, 7200)))


@settings(max_examples=400, deadline=None)
@given(bodies)
def test_canonical_text_is_the_json_of_the_plain_form(body):
    assert canonical(body) == reference_text(body)


@settings(max_examples=200, deadline=None)
@given(st.lists(orders, min_size=1, max_size=3))
def test_a_submit_body_digest_is_the_sha256_of_its_json(batch):
    body = ("submit", batch)
    assert fingerprint(body) == hashlib.sha256(reference_text(body).encode()).hexdigest()


def test_equal_bodies_match_and_different_ones_do_not():
    a = Order("o1", "c1", "cleaning", 1, 31.2, 121.4, 1796706000, 1796715000, 3600,
              preferred_worker_ids=frozenset({"w2", "w1"}))
    same = dataclasses.replace(a, preferred_worker_ids=frozenset({"w1", "w2"}))
    assert fingerprint(("submit", [a])) == fingerprint(("submit", [same]))
    for changed in (dataclasses.replace(a, lat=31.200000000000003),
                    dataclasses.replace(a, mode=DispatchMode.INSTANT),
                    dataclasses.replace(a, preferred_worker_ids=frozenset({"w1"}))):
        assert fingerprint(("submit", [a])) != fingerprint(("submit", [changed]))
