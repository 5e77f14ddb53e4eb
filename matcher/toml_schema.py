"""TOML text validated into frozen dataclasses: the one validator of the dispatch config
(:mod:`matcher.config`) and of simulation scenarios (:mod:`simulations.scenario`).

A dataclass is the schema: each field is a key, its default gives the type, :func:`key` adds the
allowed range (and a list's length), a dataclass default is a sub-table and :func:`table_of` a
table of tables (``[path.<name>]``, each validated as one dataclass). An unknown key, a wrong type
or an out-of-range value is an error that names the key path and what is allowed; all problems
of a text are reported at once (:class:`SchemaError`).

========================= =======================================================
default                   a valid value
========================= =======================================================
bool                      a TOML boolean
int                       a TOML integer (not a boolean)
float                     a TOML integer or float, finite (-0.0 reads as 0.0)
str                       a TOML string
tuple of numbers          a list of numbers (of ``length`` when it is set)
any other tuple           a list of strings
========================= =======================================================
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Callable
from dataclasses import field
from typing import Any, TypeVar

T = TypeVar("T")


class SchemaError(ValueError):
    """A text that cannot be used; ``errors`` has one line per problem, each naming its key."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def key(default: Any, lo: float | None = None, hi: float | None = None, length: int = 0) -> Any:
    """A key with its default, the range of its value (of each number of a list) and, for a
    list, its length (0 = any)."""
    return field(default=default, metadata={"range": (lo, hi), "length": length})


def table_of(cls: type, default: tuple = ()) -> Any:
    """``[path.<name>]`` tables, each a ``cls``, as (name, value) pairs sorted by name."""
    return field(default=default, metadata={"table_of": cls})


def parse(cls: type[T], text: str, error: type[SchemaError],
          check: Callable[[T, list[str]], None]) -> T:
    """Validate TOML ``text`` into ``cls``; ``check`` adds the problems across keys once every
    key is valid. Raise ``error`` listing every problem."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error([f"<toml>: {exc}"]) from exc
    errors: list[str] = []
    value = build(cls, table, "", errors)
    if not errors:
        check(value, errors)
    if errors:
        raise error(errors)
    return value


def build(cls: type[T], table: dict[str, Any], path: str, errors: list[str]) -> T:
    """``cls`` from a TOML table at ``path`` (``""`` or ending in a dot); a key with a problem
    keeps its default and the problem goes to ``errors``."""
    known = {f.name: f for f in dataclasses.fields(cls)}
    for name in sorted(set(table) - set(known)):
        errors.append(f"{path}{name}: unknown key (allowed: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for name, spec in known.items():
        if name not in table:
            continue
        key_path, value = f"{path}{name}", table[name]
        if "table_of" in spec.metadata:
            values[name] = _tables(spec.metadata["table_of"], value, key_path, errors)
        elif dataclasses.is_dataclass(spec.default):
            if isinstance(value, dict):
                values[name] = build(type(spec.default), value, key_path + ".", errors)
            else:
                errors.append(f"{key_path}: must be a table")
        else:
            value = _value(value, spec, key_path, errors)
            if value is not None:
                values[name] = value
    return cls(**values)


def _tables(cls: type, table: Any, path: str, errors: list[str]) -> tuple:
    """Each ``[path.<name>]`` validated as ``cls``, sorted by name (so the order of the tables
    in the file changes neither equality nor a hash)."""
    if not isinstance(table, dict):
        errors.append(f"{path}: must be a table of tables ([{path}.<name>])")
        return ()
    built = []
    for name in sorted(table):
        if isinstance(table[name], dict):
            built.append((name, build(cls, table[name], f"{path}.{name}.", errors)))
        else:
            errors.append(f"{path}.{name}: must be a table")
    return tuple(built)


def _value(value: Any, spec: dataclasses.Field, key_path: str, errors: list[str]) -> Any:
    """The value of one key, or None (with an error) when it has the wrong type or range."""
    default = spec.default
    lo, hi = spec.metadata.get("range", (None, None))
    length = spec.metadata.get("length", 0)
    if isinstance(default, tuple):
        return _list(value, default, key_path, errors, (lo, hi), length)
    if not _is_a(value, default):
        errors.append(f"{key_path}: expected {_type_name(default)}{_range(lo, hi)}, "
                      f"got {value!r}")
        return None
    value = _float(value) if isinstance(default, float) else value
    return value if _in_range(value, lo, hi, key_path, errors) else None


def _list(value: Any, default: tuple, key_path: str, errors: list[str],
          bounds: tuple, length: int) -> tuple | None:
    numbers = bool(default) and all(_number(v) for v in default)
    fits = _number if numbers else (lambda v: isinstance(v, str))
    if not isinstance(value, list) or not all(fits(v) for v in value) or \
            length and len(value) != length:
        kind = f"a list of {length or 'some'} numbers" if numbers else "a list of strings"
        errors.append(f"{key_path}: expected {kind}, got {value!r}")
        return None
    if not numbers:
        return tuple(value)
    if not all(_in_range(v, *bounds, key_path, errors) for v in value):
        return None
    return tuple(_float(v) for v in value)


def _float(value: int | float) -> float:
    """``value`` as a float, -0.0 as 0.0: the two are equal but print (and so hash)
    differently, and equal values must make equal hashes."""
    return float(value) + 0.0


def _is_a(value: Any, default: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    return isinstance(value, type(default))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _type_name(default: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}[
        type(default)]


def _range(lo: float | None, hi: float | None) -> str:
    return "" if lo is None and hi is None else f" in [{lo}, {hi}]"


def _in_range(value: Any, lo: float | None, hi: float | None, key_path: str,
              errors: list[str]) -> bool:
    """Whether a number is finite and within [lo, hi] (an error if not); other values pass."""
    if not _number(value):
        return True
    if isinstance(value, float) and not math.isfinite(value) or \
            lo is not None and value < lo or hi is not None and value > hi:
        errors.append(f"{key_path}: {value!r} is out of range [{lo}, {hi}]")
        return False
    return True


def key_paths(cls: type) -> list[str]:
    """Every key a text for ``cls`` may set, as its path (``weights.travel``); a table of tables
    contributes ``<name>`` in place of the table's name (``tiers.<name>.min_score``)."""
    paths = []
    for spec in dataclasses.fields(cls):
        if "table_of" in spec.metadata:
            paths += [f"{spec.name}.<name>.{k}" for k in key_paths(spec.metadata["table_of"])]
        elif dataclasses.is_dataclass(spec.default):
            paths += [f"{spec.name}.{k}" for k in key_paths(type(spec.default))]
        else:
            paths.append(spec.name)
    return paths
