"""How workers and customers behave: offer answers, no-shows, cancellations, noise on durations
and travel, and feedback.

Every draw comes from a generator seeded by the run's seed, the purpose and the ids it concerns
(order, worker), not from one shared stream: two policies run on the same seed see the same
customer for the same order and the same worker's mood for the same offer (common random
numbers), so their KPIs differ by the policy, not by the luck of the draw order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from matcher.engine_lifecycle import Feedback
from simulations.scenario import BehaviourParams

# Purposes, one stream each.
ANSWER, NO_SHOW, TRAVEL, DURATION, CANCEL, FEEDBACK, PATIENCE = range(7)
REFERENCE_PAY = 50.0


@dataclass(frozen=True, slots=True)
class Answer:
    accept: bool
    delay_s: int


class Behaviour:
    """The scenario's behaviour parameters, drawn per order and worker from ``seed``."""

    def __init__(self, params: BehaviourParams, seed: int) -> None:
        self.p = params
        self.seed = seed

    def _rng(self, purpose: int, *ids: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, 300 + purpose, *ids])

    def answer(self, order: int, worker: int, attempt: int, km: float,
               pay_per_hour: float) -> Answer:
        """A worker's answer to an offer: less likely yes the farther the job, more likely the
        better it pays; after a delay in ``response_seconds``."""
        rng = self._rng(ANSWER, order, worker, attempt)
        base = min(max(self.p.accept_base, 1e-6), 1 - 1e-6)
        logit = math.log(base / (1 - base)) - self.p.accept_per_km * km + \
            self.p.accept_per_pay * (pay_per_hour - REFERENCE_PAY)
        accept = rng.random() < 1 / (1 + math.exp(-logit))
        return Answer(bool(accept), int(rng.uniform(*self.p.response_seconds)))

    def no_show(self, order: int, worker: int, credit: float) -> bool:
        """More likely at low credit: ``no_show_base + no_show_low_credit x (1 - credit/100)``."""
        p = self.p.no_show_base + self.p.no_show_low_credit * (1 - credit / 100)
        return bool(self._rng(NO_SHOW, order, worker).random() < p)

    def travel_delay(self, order: int, worker: int, travel_s: int) -> int:
        """Seconds the worker arrives after the planned start: the leg takes a lognormal
        multiple of its planned time (early arrivals wait, so never negative)."""
        factor = self._rng(TRAVEL, order, worker).lognormal(0.0, self.p.travel_noise)
        return max(0, int(round(travel_s * (factor - 1))))

    def duration(self, order: int, planned_s: int) -> int:
        factor = self._rng(DURATION, order).lognormal(0.0, self.p.duration_noise)
        return max(60, int(round(planned_s * factor)))

    def cancel_at(self, order: int, placed: int, earliest: int) -> int | None:
        """When the customer cancels (seconds since the start), or None: a ``cancel_share`` of
        orders, uniformly between placement and the window's opening."""
        rng = self._rng(CANCEL, order)
        if rng.random() >= self.p.cancel_share or earliest <= placed:
            return None
        return int(rng.integers(placed, earliest))

    def patience_s(self, order: int) -> int:
        """Seconds the customer waits for a worker before abandoning the order."""
        return int(self._rng(PATIENCE, order).uniform(*self.p.patience_minutes) * 60)

    def feedback(self, order: int, late_s: int) -> Feedback | None:
        """The customer's rating of a served order, or None (no feedback)."""
        rng = self._rng(FEEDBACK, order)
        if rng.random() >= self.p.feedback_share:
            return None
        stars = int(rng.choice([3, 4, 5], p=[0.05, 0.25, 0.70]))
        if late_s > 0:
            stars = max(1, stars - 1 - int(late_s > 1800))
        return Feedback(stars=stars, on_time=late_s <= 0)
