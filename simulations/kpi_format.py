"""How KPI values read in tables: units from the KPI's name, one place for every table.

The CSV files keep the raw numbers; only the Markdown and HTML tables use these strings.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

# Shown first, in this order, in every KPI table; other keys follow in their own order.
KPI_ORDER = (
    "orders_placed", "orders_served", "answer_rate",
    "assign_wait_p50_s", "assign_wait_p90_s", "assign_wait_p99_s",
    "late_share", "late_minutes_mean", "travel_km_per_job", "utilisation",
    "orders_per_worker_hour", "earnings_gini", "top_tier_share",
    "cancellations", "redispatches",
)
# Which run it was, not how it went: shown as the header of a table, not as a KPI row.
IDENTITY_KEYS = ("scenario", "policy", "seed", "scale")

KPI_LABELS = {
    "orders_placed": "orders placed",
    "orders_served": "orders served",
    "answer_rate": "answer rate (served / placed)",
    "assign_wait_p50_s": "time to assignment, p50",
    "assign_wait_p90_s": "time to assignment, p90",
    "assign_wait_p99_s": "time to assignment, p99",
    "late_share": "share of jobs started late",
    "late_minutes_mean": "lateness per served job, mean",
    "travel_km_per_job": "travel per job",
    "utilisation": "worker utilisation (busy / shift)",
    "orders_per_worker_hour": "orders per worker-hour",
    "earnings_gini": "earnings Gini (0 = equal)",
    "top_tier_share": "share done by top-credit workers",
    "cancellations": "customer cancellations",
    "redispatches": "re-dispatches",
}


def kpi_label(name: str) -> str:
    """The human name of a KPI key (the key itself when it has none)."""
    return KPI_LABELS.get(name, name)


def ordered_kpi_names(names: list[str] | tuple[str, ...]) -> list[str]:
    """KPI keys in table order: the known ones first, then the rest as given; no identity keys."""
    present = [name for name in KPI_ORDER if name in names]
    rest = [name for name in names if name not in KPI_ORDER and name not in IDENTITY_KEYS]
    return present + list(dict.fromkeys(rest))


def format_kpi(name: str, value: Any) -> str:
    """A KPI value as text with its unit, chosen by the key's suffix.

    ``*_rate``, ``*_share`` and ``utilisation`` as percentages, ``*_s`` as seconds (ms below 1 s), ``*_km*`` in
    km, ``*minutes*`` in min, counts as integers; None and NaN as an em dash.
    """
    if value is None or (isinstance(value, numbers.Real) and math.isnan(value)):
        return "—"
    # numbers.Real, not (int, float): a run function may hand back numpy scalars.
    if name in IDENTITY_KEYS or isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if name.endswith(("_rate", "_share")) or name == "utilisation":
        return f"{100 * value:.1f}%"
    if name.endswith("_s"):  # solver times are milliseconds, waits minutes: keep both legible
        return f"{value * 1000:.1f} ms" if 0 < abs(value) < 1 else f"{value:,.1f} s"
    if name == "speedup":
        return f"{value:,.0f}×"
    if "_km" in name:
        return f"{value:,.2f} km"
    if "minutes" in name:
        return f"{value:,.1f} min"
    if isinstance(value, numbers.Integral) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.3f}"
