"""A test-local writer of plausible run folders, in the layout ``python -m simulations run`` writes.

Test data for the report reader only: orders placed over a day with a morning and an evening peak
around a city centre, a policy-dependent wait, a worker table; KPIs computed from those rows so a
test can check the report shows what the files hold.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

BBOX = [31.10, 121.30, 31.35, 121.60]  # a piece of Shanghai
ORDER_HEADER = ("order_id,service_type,placed_s,earliest_start_s,latest_start_s,duration_s,lat,"
                "lng,status,worker_id,assigned_s,wait_s,start_s,end_s,late_s,travel_km,pay")
WORKER_HEADER = "worker_id,lat,lng,tier,credit,shift_s,busy_s,utilisation,jobs,earnings"
DAY_S = 86_400


def write_run_folder(folder: Path, *, policy: str = "batched", seed: int = 7,
                     orders: int = 400, workers: int = 60, mean_wait_s: float = 20.0,
                     served_share: float = 0.85, scenario: str = "weekday") -> dict:
    """Write a run folder and return the KPIs written to its kpis.json."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    # Two peaks (09:00, 19:00) over a flat base: a plausible daily profile.
    hours = rng.choice([9, 19, 14], size=orders, p=[0.4, 0.35, 0.25])
    placed = np.clip(hours * 3600 + rng.normal(0, 5400, orders), 0, DAY_S - 1)
    status = rng.choice(["served", "unserved", "cancelled"], size=orders,
                        p=[served_share, (1 - served_share) * 0.7, (1 - served_share) * 0.3])
    assigned = status == "served"
    wait = np.where(assigned, rng.exponential(mean_wait_s, orders), np.nan)
    lat = rng.normal(31.23, 0.04, orders).clip(BBOX[0], BBOX[2])
    lng = rng.normal(121.47, 0.05, orders).clip(BBOX[1], BBOX[3])
    _write_orders(folder / "orders.csv", placed, wait, status, lat, lng)
    util = rng.beta(1 + 6 * served_share, 3, workers)  # busier when more is served
    _write_workers(folder / "workers.csv", rng, util)
    served = int(assigned.sum())
    kpis = {
        "answer_rate": served / orders,
        "assign_wait_p50_s": float(np.nanpercentile(wait, 50)),
        "assign_wait_p90_s": float(np.nanpercentile(wait, 90)),
        "assign_wait_p99_s": float(np.nanpercentile(wait, 99)),
        "travel_km_per_job": 3.2, "utilisation": float(util.mean()),
        "orders_per_worker_hour": 0.8, "earnings_gini": 0.21, "top_tier_share": 0.4,
        "late_share": 0.05, "late_minutes_mean": 11.5,
        "cancellations": int((status == "cancelled").sum()), "redispatches": 3,
        "orders_placed": orders, "orders_served": served,
        "scenario": scenario, "policy": policy, "seed": seed, "scale": 0.1,
        "an_extra_kpi": 1.5,
    }
    _dump(folder / "kpis.json", kpis)
    with (folder / "kpis.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([("kpi", "value"), *kpis.items()])
    _dump(folder / "run.json", {"scenario": scenario, "policy": policy, "seed": seed,
                                "scale": 0.1, "start": "2026-02-09T00:00:00+08:00",
                                "bbox": BBOX})
    _dump(folder / "timing.json", {"wall_time_s": 12.5, "simulated_s": DAY_S,
                                   "speedup": DAY_S / 12.5, "solver_round_p50_s": 0.004,
                                   "solver_round_max_s": 0.05})
    (folder / "events.csv").write_text("time_s,kind,order_id,worker_id,detail\n")
    (folder / "rounds.csv").write_text("time_s,orders,assigned,solver_s\n")
    return kpis


def _write_orders(path: Path, placed, wait, status, lat, lng) -> None:
    lines = [ORDER_HEADER]
    for i in range(len(placed)):
        ok = status[i] == "served"
        assigned = f"{placed[i] + wait[i]:.1f}" if ok else ""
        start = placed[i] + 3600
        lines.append(",".join([
            f"o{i}", "cleaning", f"{placed[i]:.1f}", f"{start:.0f}", f"{start + 1800:.0f}", "7200",
            f"{lat[i]:.5f}", f"{lng[i]:.5f}", str(status[i]), f"w{i % 7}" if ok else "",
            assigned, f"{wait[i]:.1f}" if ok else "", f"{start:.0f}" if ok else "",
            f"{start + 7200:.0f}" if ok else "", "0" if ok else "", "2.5" if ok else "",
            "180" if ok else ""]))
    path.write_text("\n".join(lines) + "\n")


def _write_workers(path: Path, rng, util) -> None:
    lines = [WORKER_HEADER]
    for i, u in enumerate(util):
        lines.append(f"w{i},{rng.uniform(BBOX[0], BBOX[2]):.5f},"
                     f"{rng.uniform(BBOX[1], BBOX[3]):.5f},{i % 3},{70 + i % 30},28800,"
                     f"{28800 * u:.0f},{u:.4f},{i % 6},{(i % 6) * 180}")
    path.write_text("\n".join(lines) + "\n")


def _dump(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2))
