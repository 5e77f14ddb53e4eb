"""Dispatch policies: how the simulator hands orders to the engine.

========== ====================================================================================
policy     what it does
========== ====================================================================================
greedy     the "first to grab the order" model: each order is placed the moment it arrives
           with the worker whose insertion adds the least travel (the engine's instant mode
           scoring travel alone, so every hard constraint still holds)
instant    the engine's instant mode with the configured score
batched    orders wait for the next batch round (``Dispatch``) every ``batch_window_s``
reoptimise batched, plus ``OptimizePlans`` over every plan every ``reoptimise_every_s``
========== ====================================================================================
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from matcher.config import DispatchConfig
from matcher.model import DispatchMode
from simulations.scenario import DispatchParams

# OptimizePlans stops after this many improving solutions, so a run is reproducible (the time
# limit only caps it on a slow machine).
REOPTIMISE_SOLUTIONS = 20


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    mode: DispatchMode
    rounds: bool       # batch rounds every batch_window_s
    reoptimise: bool   # OptimizePlans every reoptimise_every_s

    def config(self, base: DispatchConfig, params: DispatchParams) -> DispatchConfig:
        """The engine config this policy runs with."""
        config = dataclasses.replace(
            base, offers=dataclasses.replace(base.offers, timeout_s=params.offer_timeout_s))
        if self.name == "greedy":
            zero = {f.name: 0.0 for f in dataclasses.fields(config.weights)}
            weights = dataclasses.replace(config.weights, **(zero | {"travel": 1.0,
                                                                     "lateness": 1.0}))
            config = dataclasses.replace(config, weights=weights)
        if self.reoptimise:
            config = dataclasses.replace(config, optimizer=dataclasses.replace(
                config.optimizer, solution_limit=REOPTIMISE_SOLUTIONS))
        return config


POLICIES = {
    "greedy": Policy("greedy", DispatchMode.INSTANT, False, False),
    "instant": Policy("instant", DispatchMode.INSTANT, False, False),
    "batched": Policy("batched", DispatchMode.BATCHED, True, False),
    "reoptimise": Policy("reoptimise", DispatchMode.BATCHED, True, True),
}


def policy(name: str) -> Policy:
    if name not in POLICIES:
        raise ValueError(f"--policy: {name!r} is not one of {', '.join(POLICIES)}")
    return POLICIES[name]
