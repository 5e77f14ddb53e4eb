"""The load a ``--target`` run put on the server: every gRPC call's latency, the request rate,
and how far the run fell behind its pace (the ``load`` section of ``timing.json``)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

PERCENTILES = (50, 90, 99)


@dataclass(slots=True)
class LoadStats:
    """Latencies per RPC method (seconds) and the pacing lag of each paced call."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    lag_s: list[float] = field(default_factory=list)
    late_events: int = 0
    started: float = field(default_factory=time.perf_counter)

    def record(self, method: str, seconds: float, outcome: str = "ok") -> None:
        """One call of ``method`` that took ``seconds``; ``outcome`` is "ok", "refused" (the
        server said FAILED_PRECONDITION or NOT_FOUND: the simulation's state was overtaken,
        as happens in-process too) or "error" (anything else)."""
        self.latencies[method].append(seconds)
        if outcome != "ok":
            self.outcomes[method, outcome] += 1

    def summary(self, speed: float) -> dict:
        """Request rate over the run's wall time, latency percentiles in ms (all calls and
        per method), refused and failed calls, and how far calls fell behind their pace."""
        wall = time.perf_counter() - self.started
        every = [x for values in self.latencies.values() for x in values]
        lag = np.array(self.lag_s or [0.0])
        return {"speed": speed, "wall_s": round(wall, 3), "calls": len(every),
                "calls_per_s": round(len(every) / max(wall, 1e-9), 1),
                "latency_ms": _percentiles(every), "refused": self._count("refused"),
                "errors": self._count("error"),
                "behind_pace_s_p99": round(float(np.percentile(lag, 99)), 3),
                "behind_pace_s_max": round(float(lag.max()), 3),
                "late_events": self.late_events,
                "methods": {m: {"calls": len(v), "refused": self.outcomes.get((m, "refused"), 0),
                                "errors": self.outcomes.get((m, "error"), 0),
                                "latency_ms": _percentiles(v)}
                            for m, v in sorted(self.latencies.items())}}

    def _count(self, outcome: str) -> int:
        return sum(n for (_, o), n in self.outcomes.items() if o == outcome)


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ms = np.array(values) * 1000
    out = {f"p{p}": round(float(np.percentile(ms, p)), 3) for p in PERCENTILES}
    return out | {"max": round(float(ms.max()), 3)}
