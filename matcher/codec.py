"""Domain values as JSON text and back, for stores outside this process (Redis).

Dataclasses, enums, tuples, sets and frozensets carry a tag, so that what comes back is equal to
what went in (``decode(encode(x)) == x``); only the types registered here decode, so a stored
document can never name arbitrary code. Floats round-trip exactly (JSON keeps ``repr``).
"""

from __future__ import annotations

import dataclasses
import enum
import json
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


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return {"~e": type(value).__name__, "v": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"~d": type(value).__name__,
                "f": {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, tuple):
        return {"~t": [_plain(v) for v in value]}
    if isinstance(value, frozenset):
        return {"~f": sorted((_plain(v) for v in value), key=_order)}
    if isinstance(value, set):
        return {"~s": sorted((_plain(v) for v in value), key=_order)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {"~m": [[_plain(k), _plain(v)] for k, v in value.items()]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot store a {type(value).__name__}")


def _order(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def _value(item: Any) -> Any:
    if isinstance(item, list):
        return [_value(v) for v in item]
    if not isinstance(item, dict):
        return item
    if "~e" in item:
        return _known(item["~e"])(item["v"])
    if "~d" in item:
        return _known(item["~d"])(**{k: _value(v) for k, v in item["f"].items()})
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
