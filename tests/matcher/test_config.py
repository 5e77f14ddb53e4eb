"""Config loading: the default file, and every kind of bad config named by its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.config import ConfigError, DispatchConfig, load_config, parse_config, to_toml

DEFAULT_FILE = Path(__file__).parents[2] / "config" / "dispatch.toml"


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    return caught.value.errors


def test_the_shipped_file_is_the_default_config():
    assert load_config(DEFAULT_FILE) == DispatchConfig()


def test_an_empty_file_takes_every_default():
    assert parse_config("") == DispatchConfig()


def test_values_are_read():
    config = parse_config("[weights]\ntravel = 2\n[limits]\nmin_credit_score = 70.5\n")
    assert config.weights.travel == 2.0 and config.limits.min_credit_score == 70.5


@pytest.mark.parametrize(("text", "expected"), [
    ("[weights]\nspeed = 1.0\n", "weights.speed: unknown key"),
    ("[nonsense]\n", "nonsense: unknown key"),
    ("[weights]\ntravel = -1.0\n", "weights.travel: -1.0 is out of range [0.0, 1000.0]"),
    ("[weights]\ntravel = \"fast\"\n", "weights.travel: expected a number"),
    ("[solver]\nmax_rounds = 1.5\n", "solver.max_rounds: expected an integer"),
    ("[solver]\nmax_rounds = true\n", "solver.max_rounds: expected an integer"),
    ("[limits]\nmin_credit_score = 101\n", "limits.min_credit_score: 101.0 is out of range"),
    ("[travel]\nspeed_kmh = nan\n", "travel.speed_kmh: nan is out of range"),
    ("weights = 3\n", "weights: must be a table"),
    ("[service]\ntimezone = \"Mars/Olympus\"\n", "service.timezone: unknown time zone"),
    ("[service]\nservice_types = []\n", "service.service_types: must be a non-empty list"),
    ("[server]\nlisten = \"nowhere\"\n", "server.listen: expected HOST:PORT"),
    ("[weights\n", "<toml>:"),
])
def test_bad_values_are_named_by_key_path(text, expected):
    assert any(e.startswith(expected) for e in errors_of(text)), errors_of(text)


def test_every_problem_is_reported_at_once():
    errors = errors_of("[weights]\ntravel = -1.0\ncredit = -2.0\nextra = 1\n")
    assert len(errors) == 3


def test_to_toml_round_trips_and_the_hash_follows_the_values():
    config = parse_config("[weights]\ntravel = 3.5\n")
    assert parse_config(to_toml(config)) == config
    assert config.hash == parse_config(to_toml(config)).hash
    assert config.hash != DispatchConfig().hash
