"""Scenario files: the shipped ones load; a bad key or value is an error naming its path."""

import pytest

from simulations.scenario import (SCENARIOS, ScenarioError, load_scenario, parse_scenario,
                                  with_values)

MINIMAL = '[demand.kinds.cleaning]\nservice_type = "cleaning"\n'


@pytest.mark.parametrize("name", ["weekday", "spring_festival", "monday_shortage"])
def test_shipped_scenarios_load(name):
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    assert scenario.name == name and scenario.demand.kinds


def test_spring_festival_triples_deep_cleaning():
    kinds = dict(load_scenario("spring_festival").demand.kinds)
    assert kinds["deep_cleaning"].peak == 3.0 and kinds["cleaning"].peak == 1.0


@pytest.mark.parametrize("text, message", [
    ("[city]\nworkerz = 3\n" + MINIMAL, "city.workerz: unknown key"),
    ("[city]\nworkers = -1\n" + MINIMAL, "city.workers: -1 is out of range"),
    ("[demand]\nhourly_profile = [1, 2]\n" + MINIMAL, "demand.hourly_profile: expected a list "
                                                      "of 24 numbers"),
    ("[behaviour]\ncancel_share = 1.5\n" + MINIMAL, "behaviour.cancel_share: 1.5 is out of"),
    ('[dispatch]\npolicy = "random"\n' + MINIMAL, "dispatch.policy: 'random' is not one of"),
    ('[demand.kinds.x]\nservice_type = "gardening"\n', "demand.kinds.x.service_type"),
    ("[demand.kinds.x]\nduration_hours = [5, 2]\n", "demand.kinds.x.duration_hours"),
    ("days = \"two\"\n" + MINIMAL, "days: expected an integer in [1, 60]"),
])
def test_bad_keys_name_their_path(text, message):
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert message in str(caught.value)


def test_scale_shrinks_city_and_demand():
    scenario = load_scenario("weekday")
    small = scenario.scaled(0.1)
    assert small.city.workers == round(scenario.city.workers * 0.1)
    assert small.demand.orders_per_day == pytest.approx(scenario.demand.orders_per_day * 0.1)
    assert small.scale == pytest.approx(0.1)


@pytest.mark.parametrize("name", ["weekday", "spring_festival", "monday_shortage"])
def test_with_no_changes_a_scenario_stays_the_same(name):
    scenario = load_scenario(name)
    assert with_values(scenario, {}) == scenario


def test_with_values_checks_the_changed_keys_as_a_file_would():
    scenario = load_scenario("weekday")
    changed = with_values(scenario, {"dispatch.batch_window_s": 120, "demand.peak_factor": 3})
    assert changed.dispatch.batch_window_s == 120 and changed.demand.peak_factor == 3.0
    assert changed.city == scenario.city
    with pytest.raises(ScenarioError, match=r"dispatch.batch_window_s: 0 is out of range "
                                            r"\[1, 86400\]"):
        with_values(scenario, {"dispatch.batch_window_s": 0})
    with pytest.raises(ScenarioError, match=r"city.workers: expected an integer"):
        with_values(scenario, {"city.workers": 12.5})
