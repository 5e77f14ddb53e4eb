"""Sweeps over a real grid, in local processes and (when ray is installed) on a local Ray."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulations.sweep import (SweepError, grid_points, main, parse_assignments, run_sweep,
                               write_sweep_table)

GRID = {"workers": [100, 200], "peak_factor": [1.0, 3.0], "batch_window_s": [0, 30]}
BASE = {"scenario": "weekday", "seed": 7, "workers": 50}
ROOT = Path(__file__).resolve().parents[2]


def served_kpis(params: dict) -> dict:
    """A deterministic stand-in for a simulation: KPIs computed from the parameters, plus the
    process that ran it (so the test sees the runs really were spread over processes)."""
    demand = 120 * params["peak_factor"]
    served = min(demand, params["workers"] * 0.9 - params["batch_window_s"])
    return {"answer_rate": served / demand, "orders_placed": int(demand),
            "assign_wait_p50_s": params["batch_window_s"] / 2 + params["seed"],
            "scenario": params["scenario"], "workers": -1, "pid": os.getpid()}


def fails_on_peaks(params: dict) -> dict:
    if params["peak_factor"] > 2:
        raise ValueError("no capacity model for peaks")
    return served_kpis(params)


def not_a_mapping(params: dict) -> list:
    return [params["workers"]]


def expected_rows() -> list[dict]:
    rows = []
    for workers in GRID["workers"]:
        for peak in GRID["peak_factor"]:
            for window in GRID["batch_window_s"]:
                point = {"workers": workers, "peak_factor": peak, "batch_window_s": window}
                kpis = served_kpis({**BASE, **point})
                rows.append({**point, **{k: v for k, v in kpis.items() if k not in ("workers", "pid")}})
    return rows


def without_pid(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "pid"} for row in rows]


def test_grid_points_are_the_product_in_order():
    points = grid_points({"a": [1, 2], "b": ["x", "y", "z"]})
    assert points == [{"a": a, "b": b} for a in (1, 2) for b in ("x", "y", "z")]
    assert grid_points({}) == [{}]


@pytest.mark.parametrize("grid,message", [
    ({"workers": []}, r"grid\['workers'\] is empty"),
    ({"workers": 100}, r"grid\['workers'\] must be a list"),
    ({"policy": "batched"}, r"grid\['policy'\] must be a list"),
])
def test_a_bad_grid_is_named(grid, message):
    with pytest.raises(SweepError, match=message):
        run_sweep(grid, served_kpis, BASE, processes=1)


def test_processes_below_one_are_refused():
    with pytest.raises(SweepError, match="processes must be at least 1, got 0"):
        run_sweep(GRID, served_kpis, BASE, processes=0)


def test_two_processes_return_rows_in_grid_order():
    rows = run_sweep(GRID, served_kpis, BASE, processes=2)
    assert without_pid(rows) == expected_rows()
    assert list(rows[0])[:3] == ["workers", "peak_factor", "batch_window_s"]
    assert os.getpid() not in {row["pid"] for row in rows}


def test_in_process_run_gives_the_same_rows():
    assert without_pid(run_sweep(GRID, served_kpis, BASE, processes=1)) == expected_rows()


def test_a_failed_run_is_named_by_its_parameters():
    with pytest.raises(SweepError, match=r"'peak_factor': 3\.0.*ValueError: no capacity model"):
        run_sweep(GRID, fails_on_peaks, BASE, processes=2)
    with pytest.raises(SweepError, match=r"returned list, not a KPI mapping"):
        run_sweep({"workers": [1]}, not_a_mapping, BASE, processes=1)


def test_sweep_table_writes_csv_and_markdown(tmp_path):
    rows = without_pid(expected_rows())
    path = write_sweep_table(rows, tmp_path)
    with path.open() as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(rows)
    assert [float(r["answer_rate"]) for r in table] == [r["answer_rate"] for r in rows]
    markdown = (tmp_path / "sweep.md").read_text().splitlines()
    assert markdown[0] == "scenario: weekday"  # one value in every row: a caption
    assert markdown[2].split("|")[1:4] == [" workers ", " peak_factor ", " batch_window_s "]
    assert len(markdown) == 4 + len(rows)
    assert f"| {rows[-1]['answer_rate'] * 100:.1f}% |" in markdown[-1]


def test_the_command_sweeps_a_grid(tmp_path, capsys):
    code = main(["--grid", "workers=100,200", "--grid", "peak_factor=1.0,3.0",
                 "--grid", "batch_window_s=0,30", "--set", "scenario=weekday", "--set", "seed=7",
                 "--set", "workers=50", "--processes", "2", "--out", str(tmp_path),
                 "--run-one", f"{__name__}:served_kpis"])
    assert code == 0
    with (tmp_path / "sweep.csv").open() as handle:
        table = list(csv.DictReader(handle))
    assert [float(r["answer_rate"]) for r in table] == [r["answer_rate"] for r in expected_rows()]
    assert str(tmp_path / "sweep.csv") in capsys.readouterr().out


def test_assignments_parse_as_toml_literals():
    assert parse_assignments(["a=1,2.5", "b=x,true"], lists=True) == {
        "a": [1, 2.5], "b": ["x", True]}
    assert parse_assignments(["scenario=simulations/scenarios/weekday.toml"], lists=False) == {
        "scenario": "simulations/scenarios/weekday.toml"}
    with pytest.raises(SweepError, match="expected key=value"):
        parse_assignments(["workers"], lists=True)


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="ray is not installed")
def test_a_local_ray_instance_returns_the_same_rows(tmp_path):
    # In a child process: Ray's driver threads and handlers stay out of this test process,
    # which goes on to run the gRPC suites.
    command = [sys.executable, "-m", "simulations.sweep", "--ray-address", "local",
               "--processes", "2", "--out", str(tmp_path), "--run-one", f"{__name__}:served_kpis",
               "--grid", "workers=100,200", "--grid", "peak_factor=1.0,3.0",
               "--grid", "batch_window_s=0,30", "--set", "scenario=weekday", "--set", "seed=7",
               "--set", "workers=50"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    failing = [*command[:command.index("--run-one") + 1], f"{__name__}:fails_on_peaks",
               *command[command.index("--run-one") + 2:]]
    failed = subprocess.run(failing, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert failed.returncode == 2, failed.stderr[-3000:]
    assert re.search(r"sweep: run with .*'peak_factor': 3\.0.*no capacity model",
                     failed.stderr), failed.stderr[-3000:]
    with (tmp_path / "sweep.csv").open() as handle:
        table = list(csv.DictReader(handle))
    expected = expected_rows()
    assert [float(r["answer_rate"]) for r in table] == [r["answer_rate"] for r in expected]
    assert [int(r["workers"]) for r in table] == [r["workers"] for r in expected]


RAN: list[dict] = []


def recorded(params: dict) -> dict:
    RAN.append(params)
    return served_kpis(params)


def _no_zero_window(params: dict) -> None:
    if params["batch_window_s"] < 1:
        raise ValueError("batch_window_s: 0 is out of range [1, 86400]")


recorded.check = _no_zero_window


def test_a_point_the_check_refuses_stops_the_sweep_before_any_run():
    RAN.clear()
    with pytest.raises(SweepError, match=r"grid point \{'workers': 100, 'peak_factor': 1.0, "
                                         r"'batch_window_s': 0\} refused, no run started: "
                                         r"batch_window_s: 0 is out of range"):
        run_sweep({"workers": [100, 200], "peak_factor": [1.0], "batch_window_s": [30, 0]},
                  recorded, BASE, processes=1)
    assert RAN == []
    rows = run_sweep({"workers": [100], "batch_window_s": [30, 60]}, recorded,
                     BASE | {"peak_factor": 1.0}, processes=1)
    assert [r["batch_window_s"] for r in rows] == [30, 60] and len(RAN) == 2
