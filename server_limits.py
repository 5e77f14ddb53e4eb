"""Request limits from the config (``[requests]``), checked on every request message before
anything else reads it: batch sizes, list lengths and string lengths.

The walk is generic over the message's fields, so a field added to the proto later is limited
too. A refusal is INVALID_ARGUMENT naming the field (``workers``, ``orders[3].tags``) with the
limit and the config key that sets it. The size of a whole message is limited by gRPC itself
(``server.max_message_bytes``: RESOURCE_EXHAUSTED).
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import FieldDescriptor
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
# Free-text fields: only the message size limits them.
TEXT = frozenset({"reason", "config_toml"})


def check_request(message: Message, limits: RequestsConfig) -> None:
    """Raise :class:`InvalidArgument` for the first field of ``message`` over a limit."""
    try:
        _check(message, limits)
    except _Over as over:
        raise InvalidArgument("".join(reversed(over.path)).lstrip("."), over.message) from None


class _Over(Exception):
    """A limit broken; ``path`` is filled in, innermost part first, as it unwinds (paths
    are built only for the field that breaks, so a request within the limits costs little)."""

    def __init__(self, part: str, message: str) -> None:
        self.path, self.message = [part], message


def _check(message: Message, limits: RequestsConfig) -> None:
    kind = message.DESCRIPTOR.name
    for field, value in message.ListFields():
        if field.is_repeated:
            key = BATCHES.get((kind, field.name), "max_list_items")
            limit = getattr(limits, key)
            if len(value) > limit:
                raise _Over("." + field.name, f"at most {limit} items per request "
                                              f"(requests.{key}), got {len(value)}")
            for i, item in enumerate(value):
                try:
                    _check_value(field, item, limits)
                except _Over as over:
                    over.path += [f"[{i}]", "." + field.name]
                    raise
        else:
            try:
                _check_value(field, value, limits)
            except _Over as over:
                over.path.append("." + field.name)
                raise


def _check_value(field: FieldDescriptor, value: Any, limits: RequestsConfig) -> None:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        _check(value, limits)
    elif field.type == FieldDescriptor.TYPE_STRING and len(value) > limits.max_id_length \
            and field.name not in TEXT:
        raise _Over("", f"at most {limits.max_id_length} characters "
                        f"(requests.max_id_length), got {len(value)}")
