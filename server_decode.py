"""Decoding request bytes into messages, with a precise error for bytes that do not parse.

gRPC's own decoding answers UNKNOWN for a message that does not parse; the server decodes
itself instead and refuses such bytes with INVALID_ARGUMENT naming the field that breaks
(``orders[2].location``), found by walking the wire format: the first top-level field whose
bytes do not parse on their own, then the same inside it.
"""

from __future__ import annotations

from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from matcher.errors import InvalidArgument

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def decode(cls: type[Message], data: bytes) -> Message:
    """``data`` as a ``cls`` message; :class:`InvalidArgument` naming the broken field when it
    does not parse."""
    try:
        return cls.FromString(data)
    except DecodeError:
        path, why = broken_field(cls, data)
        raise InvalidArgument(path or cls.DESCRIPTOR.name,
                              f"does not parse as {cls.DESCRIPTOR.full_name} ({why})") from None


def broken_field(cls: type[Message], data: bytes, prefix: str = "") -> tuple[str, str]:
    """The path of the first field of ``data`` that does not parse, and why ("" when the
    bytes break between fields)."""
    fields = cls.DESCRIPTOR.fields_by_number
    seen: dict[int, int] = {}
    position = 0
    while position < len(data):
        start = position
        try:
            tag, position = _varint(data, position)
            number, wire = tag >> 3, tag & 7
            position, payload = _skip(data, position, wire)
        except (IndexError, ValueError) as error:
            name = _name(fields, data, start, prefix)
            return name, f"malformed wire data: {error or 'truncated'}"
        field = fields.get(number)
        if field is None:
            continue  # an unknown field parses (and is ignored)
        index = seen.get(number, 0)
        seen[number] = index + 1
        path = prefix + field.name + (f"[{index}]" if field.is_repeated else "")
        try:
            cls.FromString(data[start:position])
        except DecodeError:
            if field.message_type is not None and wire == _LEN:
                inner, why = broken_field(GetMessageClass(field.message_type), payload,
                                          path + ".")
                return inner or path, why
            return path, "a value of the wrong kind or not UTF-8"
    return prefix.rstrip("."), "malformed wire data"


def _name(fields, data: bytes, start: int, prefix: str) -> str:
    """The field a broken record starts with, when its tag can be read."""
    try:
        tag, _ = _varint(data, start)
    except (IndexError, ValueError):
        return prefix.rstrip(".")
    field = fields.get(tag >> 3)
    return prefix + field.name if field is not None else prefix.rstrip(".")


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _skip(data: bytes, position: int, wire: int) -> tuple[int, bytes]:
    """The position after a value of wire type ``wire``, and the value's bytes."""
    if wire == _VARINT:
        end = _varint(data, position)[1]
    elif wire == _I64:
        end = position + 8
    elif wire == _I32:
        end = position + 4
    elif wire == _LEN:
        length, position = _varint(data, position)
        end = position + length
    else:
        raise ValueError(f"wire type {wire}")
    if end > len(data):
        raise ValueError("truncated")
    return end, data[position:end]
