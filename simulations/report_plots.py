"""The report's PNG plots, one function per plot, each for one run or overlaid for several.

Figures are built with ``matplotlib.figure.Figure`` and saved through the Agg canvas, not
pyplot: no global state and no display needed, so plots can be drawn from any process.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before anything imports pyplot; the report never opens a window

import matplotlib.dates as mdates
import numpy as np
from matplotlib.figure import Figure

from simulations.run_reader import RunData

HOUR_S = 3600.0
STATUS_COLOURS = {"served": "#2a9d8f", "unserved": "#d62828", "cancelled": "#f4a261"}
DPI = 110


def save(fig: Figure, path: Path) -> Path:
    """Write the figure as PNG and return its path."""
    fig.savefig(path, dpi=DPI, format="png")
    return path


def hourly_counts(times_s: np.ndarray, edges_s: np.ndarray) -> np.ndarray:
    """How many of the times (NaN ignored) fall in each hour bin."""
    counts, _ = np.histogram(times_s[np.isfinite(times_s)], bins=edges_s)
    return counts


def hour_edges(runs: Sequence[RunData]) -> np.ndarray:
    """Hour bin edges (s) that cover every placement and assignment of the runs."""
    times = np.concatenate([np.concatenate([r.orders.placed_s, r.orders.assigned_s])
                            for r in runs])
    times = times[np.isfinite(times)]
    simulated = max(float(r.timing.get("simulated_s") or 0.0) for r in runs)
    low = math.floor(min(0.0, times.min() if times.size else 0.0) / HOUR_S)
    high = math.ceil(max(simulated, times.max() if times.size else 0.0, 1.0) / HOUR_S)
    return np.arange(low, max(high, low + 1) + 1) * HOUR_S


def start_time(run: RunData) -> datetime | None:
    """The simulation's start from run.json (local time of the city, tz dropped), if readable."""
    try:
        return datetime.fromisoformat(str(run.run.get("start"))).replace(tzinfo=None)
    except ValueError:
        return None


def clock(run: RunData, seconds: np.ndarray) -> np.ndarray:
    """Simulated seconds as matplotlib date numbers from the run's start, else as hours."""
    origin = start_time(run)
    if origin is None:
        return seconds / HOUR_S
    return mdates.date2num([origin + timedelta(seconds=float(s)) for s in seconds])


def _time_axis(ax, run: RunData) -> None:
    if start_time(run) is not None:
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_xlabel("simulated time")
    else:
        ax.set_xlabel("hours since the simulation's start")


def plot_demand(run: RunData, path: Path) -> Path:
    """Orders placed and orders assigned per hour over the simulated time."""
    edges = hour_edges([run])
    fig = Figure(figsize=(9, 4), layout="constrained")
    ax = fig.add_subplot()
    x = clock(run, edges)
    placed = hourly_counts(run.orders.placed_s, edges)
    assigned = hourly_counts(run.orders.assigned_s, edges)
    ax.stairs(placed, x, fill=True, color="#bcccdc", label=f"placed ({placed.sum():,})")
    ax.stairs(assigned, x, color="#1d3557", linewidth=1.6,
              label=f"assigned ({assigned.sum():,})")
    _time_axis(ax, run)
    ax.set_ylabel("orders per hour")
    ax.set_title(f"Demand and assignments per hour — {run_title(run)}")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    return save(fig, path)


def compare_demand(runs: Sequence[RunData], labels: Sequence[str], path: Path) -> Path:
    """Assignments per hour of every run overlaid, on the demand (once if all runs share it)."""
    edges = hour_edges(runs)
    fig = Figure(figsize=(9, 4.5), layout="constrained")
    ax = fig.add_subplot()
    x = clock(runs[0], edges)
    placed = [hourly_counts(r.orders.placed_s, edges) for r in runs]
    if all(np.array_equal(placed[0], p) for p in placed):
        ax.stairs(placed[0], x, fill=True, color="#dde3ea", label="placed (all runs)")
    else:
        for p, label, colour in zip(placed, labels, _colours(len(runs))):
            ax.stairs(p, x, color=colour, linestyle=":", label=f"placed — {label}")
    for run, label, colour in zip(runs, labels, _colours(len(runs))):
        ax.stairs(hourly_counts(run.orders.assigned_s, edges), x, color=colour,
                  linewidth=1.6, label=f"assigned — {label}")
    _time_axis(ax, runs[0])
    ax.set_ylabel("orders per hour")
    ax.set_title("Orders assigned per hour, by run")
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    return save(fig, path)


def wait_curve(run: RunData) -> tuple[np.ndarray, np.ndarray]:
    """Sorted waits (s) of the assigned orders and the share of *placed* orders within each.

    The curve levels off at the share ever assigned, so a policy that leaves orders unassigned
    does not look fast only because it answers the easy ones.
    """
    waits = np.sort(run.orders.wait_s[np.isfinite(run.orders.wait_s)])
    placed = max(len(run.orders.placed_s), 1)
    return waits, np.arange(1, waits.size + 1) / placed


def _wait_axes(ax) -> None:
    # Instant dispatch waits ~0 s, bookings can wait hours: linear near 0, log beyond 10 s.
    ax.set_xscale("symlog", linthresh=10.0)
    ax.set_xlim(left=0)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("time to assignment (s, log scale beyond 10 s)")
    ax.set_ylabel("share of placed orders assigned")
    ax.grid(alpha=0.3, which="both")


