"""The run folder: the files the report and the sweep read (README "Simulating demand peaks").

Deterministic files (``kpis.json``, ``kpis.csv``, ``orders.csv``, ``workers.csv``,
``events.csv``, ``run.json``) hold simulated facts only; wall-clock measures go to
``timing.json`` and ``rounds.csv``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from simulations.kpis import DECIMALS
from simulations.simulator import Outcome

ORDER_COLUMNS = ("order_id", "service_type", "placed_s", "earliest_start_s", "latest_start_s",
                 "duration_s", "lat", "lng", "status", "worker_id", "assigned_s", "wait_s",
                 "start_s", "end_s", "late_s", "travel_km", "pay")
# the three statuses of orders.csv: what the engine's states come to at the end of a run
STATUS = {"served": "served", "cancelled": "cancelled"}


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, sort_keys=True, indent=2) + "\n", encoding="utf-8")


def write_run(out: Path, outcome: Outcome, kpis: dict, run: dict) -> None:
    """Every file of the run folder ``out`` (created when missing)."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "kpis.json", kpis)
    _csv(out / "kpis.csv", ("kpi", "value"), sorted(kpis.items()))
    _csv(out / "orders.csv", ORDER_COLUMNS, (_order_row(t, run["start_unix"])
                                             for t in outcome.orders))
    _csv(out / "workers.csv", ("worker_id", "lat", "lng", "tier", "credit", "shift_s", "busy_s",
                               "utilisation", "jobs", "earnings"),
         (_worker_row(w, t, outcome) for w, t in sorted(outcome.workers.items())))
    _csv(out / "events.csv", ("time_s", "kind", "order_id", "worker_id", "detail"),
         outcome.log.rows)
    _csv(out / "rounds.csv", ("time_s", "orders", "assigned", "solver_s"),
         ((r.time_s, r.orders, r.assigned, f"{r.solver_s:.6f}") for r in outcome.rounds))
    write_json(out / "run.json", run)
    write_json(out / "timing.json", timing(outcome))


def timing(outcome: Outcome) -> dict:
    """Wall-clock measures of the run (not deterministic)."""
    solver = np.array([r.solver_s for r in outcome.rounds]) if outcome.rounds else np.zeros(1)
    return {"wall_s": round(outcome.wall_s, 3), "simulated_s": outcome.simulated_s,
            "speedup": round(outcome.simulated_s / max(outcome.wall_s, 1e-9), 1),
            "rounds": len(outcome.rounds),
            "solver_s_p50": round(float(np.median(solver)), 6),
            "solver_s_max": round(float(solver.max()), 6),
            "solver_s_total": round(float(solver.sum()), 3),
            "reoptimise_runs": len(outcome.reoptimise_s),
            "reoptimise_s_total": round(sum(outcome.reoptimise_s), 3)}


def _csv(path: Path, header, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _fmt(value) -> str:
    if value is None:
        return ""
    return f"{round(value, DECIMALS):g}" if isinstance(value, float) else str(value)


def _order_row(t, start: int) -> tuple:
    o = t.sim.order
    status = STATUS.get(t.status, "unserved")
    served = status == "served"
    wait = t.assigned_s - t.sim.placed if t.assigned_s is not None else None
    return (o.order_id, o.service_type, t.sim.placed, o.earliest_start - start,
            o.latest_start - start, o.duration, _fmt(o.lat), _fmt(o.lon), status,
            " ".join(t.workers) if t.assigned_s is not None else "",
            _fmt(t.assigned_s), _fmt(wait), _fmt(t.start_s if served else None),
            _fmt(t.end_s if served else None), _fmt(t.late_s if served else None),
            _fmt(t.travel_km if served else None), _fmt(t.pay if served else None))


def _worker_row(worker_id: str, t, outcome: Outcome) -> tuple:
    lat, lng = outcome.worker_homes[worker_id]
    util = t.busy_s / t.shift_s if t.shift_s else 0.0
    return (worker_id, _fmt(lat), _fmt(lng), outcome.tiers[worker_id],
            _fmt(outcome.credit[worker_id]), t.shift_s, t.busy_s, _fmt(util), t.jobs,
            _fmt(t.earnings))
