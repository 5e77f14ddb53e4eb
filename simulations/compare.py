"""Run several policies on the same scenario and seed; one table of their KPIs."""

from __future__ import annotations

import csv
from pathlib import Path

from simulations.runner import run
from simulations.scenario import Scenario

# The KPIs in the comparison table, in this order (every KPI is in comparison.csv).
TABLE = ("answer_rate", "assign_wait_p50_s", "assign_wait_p90_s", "assign_wait_p99_s",
         "late_share", "late_minutes_mean", "travel_km_per_job", "utilisation",
         "orders_per_worker_hour", "earnings_gini", "top_tier_share", "cancellations",
         "redispatches", "orders_placed", "orders_served")


def compare(scenario: Scenario, policies: list[str], seed: int, scale: float, out: Path, *,
            quiet: bool = False, **options) -> list[dict]:
    """Each policy's run in ``out/<policy>/``; ``comparison.csv`` (one row per policy, every
    KPI) and ``comparison.md`` (the main KPIs) in ``out``."""
    rows = [run(scenario, p, seed, scale, out / p, quiet=quiet, **options) for p in policies]
    out.mkdir(parents=True, exist_ok=True)
    keys = sorted({k for row in rows for k in row})
    with open(out / "comparison.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, keys, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    (out / "comparison.md").write_text(markdown(rows), encoding="utf-8")
    return rows


def markdown(rows: list[dict]) -> str:
    """The main KPIs as a Markdown table, one column per policy."""
    lines = ["| kpi | " + " | ".join(r["policy"] for r in rows) + " |",
             "| --- |" + " ---: |" * len(rows)]
    for key in TABLE:
        lines.append(f"| {key} | " + " | ".join(_cell(r.get(key)) for r in rows) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return "" if value is None else str(value)