def plot_wait_cdf(run: RunData, path: Path) -> Path:
    """CDF of the time from placement to assignment."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    waits, share = wait_curve(run)
    ax.step(np.r_[0.0, waits], np.r_[0.0, share], where="post", color="#1d3557",
            label=f"{waits.size:,} of {len(run.orders.placed_s):,} placed orders assigned")
    for key, style in (("assign_wait_p50_s", "--"), ("assign_wait_p90_s", ":")):
        value = run.kpis.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value):
            ax.axvline(value, color="grey", linestyle=style,
                       label=f"{key.split('_')[-2]} = {value:,.1f} s")
    _wait_axes(ax)
    ax.set_title(f"Time to assignment — {run_title(run)}")
    ax.legend(loc="lower right")
    return save(fig, path)


def compare_wait_cdf(runs: Sequence[RunData], labels: Sequence[str], path: Path) -> Path:
    """The wait CDFs of several runs overlaid."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for run, label, colour in zip(runs, labels, _colours(len(runs))):
        waits, share = wait_curve(run)
        ax.step(np.r_[0.0, waits], np.r_[0.0, share], where="post", color=colour,
                label=f"{label} ({share[-1] if share.size else 0:.0%} assigned)")
    _wait_axes(ax)
    ax.set_title("Time to assignment, by run")
    ax.legend(loc="lower right")
    return save(fig, path)


UTILISATION_BINS = np.linspace(0.0, 1.0, 21)


def plot_utilisation(run: RunData, path: Path) -> Path:
    """Histogram of worker utilisation (busy time over shift time)."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    util = _clipped_utilisation(run)
    ax.hist(util, bins=UTILISATION_BINS * 100, color="#457b9d", edgecolor="white")
    if util.size:
        ax.axvline(util.mean(), color="#e63946", linestyle="--",
                   label=f"mean {util.mean():.1f}% over {util.size:,} workers")
        ax.legend(loc="upper right")
    _headroom(ax)
    ax.set_xlabel("utilisation (% of shift busy)")
    ax.set_ylabel("workers")
    ax.set_title(f"Worker utilisation — {run_title(run)}")
    ax.grid(alpha=0.3, axis="y")
    return save(fig, path)


def compare_utilisation(runs: Sequence[RunData], labels: Sequence[str], path: Path) -> Path:
    """Utilisation histograms of several runs as outlined steps on one axis."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for run, label, colour in zip(runs, labels, _colours(len(runs))):
        util = _clipped_utilisation(run)
        ax.hist(util, bins=UTILISATION_BINS * 100, histtype="step", linewidth=1.6,
                color=colour, label=f"{label} (mean {util.mean() if util.size else 0:.1f}%)")
    ax.set_xlabel("utilisation (% of shift busy)")
    ax.set_ylabel("workers")
    ax.set_title("Worker utilisation, by run")
    ax.legend(loc="upper right")
    _headroom(ax)
    ax.grid(alpha=0.3, axis="y")
    return save(fig, path)


def plot_jobs_map(run: RunData, path: Path) -> Path:
    """The run's jobs on a lat/lng scatter, coloured by status, over faint worker homes."""
    fig = Figure(figsize=(7.5, 7.5), layout="constrained")
    ax = fig.add_subplot()
    workers = run.workers
    ax.scatter(workers.lng, workers.lat, s=10, marker="^", color="#8d99ae", alpha=0.35,
               linewidths=0,
               label=f"worker homes ({len(workers.lat):,})", rasterized=True)
    orders = run.orders
    size = 3 if len(orders.lat) > 20_000 else 6 if len(orders.lat) > 5000 else 12
    for status, colour in STATUS_COLOURS.items():
        mine = orders.status == status
        ax.scatter(orders.lng[mine], orders.lat[mine], s=size, color=colour, alpha=0.6,
                   linewidths=0, label=f"{status} ({int(mine.sum()):,})", rasterized=True)
    box = run.bbox
    if box is not None:
        ax.set_xlim(box[1], box[3])
        ax.set_ylim(box[0], box[2])
    # Equal ground distances on both axes at the city's latitude.
    mid_lat = (box[0] + box[2]) / 2 if box else float(np.nanmean(orders.lat) if len(orders.lat) else 0)
    ax.set_aspect(1.0 / max(math.cos(math.radians(mid_lat)), 0.1))
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_title(f"Jobs by status — {run_title(run)}")
    # Below the map: a dense city leaves no empty corner for it.
    legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=4,
                       frameon=False, fontsize="small")
    for handle in legend.legend_handles:  # one legible marker size, whatever the point size
        handle.set_sizes([30])
        handle.set_alpha(0.9)
    return save(fig, path)


def _headroom(ax) -> None:
    """Room above the bars for the legend in the upper corner."""
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)


def _clipped_utilisation(run: RunData) -> np.ndarray:
    util = run.workers.utilisation
    return np.clip(util[np.isfinite(util)], 0.0, 1.0) * 100


def run_title(run: RunData) -> str:
    """'scenario, policy, seed N' for titles."""
    parts = [run.scenario, run.policy]
    seed = run.kpis.get("seed", run.run.get("seed"))
    if seed is not None:
        parts.append(f"seed {seed}")
    return ", ".join(p for p in parts if p)


def _colours(n: int) -> list:
    cmap = matplotlib.colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]
