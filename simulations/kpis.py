"""The KPIs of a run, from its :class:`~simulations.simulator.Outcome`.

Only simulated facts go in (no wall-clock time), rounded to fixed decimals, so the same
scenario, seed and policy give the same ``kpis.json`` byte for byte.
"""

from __future__ import annotations

import numpy as np

from simulations.simulator import Outcome

DECIMALS = 6


def gini(values: np.ndarray) -> float:
    """The Gini coefficient of non-negative ``values`` (0: all equal; 0 for none or all zero)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    if len(x) == 0 or x.sum() == 0:
        return 0.0
    n = len(x)
    return float((2 * np.arange(1, n + 1) - n - 1) @ x / (n * x.sum()))


def compute_kpis(outcome: Outcome, meta: dict) -> dict:
    """The KPI dict: ``meta`` (scenario, policy, seed, scale) and the measures."""
    orders = outcome.orders
    served = [t for t in orders if t.status == "served"]
    assigned = [t for t in orders if t.assigned_s is not None]
    waits = np.array([t.assigned_s - t.sim.placed for t in assigned], dtype=np.float64)
    late = np.array([t.late_s for t in served], dtype=np.float64)
    fleet = [w for w in outcome.workers.values() if w.shift_s > 0]
    shift_h = sum(w.shift_s for w in fleet) / 3600
    jobs = sum(w.jobs for w in outcome.workers.values())
    pct = (lambda q: float(np.percentile(waits, q)) if len(waits) else 0.0)
    values = {
        "orders_placed": len(orders),
        "orders_served": len(served),
        "answer_rate": len(served) / len(orders) if orders else 0.0,
        "assign_wait_p50_s": pct(50), "assign_wait_p90_s": pct(90), "assign_wait_p99_s": pct(99),
        "assign_wait_mean_s": float(waits.mean()) if len(waits) else 0.0,
        "late_share": float((late > 0).mean()) if len(late) else 0.0,
        "late_minutes_mean": float(late.mean() / 60) if len(late) else 0.0,
        "travel_km_per_job": sum(w.travel_km for w in fleet) / jobs if jobs else 0.0,
        "utilisation": sum(w.busy_s for w in fleet) / (shift_h * 3600) if shift_h else 0.0,
        "orders_per_worker_hour": len(served) / shift_h if shift_h else 0.0,
        "earnings_gini": gini(np.array([w.earnings for w in fleet])),
        "top_tier_share": sum(w.top_tier_jobs for w in fleet) / jobs if jobs else 0.0,
        "cancellations": sum(t.status == "cancelled" for t in orders),
        "abandoned": outcome.abandoned,
        "expired": sum(t.status == "expired" for t in orders),
        "redispatches": outcome.redispatches,
        "no_shows": outcome.no_shows,
        "declines": outcome.declines,
        "offers": sum(t.offers for t in orders),
        "worker_jobs": jobs,
        "workers_on_shift": len(fleet),
        "rounds": len(outcome.rounds),
        "simulated_s": outcome.simulated_s,
    }
    rounded = {k: round(v, DECIMALS) if isinstance(v, float) else v for k, v in values.items()}
    return dict(sorted((meta | rounded).items()))
