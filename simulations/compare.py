"""Run several policies on the same scenario and seed; one table of their KPIs and overlaid
plots (:func:`simulations.report.write_comparison`)."""

from __future__ import annotations

from pathlib import Path

from simulations.report import write_comparison, write_report
from simulations.runner import run
from simulations.scenario import Scenario


def compare(scenario: Scenario, policies: list[str], seed: int, scale: float, out: Path, *,
            quiet: bool = False, **options) -> list[dict]:
    """Each policy's run, with its report, in ``out/<policy>/``; in ``out`` the comparison:
    ``comparison.csv`` and ``comparison.md`` (rows are KPIs, one column per policy), the
    overlaid ``compare_*.png`` plots and ``compare.html``. Returns each run's KPIs."""
    rows = []
    for policy in policies:
        rows.append(run(scenario, policy, seed, scale, out / policy, quiet=quiet, **options))
        write_report(out / policy)
    write_comparison([out / p for p in policies], out)
    return rows
