"""Domain values as JSON text and back, for stores outside this process (Redis).

Dataclasses, enums, tuples, sets and frozensets carry a tag, so that what comes back is equal to
what went in (``decode(encode(x)) == x``); only the types registered here decode, so a stored
document can never name arbitrary code. Floats round-trip exactly (JSON keeps ``repr``).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Callable
from typing import Any

from matcher import credit, model

# Every type a store writes; a name outside this table is refused on decode.
_TYPES: dict[str, type] = {
    cls.__name__: cls for cls in (
        model.Skill, model.Shift, model.Break, model.Worker, model.OrderLink, model.Order,
        model.Job, model.ScoreTerm, model.Assignment, model.Unassigned, model.OrderRecord,
        model.Event, model.Location, credit.CreditEvent, credit.CreditRecord,
        model.WorkerStatus, model.DispatchMode, model.OrderState, model.LinkType,
        model.UnassignedReason, model.EventType, model.FeedbackSource, model.Complaint)}


def register(*classes: type) -> None:
    """Let more dataclasses or enums (response values kept for idempotency) decode."""
    _TYPES.update((cls.__name__, cls) for cls in classes)


def encode(value: Any) -> str:
    return json.dumps(_plain(value), separators=(",", ":"), ensure_ascii=False)


def decode(text: str | bytes) -> Any:
    return _value(json.loads(text))


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """``value`` as JSON-able data with its tags (every commit encodes its records: plain
    scalars go first, and what to do with any other type is worked out once per type)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    plain = _PLAINERS.get(kind)
    if plain is None:
        plain = _PLAINERS[kind] = _plainer(kind)
    return plain(value)


def _plainer(kind: type) -> Callable[[Any], Any]:
    name = kind.__name__
    if issubclass(kind, enum.Enum):
        return lambda value: {"~e": name, "v": value.value}
    if dataclasses.is_dataclass(kind):
        names = tuple(f.name for f in dataclasses.fields(kind))
        # (most fields are scalars: taken as they are, without a call)
        return lambda value: {"~d": name, "f": {
            n: field if type(field) in _SCALARS else _plain(field)
            for n in names for field in (getattr(value, n),)}}
    if issubclass(kind, tuple):
        return lambda value: {"~t": [_plain(v) for v in value]}
    if issubclass(kind, frozenset):
        return lambda value: {"~f": sorted((_plain(v) for v in value), key=_order)}
    if issubclass(kind, set):
        return lambda value: {"~s": sorted((_plain(v) for v in value), key=_order)}
    if issubclass(kind, list):
        return lambda value: [_plain(v) for v in value]
    if issubclass(kind, dict):
        return lambda value: {"~m": [[_plain(k), _plain(v)] for k, v in value.items()]}
    if issubclass(kind, (bool, int, float, str)):
        return lambda value: value
    raise TypeError(f"cannot store a {name}")


_PLAINERS: dict[type, Callable[[Any], Any]] = {}  # type -> what _plain does with it


def _order(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def _value(item: Any) -> Any:
    kind = type(item)
    if kind is list:
        return [_value(v) for v in item]
    if kind is not dict:
        return item
    if "~d" in item:  # (the most common: every record, worker, job and term is one)
        return _known(item["~d"])(**{k: v if type(v) in _SCALARS else _value(v)
                                     for k, v in item["f"].items()})
    if "~e" in item:
        return _known(item["~e"])(item["v"])
    if "~t" in item:
        return tuple(_value(v) for v in item["~t"])
    if "~f" in item:
        return frozenset(_value(v) for v in item["~f"])
    if "~s" in item:
        return {_value(v) for v in item["~s"]}
    if "~m" in item:
        return {_value(k): _value(v) for k, v in item["~m"]}
    raise ValueError(f"not a stored value: {sorted(item)}")


def _known(name: str) -> type:
    cls = _TYPES.get(name)
    if cls is None:
        raise ValueError(f"unknown stored type {name!r}")
    return cls
