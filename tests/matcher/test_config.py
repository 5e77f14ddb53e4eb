"""Config loading: the default file, and every kind of bad config named by its key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.config import (HARD_WINDOW, ConfigError, DispatchConfig, LatenessConfig,
                            load_config, parse_config, to_toml)

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
    ("lateness = 3\n", "lateness: must be a table of tables"),
    ("[lateness]\ncleaning = 30\n", "lateness.cleaning: must be a table"),
    ("[lateness.gardening]\nmax_late_minutes = 30\n",
     "lateness.gardening: unknown service type 'gardening'"),
    ("[lateness.cleaning]\nmax_late = 30\n", "lateness.cleaning.max_late: unknown key"),
    ("[lateness.cleaning]\nmax_late_minutes = 1441\n",
     "lateness.cleaning.max_late_minutes: 1441 is out of range [0, 1440]"),
    ("[lateness.cleaning]\nmax_late_minutes = -1\n",
     "lateness.cleaning.max_late_minutes: -1 is out of range"),
    ("[lateness.cleaning]\nmax_late_minutes = 30.0\n",
     "lateness.cleaning.max_late_minutes: expected an integer"),
    ("[lateness.cleaning]\npenalty_per_minute = -0.5\n",
     "lateness.cleaning.penalty_per_minute: -0.5 is out of range"),
    ("[lateness.cleaning]\npenalty_per_minute = \"high\"\n",
     "lateness.cleaning.penalty_per_minute: expected a number"),
    ("[lateness.cleaning]\npenalty_per_minute = inf\n",
     "lateness.cleaning.penalty_per_minute: inf is out of range"),
    ("[weights]\nlateness = -1\n", "weights.lateness: -1.0 is out of range"),
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


LATE = """
[lateness.elder_care]
max_late_minutes = 10
[lateness.cleaning]
max_late_minutes = 30
penalty_per_minute = 0.2
"""


def test_lateness_tables_are_read_per_service_type():
    config = parse_config(LATE)
    assert config.lateness_for("cleaning") == LatenessConfig(30, 0.2)
    assert config.lateness_for("elder_care") == LatenessConfig(10, 0.05)  # default penalty
    assert config.lateness_for("repair") == HARD_WINDOW  # no table: a hard window
    assert DispatchConfig().lateness == () and DispatchConfig().weights.lateness == 1.0


def test_lateness_tables_round_trip_and_enter_the_hash():
    config = parse_config(LATE)
    assert parse_config(to_toml(config)) == config
    assert "[lateness.cleaning]" in to_toml(config)
    assert config.hash != DispatchConfig().hash
    assert config.hash != parse_config(LATE.replace("0.2", "0.3")).hash
    # the order of the tables in the file does not matter
    swapped = ("[lateness.cleaning]\npenalty_per_minute = 0.2\nmax_late_minutes = 30\n"
               "[lateness.elder_care]\nmax_late_minutes = 10\n")
    assert parse_config(swapped) == config and parse_config(swapped).hash == config.hash


def test_a_lateness_table_may_name_a_service_type_the_file_adds():
    config = parse_config('[service]\nservice_types = ["gardening"]\n'
                          '[lateness.gardening]\nmax_late_minutes = 5\n')
    assert config.lateness_for("gardening").max_late_minutes == 5


def test_the_commented_lateness_example_in_the_shipped_file_is_valid():
    lines = DEFAULT_FILE.read_text(encoding="utf-8").splitlines()
    start = lines.index("# [lateness.cleaning]")
    example = []
    for line in lines[start:]:
        if line.startswith("# # "):
            continue  # the example's own comments
        example.append(line.removeprefix("# "))
    config = parse_config("\n".join(example))
    assert config.lateness == (("cleaning", LatenessConfig(30, 0.05)),)


def test_a_service_type_that_is_no_bare_toml_key_round_trips():
    config = parse_config('[service]\nservice_types = ["deep clean", "保洁"]\n'
                          '[lateness."deep clean"]\nmax_late_minutes = 5\n'
                          '[lateness."保洁"]\nmax_late_minutes = 7\n')
    assert '[lateness."deep clean"]' in to_toml(config)
    assert parse_config(to_toml(config)) == config
