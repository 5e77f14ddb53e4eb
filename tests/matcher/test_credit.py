"""The credit model: the documented formula, its decay, and the tiers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

from matcher.config import ConfigError, CreditConfig, DispatchConfig, parse_config
from matcher.credit import CreditEvent, Tiers, credit_score
from tests.checker import reference_credit

CREDIT = CreditConfig()
DAY = 86400
T0 = 1_800_000_000


def review(stars: int, time: int = T0) -> CreditEvent:
    return CreditEvent(time, "review", "o1", stars=stars)


def penalty(points: float, time: int = T0, kind: str = "complaint_major") -> CreditEvent:
    return CreditEvent(time, kind, "o1", points=points)


def test_without_events_the_credit_is_the_base_score():
    assert credit_score(83.5, [], T0, CREDIT) == 83.5


def test_one_review_moves_the_score_as_one_of_prior_plus_one_reviews():
    # base 80 is 4.2 stars; with the prior worth 5 reviews, one 5-star review gives
    # (5 * 4.2 + 5) / 6 = 4.333 stars = 83.33 points
    assert credit_score(80.0, [review(5)], T0, CREDIT) == 83.33
    # a single bad review does not sink a good worker: 1 star takes it to 66.67, not 0
    assert credit_score(80.0, [review(1)], T0, CREDIT) == 66.67


def test_penalties_halve_every_half_life_so_a_worker_recovers():
    events = [penalty(10.0)]
    assert credit_score(80.0, events, T0, CREDIT) == 70.0
    assert credit_score(80.0, events, T0 + 90 * DAY, CREDIT) == 75.0
    assert credit_score(80.0, events, T0 + 1800 * DAY, CREDIT) == 80.0


def test_old_reviews_weigh_less_than_new_ones():
    old_bad_new_good = [review(1, T0), review(5, T0 + 180 * DAY)]
    old_good_new_bad = [review(5, T0), review(1, T0 + 180 * DAY)]
    now = T0 + 180 * DAY
    assert credit_score(70.0, old_bad_new_good, now, CREDIT) > credit_score(
        70.0, old_good_new_bad, now, CREDIT)


@given(st.floats(0, 100), st.lists(st.tuples(st.integers(0, 5), st.floats(0, 100),
                                             st.integers(0, 400 * DAY)), max_size=30),
       st.integers(0, 800 * DAY))
def test_the_score_stays_in_range_and_follows_the_formula(base, raw, later):
    events = [CreditEvent(T0 + dt, "x", "o", stars=s, points=p) for s, p, dt in raw]
    now = T0 + later
    score = credit_score(base, events, now, CREDIT)
    assert 0.0 <= score <= 100.0
    # (two roundings of nearly equal floats may differ in the last place)
    assert score == pytest.approx(reference_credit(DispatchConfig(), base, events, now),
                                  abs=0.0101)


def test_tiers_map_scores_to_names_bonuses_and_the_floor():
    tiers = Tiers(DispatchConfig())
    assert [tiers.tier_of(s) for s in (0.0, 59.99, 60.0, 74.9, 75.0, 90.0, 100.0)] == [
        "suspended", "suspended", "probation", "probation", "normal", "excellent", "excellent"]
    assert tiers.bonus(np.array([50.0, 65.0, 80.0, 95.0])).tolist() == [0.0, -0.1, 0.0, 0.1]
    assert tiers.excluded(59.9) and not tiers.excluded(60.0)
    assert tiers.floor_for("cleaning") == 60.0


def test_a_service_floor_is_stricter_than_the_tiers():
    config = parse_config("[credit_floor.maternity]\nmin_credit_score = 80\n")
    tiers = Tiers(config)
    assert tiers.floor_for("maternity") == 80.0 and tiers.floor_for("cleaning") == 60.0


def test_excluded_tiers_at_the_bottom_are_all_below_the_floor():
    config = parse_config("[limits]\nmin_credit_score = 0\n[tiers.banned]\nmin_score = 0\n"
                          "excluded = true\n[tiers.suspended]\nmin_score = 40\nexcluded = true\n"
                          "[tiers.ok]\nmin_score = 60\n")
    tiers = Tiers(config)
    assert tiers.floor_for("cleaning") == 60.0
    assert tiers.excluded(59.9) and tiers.excluded(10.0) and not tiers.excluded(60.0)


def test_an_operator_can_do_without_an_excluded_tier():
    config = parse_config("[limits]\nmin_credit_score = 0\n[tiers.all]\nmin_score = 0\n")
    assert Tiers(config).floor_for("cleaning") == 0.0 and Tiers(config).tier_of(3.0) == "all"


@pytest.mark.parametrize("text, message", [
    ("[tiers.a]\nmin_score = 10\n", "tiers: the lowest tier must start at min_score = 0"),
    ("[tiers.a]\nmin_score = 0\n[tiers.b]\nmin_score = 0\n", "two tiers have the same"),
    # an excluded tier above one that takes orders: the floor (the lowest tier that takes
    # orders) would let its workers take orders
    ("[tiers.low]\nmin_score = 0\n[tiers.watch]\nmin_score = 70\nexcluded = true\n"
     "[tiers.top]\nmin_score = 90\n", "tiers.watch.excluded: an excluded tier must lie below"),
    ("[tiers.a]\nmin_score = 0\nbonus = 1\n", "tiers.a.bonus: unknown key"),
    ("[credit_floor.gardening]\nmin_credit_score = 50\n", "credit_floor.gardening: unknown"),
    ("[credit]\nhalf_life_days = 0\n", "credit.half_life_days: 0.0 is out of range"),
    ("[offers]\ntimeout_s = -1\n", "offers.timeout_s: -1 is out of range"),
])
def test_bad_credit_config_names_the_key(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert any(message in line for line in caught.value.errors), caught.value.errors


def test_no_event_weighs_more_than_a_fresh_one():
    # events dated after "now" (a clock behind the feedback's) count as fresh, never more
    assert credit_score(80.0, [penalty(10.0, T0 + DAY)], T0, CREDIT) == 70.0
    assert not math.isnan(credit_score(0.0, [review(5)] * 1000, T0, CREDIT))
