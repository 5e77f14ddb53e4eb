"""The demand generator follows its profile: per-hour counts are Poisson with the profile's
rates (a chi-square test over many seeds), and orders are well formed."""

import dataclasses

import numpy as np
from scipy import stats

from simulations.demand import hourly_rates, make_demand
from simulations.scenario import load_scenario
from simulations.synthetic_city import local_time

SCENARIO = load_scenario("monday_shortage").scaled(0.05)


def _hour_counts(seed: int) -> np.ndarray:
    start = local_time(SCENARIO.day, 0)
    placed = np.array([o.placed for o in make_demand(SCENARIO, seed, start)])
    return np.bincount(placed // 3600, minlength=24 * SCENARIO.days)


def test_counts_per_hour_follow_the_profile():
    seeds = range(40)
    counts = np.array([_hour_counts(s) for s in seeds])
    rates = hourly_rates(SCENARIO)
    # the mean count per hour over seeds against the rate: a chi-square of Poisson cells
    total = counts.sum(axis=0)
    expected = rates * len(seeds)
    keep = expected > 5
    chi2 = (((total - expected) ** 2) / expected)[keep].sum()
    assert chi2 < stats.chi2.ppf(0.999, keep.sum()), (chi2, keep.sum())
    # and the shape is the profile's: the morning peak hour beats the night by far
    assert total[8] > 10 * max(total[2], 1)


def test_per_hour_counts_are_poisson_not_fixed():
    counts = np.array([_hour_counts(s) for s in range(40)])[:, 8]
    rate = hourly_rates(SCENARIO)[8]
    # Poisson: variance about the mean (dispersion test), not a fixed count per hour
    dispersion = counts.var(ddof=1) * (len(counts) - 1) / rate
    assert stats.chi2.ppf(0.0005, 39) < dispersion < stats.chi2.ppf(0.9995, 39)


def test_a_peak_multiplies_its_kind_only():
    base = dataclasses.replace(SCENARIO, demand=dataclasses.replace(SCENARIO.demand,
                                                                    orders_per_day=20000))
    kinds = dict(base.demand.kinds)
    peaked = dataclasses.replace(base, demand=dataclasses.replace(base.demand, kinds=tuple(
        (n, dataclasses.replace(k, peak=3.0) if n == "deep_cleaning" else k)
        for n, k in base.demand.kinds)))
    start = local_time(base.day, 0)
    share = {}
    for name, scen in (("base", base), ("peak", peaked)):
        orders = make_demand(scen, 1, start)
        share[name] = sum(o.kind == "deep_cleaning" for o in orders), len(orders)
    ratio = share["peak"][0] / share["base"][0]
    assert 2.6 < ratio < 3.4, ratio
    others = (share["peak"][1] - share["peak"][0]) / (share["base"][1] - share["base"][0])
    assert 0.93 < others < 1.07
    assert kinds["deep_cleaning"].workers_needed == 2


def test_orders_are_placed_before_their_window_and_in_booking_hours():
    start = local_time(SCENARIO.day, 0)
    orders = make_demand(SCENARIO, 3, start)
    assert orders and [o.placed for o in orders] == sorted(o.placed for o in orders)
    for o in orders:
        assert start + o.placed < o.order.earliest_start <= o.order.latest_start
    assert len({o.order.order_id for o in orders}) == len(orders)


def test_same_seed_same_demand_other_seed_other_demand():
    start = local_time(SCENARIO.day, 0)
    assert make_demand(SCENARIO, 5, start) == make_demand(SCENARIO, 5, start)
    assert make_demand(SCENARIO, 5, start) != make_demand(SCENARIO, 6, start)
