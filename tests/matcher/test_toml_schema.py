"""The TOML validator shared by the config and the scenarios: each kind of key, on a schema of its
own (the config's and the scenarios' own tests cover their files)."""

from dataclasses import dataclass

import pytest

from matcher.toml_schema import SchemaError, key, key_paths, parse, table_of


@dataclass(frozen=True, slots=True)
class Part:
    size: int = key(1, 1, 9)


@dataclass(frozen=True, slots=True)
class Schema:
    on: bool = False
    rate: float = key(0.5, 0.0, 1.0)
    span: tuple[float, ...] = key((1.0, 2.0), 0.0, 10.0, length=2)
    names: tuple[str, ...] = ("a",)
    part: Part = Part()
    parts: tuple[tuple[str, Part], ...] = table_of(Part)


class Refused(SchemaError):
    pass


def _check_span(value, errors):
    if value.span[0] > value.span[1]:
        errors.append("span: the first must not exceed the second")


def errors_of(text: str) -> list[str]:
    with pytest.raises(Refused) as caught:
        parse(Schema, text, Refused, _check_span)
    return caught.value.errors


def test_valid_text_becomes_the_dataclass():
    value = parse(Schema, 'on = true\nrate = 1\nspan = [0, 3.5]\nnames = ["x", "y"]\n'
                  "[part]\nsize = 2\n[parts.b]\n[parts.a]\nsize = 9\n", Refused, _check_span)
    assert value == Schema(True, 1.0, (0.0, 3.5), ("x", "y"), Part(2),
                           (("a", Part(9)), ("b", Part(1))))
    assert isinstance(value.rate, float)


@pytest.mark.parametrize(("text", "expected"), [
    ("colour = 1\n", "colour: unknown key (allowed: names, on, part, parts, rate, span)"),
    ("on = 1\n", "on: expected a boolean, got 1"),
    ("rate = true\n", "rate: expected a number in [0.0, 1.0], got True"),
    ("rate = 1.5\n", "rate: 1.5 is out of range [0.0, 1.0]"),
    ("rate = nan\n", "rate: nan is out of range [0.0, 1.0]"),
    ("span = [1]\n", "span: expected a list of 2 numbers, got [1]"),
    ("span = [1, 11]\n", "span: 11 is out of range [0.0, 10.0]"),
    ("names = [1]\n", "names: expected a list of strings, got [1]"),
    ("part = 3\n", "part: must be a table"),
    ("[part]\nsize = 0\n", "part.size: 0 is out of range [1, 9]"),
    ("parts = 3\n", "parts: must be a table of tables ([parts.<name>])"),
    ("[parts]\nx = 3\n", "parts.x: must be a table"),
    ("[parts.x]\nsize = 1.5\n", "parts.x.size: expected an integer in [1, 9], got 1.5"),
    ("rate =\n", "<toml>: "),
])
def test_each_problem_names_its_key_path(text, expected):
    assert any(e.startswith(expected) for e in errors_of(text)), errors_of(text)


def test_every_problem_at_once_and_the_check_only_on_valid_keys():
    assert len(errors_of("on = 1\nrate = 2\n")) == 2
    assert errors_of("span = [3, 2]\n") == ["span: the first must not exceed the second"]
    assert errors_of("span = [3, 2]\nrate = 2\n") == ["rate: 2.0 is out of range [0.0, 1.0]"]


def test_key_paths_name_every_key():
    assert key_paths(Schema) == ["on", "rate", "span", "names", "part.size",
                                 "parts.<name>.size"]
