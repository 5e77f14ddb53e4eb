"""The credit model: a worker's score from its base score and its credit events, and its tier.

A worker comes with a **base** score ``B`` (0-100, the ``credit_score`` it was upserted with).
Feedback and the worker's own conduct add **events**, each with a time ``t``; at time ``now`` an
event weighs ``w = 0.5 ** ((now - t) / H)`` with ``H = credit.half_life_days`` (old events fade,
so a worker recovers). The score is

    m0     = 1 + 4 * B / 100                                  (the base as stars, 1..5)
    stars  = (C * m0 + sum(w_i * s_i)) / (C + sum(w_i))       (reviews i with s_i stars)
    rating = 100 * (stars - 1) / 4
    credit = clamp(rating - sum(w_j * p_j), 0, 100)           (penalties j of p_j points)

rounded to two decimals, with ``C = credit.prior_reviews``: the base counts as C reviews, so a
few reviews do not swing the score (a Bayesian average). Penalty points come from the config:
``complaint_minor`` / ``complaint_major`` / ``complaint_severe`` per complaint, ``no_show``,
``worker_cancellation`` and ``late_arrival``. With no events the credit is the base score.

The score maps to a **tier** (``[tiers.<name>]``): the tier with the highest ``min_score`` at
most the credit. A tier's ``score_bonus`` is added to the score's credit term; an ``excluded``
tier takes no order. Besides, ``limits.min_credit_score`` and ``[credit_floor.<service_type>]``
are floors below which a worker takes no order (of that type).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher.config import CreditConfig, DispatchConfig, TierConfig

DAY_S = 86400


@dataclass(frozen=True, slots=True)
class CreditEvent:
    """One thing that moves a worker's credit: a review (``stars`` 1-5) or a penalty
    (``points`` taken off), at ``time``, with what caused it."""

    time: int
    kind: str          # "review", "complaint_minor", ..., "no_show", "worker_cancellation"
    order_id: str
    stars: int = 0
    points: float = 0.0


def penalty_points(config: CreditConfig, kind: str) -> float:
    """The configured points of a penalty kind (a :class:`CreditConfig` field name)."""
    return float(getattr(config, kind))


def credit_score(base: float, events: Sequence[CreditEvent], now: int,
                 config: CreditConfig) -> float:
    """The credit at ``now`` by the formula in the module docstring."""
    half_life = config.half_life_days * DAY_S
    prior = config.prior_reviews
    weight_sum, star_sum, penalty = 0.0, 0.0, 0.0
    for event in events:
        w = 0.5 ** (max(0, now - event.time) / half_life)
        if event.stars:
            weight_sum += w
            star_sum += w * event.stars
        penalty += w * event.points
    stars = (prior * (1.0 + 4.0 * base / 100.0) + star_sum) / (prior + weight_sum)
    rating = 100.0 * (stars - 1.0) / 4.0
    return round(min(100.0, max(0.0, rating - penalty)), 2)


class Tiers:
    """The tiers of a config, lowest first; what a credit score means for dispatch."""

    def __init__(self, config: DispatchConfig) -> None:
        ordered = sorted(config.tiers, key=lambda item: item[1].min_score)
        self.names = [name for name, _ in ordered]
        self.tiers: list[TierConfig] = [tier for _, tier in ordered]
        self._thresholds = np.array([t.min_score for t in self.tiers], dtype=np.float64)
        self._bonus = np.array([t.score_bonus for t in self.tiers], dtype=np.float64)
        excluded_below = [t.min_score for t in self.tiers if not t.excluded]
        # a credit under the lowest tier that takes orders is an excluded tier
        self.floor = min(excluded_below) if excluded_below else math.inf
        if not self.tiers:
            self.floor = 0.0
        self._service_floor = {t: config.credit_floor_for(t)
                               for t in config.service.service_types}

    def tier_of(self, credit: float) -> str:
        """The tier's name ("" when the config has no tiers)."""
        if not self.tiers:
            return ""
        return self.names[int(np.searchsorted(self._thresholds, credit, side="right")) - 1]

    def bonus(self, credit: np.ndarray) -> np.ndarray:
        """Per credit score, its tier's ``score_bonus``."""
        if not self.tiers:
            return np.zeros(np.shape(credit))
        return self._bonus[np.searchsorted(self._thresholds, credit, side="right") - 1]

    def floor_for(self, service_type: str) -> float:
        """The least credit that takes an order of ``service_type``: the configured floors
        and the lowest tier that is not excluded."""
        return max(self._service_floor.get(service_type, 0.0), self.floor)

    def excluded(self, credit: float) -> bool:
        return credit < self.floor


@dataclass(slots=True)
class CreditRecord:
    """What the service keeps of a worker's credit: the base score and every event."""

    base: float
    events: list[CreditEvent]
    refreshed_at: int = 0   # when the score was last computed from the events
    version: int = 0        # writes the store has taken (a write carries the version read)

    def copy(self) -> "CreditRecord":
        return CreditRecord(self.base, list(self.events), self.refreshed_at, self.version)

    def sharing_events(self) -> "CreditRecord":
        """A copy whose event list is this record's own (to read, not to change)."""
        return CreditRecord(self.base, self.events, self.refreshed_at, self.version)
