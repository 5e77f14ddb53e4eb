"""The digest a request id is remembered with: SHA-256 of the request body's canonical text.

The canonical text is ``json.dumps(plain(body), sort_keys=True)``, where ``plain`` turns
dataclasses into dicts of their fields, sets into sorted lists and enums into their names.
Digests are stored (in Redis, across restarts and versions), so that text must never change.

Every instant order is fingerprinted, so the text is written directly rather than by building
the plain value and encoding it: per type, once, an encoder (dataclasses: a template with the
field names in sorted order, filled with their values' encodings); scalars and enum members by
C-level calls. Types it does not know (dicts, say) take the plain value through ``json``.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import operator
from collections.abc import Callable
from json.encoder import INFINITY, encode_basestring_ascii
from typing import Any


def fingerprint(body: Any) -> str:
    """A stable digest of a request body (sets sorted, so equal bodies always match)."""
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def canonical(value: Any) -> str:
    """``json.dumps(plain(value), sort_keys=True)``: see the module docstring."""
    return _ENCODERS[type(value)](value)


def _float(value: float) -> str:
    """A float as ``json`` writes it (repr; NaN and infinities by their JSON names)."""
    if value != value:
        return "NaN"
    if value == INFINITY:
        return "Infinity"
    if value == -INFINITY:
        return "-Infinity"
    return float.__repr__(value)


class _Encoders(dict):
    """type -> its encoder, worked out on the first value of each type."""

    def __missing__(self, kind: type) -> Callable[[Any], str]:
        encoder = self[kind] = _encoder(kind)
        return encoder


_ENCODERS = _Encoders({str: encode_basestring_ascii, int: int.__repr__, float: _float,
                       bool: {True: "true", False: "false"}.__getitem__,
                       type(None): {None: "null"}.__getitem__})


def _encoder(kind: type) -> Callable[[Any], str]:
    if dataclasses.is_dataclass(kind):
        names = sorted(f.name for f in dataclasses.fields(kind))
        template = "{" + ", ".join(f"{encode_basestring_ascii(n)}: %s" for n in names) + "}"
        values = operator.attrgetter(*names)
        if len(names) == 1:
            return lambda value: template % _ENCODERS[type(v := values(value))](v)
        encoders = _ENCODERS
        return lambda value: template % tuple([encoders[type(v)](v) for v in values(value)])
    if issubclass(kind, (set, frozenset)):
        return lambda value: ("[" + ", ".join(map(canonical, sorted(map(plain, value)))) + "]"
                              if value else "[]")
    if issubclass(kind, (list, tuple)):
        return lambda value: "[" + ", ".join(map(canonical, value)) + "]"
    if issubclass(kind, enum.Enum):
        return {member: encode_basestring_ascii(member.name) for member in kind}.__getitem__
    return lambda value: _JSON.encode(plain(value))


_JSON = json.JSONEncoder(sort_keys=True)  # (one encoder, not one per call)

_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """``value`` as JSON-able data: dataclasses as dicts of their fields, sets sorted, enums
    by name (what the canonical text is the JSON of)."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if dataclasses.is_dataclass(kind):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(kind)}
    if issubclass(kind, (set, frozenset)):
        return sorted(map(plain, value))
    if issubclass(kind, (list, tuple)):
        return list(map(plain, value))
    if issubclass(kind, enum.Enum):
        return value.name
    return value
