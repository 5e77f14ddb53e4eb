"""The simulated city: the synthetic Shanghai's workers (:mod:`simulations.synthetic_city`), with
their daily shifts repeated over the run, some certificates expiring during it and a share of the
fleet offline (a shortage), all from the scenario and the seed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from matcher.config import DispatchConfig
from matcher.model import Worker, WorkerStatus
from simulations.scenario import Scenario
from simulations.synthetic_city import DAY_S, LAT_RANGE, LON_RANGE, local_time, make_workers


@dataclass(frozen=True, slots=True)
class SimCity:
    """The workers of a run; ``start`` is the run's t = 0 (local midnight of the first day)."""

    start: int
    workers: list[Worker]
    bbox: tuple[float, float, float, float]   # min lat, min lng, max lat, max lng


def make_sim_city(scenario: Scenario, seed: int, span_days: int,
                  config: DispatchConfig) -> SimCity:
    """Workers with shifts on each of ``span_days`` days from the scenario's start."""
    rng = np.random.default_rng([seed, 100])
    start = local_time(scenario.day, 0)
    base = make_workers(rng, scenario.city.workers, scenario.day, config.service.service_types)
    offline = rng.random(len(base)) < scenario.city.offline_share
    workers = [_over_days(w, span_days, rng, scenario.city.expiring_share, start, bool(off))
               for w, off in zip(base, offline)]
    return SimCity(start, workers, (LAT_RANGE[0], LON_RANGE[0], LAT_RANGE[1], LON_RANGE[1]))


def _over_days(worker: Worker, days: int, rng: np.random.Generator, expiring: float,
               start: int, offline: bool) -> Worker:
    shifts = tuple(dataclasses.replace(s, start=s.start + d * DAY_S, end=s.end + d * DAY_S)
                   for d in range(days) for s in worker.shifts)
    skills = tuple(dataclasses.replace(k, certified_until=start + int(rng.integers(1, days * DAY_S)))
                   if rng.random() < expiring and k.certified_until > start else k
                   for k in worker.skills)
    status = WorkerStatus.OFFLINE if offline else worker.status
    return dataclasses.replace(worker, shifts=shifts, skills=skills, status=status)
