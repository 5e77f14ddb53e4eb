"""Request limits from the config (``[requests]``), checked on every request message before
anything else reads it: batch sizes, list lengths and string lengths.

The walk is generic over the message's fields, so a field added to the proto later is limited
too; what it reads of a message type is worked out once (:func:`_plan`). A refusal is
INVALID_ARGUMENT naming the field (``workers``, ``orders[3].tags``) with the limit and the
config key that sets it. The size of a whole message is limited by gRPC itself
(``server.max_message_bytes``: RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

import functools
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from matcher.config import RequestsConfig
from matcher.errors import InvalidArgument

# The batch field of a request and the config key that limits it.
BATCHES = {
    ("UpsertWorkersRequest", "workers"): "max_workers_per_upsert",
    ("SubmitOrdersRequest", "orders"): "max_orders_per_submit",
    ("DispatchRequest", "order_ids"): "max_order_ids_per_dispatch",
    ("OptimizePlansRequest", "worker_ids"): "max_worker_ids_per_optimize",
}
# Free text a client may send at length: only the message size limits it.
TEXT = frozenset({"config_toml"})
# Free text the service keeps (in an order's history and an event's detail) and the config key
# that limits its length; every other string is an id or a name (requests.max_id_length).
NOTES = {"reason": "max_reason_length"}


def check_request(message: Message, limits: RequestsConfig, size: int | None = None) -> None:
    """Raise :class:`InvalidArgument` for the first field of ``message`` over a limit.
    ``size``, when known, is the bytes the message came in: no more than the smallest limit
    breaks none (a string of n characters takes at least n bytes of its message, a list of n
    items at least n), so such a message is not walked (an instant order's request is)."""
    if size is not None and size <= _smallest(limits):
        return
    try:
        _check(message, limits)
    except _Over as over:
        raise InvalidArgument("".join(reversed(over.path)).lstrip("."), over.message) from None


# Every config key the walk checks (what _plan gives, and max_id_length for list items).
WALKED = frozenset({*BATCHES.values(), *NOTES.values(), "max_list_items", "max_id_length"})


@functools.lru_cache(maxsize=8)
def _smallest(limits: RequestsConfig) -> int:
    """The smallest limit the walk checks."""
    return min(getattr(limits, key) for key in WALKED)


class _Over(Exception):
    """A limit broken; ``path`` is filled in, innermost part first, as it unwinds (paths
    are built only for the field that breaks, so a request within the limits costs little)."""

    def __init__(self, part: str, message: str) -> None:
        self.path, self.message = [part], message


def _check(message: Message, limits: RequestsConfig) -> None:
    for name, kind, key in _plan(message.DESCRIPTOR):
        if kind == _MESSAGE:
            if message.HasField(name):
                try:
                    _check(getattr(message, name), limits)
                except _Over as over:
                    over.path.append("." + name)
                    raise
        elif kind == _STRING:
            _check_string(getattr(message, name), limits, key, "." + name)
        else:
            _check_list(getattr(message, name), name, kind, key, limits)


def _check_list(items: Any, name: str, kind: int, key: str, limits: RequestsConfig) -> None:
    limit = getattr(limits, key)
    if len(items) > limit:
        raise _Over("." + name, f"at most {limit} items per request (requests.{key}), "
                                f"got {len(items)}")
    if kind == _LIST:
        return
    for i, item in enumerate(items):
        try:
            if kind == _MESSAGES:
                _check(item, limits)
            else:
                _check_string(item, limits, "max_id_length", "")
        except _Over as over:
            over.path += [f"[{i}]", "." + name]
            raise


def _check_string(value: str, limits: RequestsConfig, key: str, part: str) -> None:
    limit = getattr(limits, key)
    if len(value) > limit:
        raise _Over(part, f"at most {limit} characters (requests.{key}), got {len(value)}")


# What a field's limits are: a message (its own fields), an id-like string, a list (its
# length), a list of messages or of id-like strings (its length, then each item).
_MESSAGE, _STRING, _LIST, _MESSAGES, _STRINGS = range(5)


@functools.cache
def _plan(descriptor: Descriptor) -> tuple[tuple[str, int, str | None], ...]:
    """The fields of a message type that some limit reads, in field-number order (the order
    a refusal names the first of), as (name, kind, config key of a list's length): the walk
    skips numbers and free text without looking at them."""
    plan = []
    _PLANNING.add(descriptor)  # a type that holds itself is walked (its plan is not known yet)
    for field in sorted(descriptor.fields, key=lambda f: f.number):
        message = field.type == FieldDescriptor.TYPE_MESSAGE
        string = field.type == FieldDescriptor.TYPE_STRING and field.name not in TEXT
        if message and field.message_type not in _PLANNING and not _plan(field.message_type):
            message = False  # (a timestamp, say: no limit reads inside it)
        if field.is_repeated:
            key = BATCHES.get((descriptor.name, field.name), "max_list_items")
            plan.append((field.name, _MESSAGES if message else _STRINGS if string else _LIST,
                         key))
        elif message or string:
            plan.append((field.name, _MESSAGE if message else _STRING,
                         None if message else NOTES.get(field.name, "max_id_length")))
    _PLANNING.discard(descriptor)
    return tuple(plan)


_PLANNING: set[Descriptor] = set()
