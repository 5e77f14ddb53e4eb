"""The run report and the comparison, drawn from run folders written by a test-local writer."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from simulations.kpi_format import format_kpi
from simulations.report import main, write_comparison, write_report
from simulations.run_reader import RunFolderError, read_run
from tests.simulations.run_folders import write_run_folder

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RUN_PNGS = ("demand.png", "wait_cdf.png", "utilisation.png", "jobs_map.png")
COMPARE_PNGS = ("compare_wait_cdf.png", "compare_demand.png", "compare_utilisation.png")


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    assert len(data) > 10_000, f"{path.name} is only {len(data)} bytes"


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory) -> tuple[list[Path], list[dict]]:
    root = tmp_path_factory.mktemp("runs")
    specs = [("greedy", 5.0, 0.70), ("instant", 2.0, 0.80), ("batched", 25.0, 0.92)]
    dirs, kpis = [], []
    for policy, wait, served in specs:
        dirs.append(root / policy)
        kpis.append(write_run_folder(dirs[-1], policy=policy, mean_wait_s=wait,
                                     served_share=served))
    return dirs, kpis


def test_report_draws_every_plot_and_a_page_that_shows_them(three_runs):
    run_dir, kpis = three_runs[0][0], three_runs[1][0]
    page = write_report(run_dir)
    assert page == run_dir / "index.html"
    for name in RUN_PNGS:
        assert_png(run_dir / name)
    text = page.read_text()
    assert set(re.findall(r'<img src="([^"]+)"', text)) == set(RUN_PNGS)
    for key in ("answer_rate", "assign_wait_p50_s", "earnings_gini", "orders_served",
                "an_extra_kpi"):
        assert f"<code>{key}</code></td><td class=\"num\">{format_kpi(key, kpis[key])}<" in text
    assert "wall_time_s" in text and format_kpi("speedup", 86_400 / 12.5) in text


def test_demand_counts_are_the_placements_per_hour(three_runs):
    from simulations.report_plots import hour_edges, hourly_counts

    run = read_run(three_runs[0][1])
    edges = hour_edges([run])
    placed = hourly_counts(run.orders.placed_s, edges)
    assigned = hourly_counts(run.orders.assigned_s, edges)
    assert placed.sum() == len(run.orders.placed_s)
    assert assigned.sum() == run.kpis["orders_served"]
    hour_of = np.floor(run.orders.placed_s / 3600).astype(int)
    assert placed[9] == np.count_nonzero(hour_of == 9)


def test_comparison_has_one_column_per_run_with_its_values(three_runs, tmp_path):
    dirs, kpis = three_runs
    write_report(dirs[0])
    page = write_comparison(dirs, tmp_path / "cmp")
    assert page == tmp_path / "cmp" / "compare.html"
    for name in COMPARE_PNGS:
        assert_png(tmp_path / "cmp" / name)
    with (tmp_path / "cmp" / "comparison.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["kpi", "greedy", "instant", "batched"]
    table = {row[0]: row[1:] for row in rows[1:]}
    for key in ("answer_rate", "assign_wait_p90_s", "orders_served", "policy"):
        assert table[key] == [str(k[key]) for k in kpis]
    markdown = (tmp_path / "cmp" / "comparison.md").read_text()
    answer = next(line for line in markdown.splitlines() if line.startswith("| answer rate"))
    assert [c.strip() for c in answer.split("|")[2:-1]] == [
        format_kpi("answer_rate", k["answer_rate"]) for k in kpis]
    text = page.read_text()
    assert set(re.findall(r'<img src="([^"]+)"', text)) == set(COMPARE_PNGS)
    link = os.path.relpath(dirs[0] / "index.html", tmp_path / "cmp")
    assert f'<a href="{link}">greedy: {dirs[0]}</a>' in text


def test_runs_with_the_same_policy_get_distinct_labels(tmp_path):
    a = tmp_path / "a"
    b = tmp_path / "b"
    write_run_folder(a, policy="batched", scenario="weekday")
    write_run_folder(b, policy="batched", scenario="spring_festival")
    write_comparison([a, b], tmp_path / "cmp")
    header = (tmp_path / "cmp" / "comparison.csv").read_text().splitlines()[0]
    assert header == "kpi,batched (weekday),batched (spring_festival)"


@pytest.mark.parametrize("name", ["kpis.json", "run.json", "timing.json", "orders.csv",
                                  "workers.csv"])
def test_a_missing_file_is_named(tmp_path, name):
    write_run_folder(tmp_path)
    (tmp_path / name).unlink()
    with pytest.raises(RunFolderError, match=rf"{re.escape(name)}: file is missing"):
        write_report(tmp_path)


def test_a_bad_cell_is_named_with_file_line_and_column(tmp_path):
    write_run_folder(tmp_path)
    lines = (tmp_path / "orders.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[2] = "soon"  # placed_s
    lines[3] = ",".join(cells)
    (tmp_path / "orders.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(RunFolderError,
                       match=r"orders\.csv: line 4: column 'placed_s' is not a number: 'soon'"):
        write_report(tmp_path)


def test_malformed_json_and_columns_and_kpis_are_named(tmp_path):
    write_run_folder(tmp_path)
    (tmp_path / "timing.json").write_text("{not json")
    with pytest.raises(RunFolderError, match=r"timing\.json: not valid JSON"):
        read_run(tmp_path)
    write_run_folder(tmp_path)
    kpis = json.loads((tmp_path / "kpis.json").read_text())
    del kpis["answer_rate"]
    (tmp_path / "kpis.json").write_text(json.dumps(kpis))
    with pytest.raises(RunFolderError, match=r"kpis\.json: missing KPI keys \['answer_rate'\]"):
        read_run(tmp_path)
    write_run_folder(tmp_path)
    text = (tmp_path / "workers.csv").read_text().replace("utilisation", "util", 1)
    (tmp_path / "workers.csv").write_text(text)
    with pytest.raises(RunFolderError, match=r"workers\.csv: missing columns \['utilisation'\]"):
        read_run(tmp_path)


def test_an_unknown_status_is_named(tmp_path):
    write_run_folder(tmp_path)
    text = (tmp_path / "orders.csv").read_text().replace(",served,", ",done,", 1)
    (tmp_path / "orders.csv").write_text(text)
    with pytest.raises(RunFolderError, match=r"orders\.csv: unknown status values \['done'\]"):
        read_run(tmp_path)


def test_the_command_redraws_reports_and_compares(three_runs, tmp_path, capsys):
    dirs = three_runs[0][:2]
    assert main([str(d) for d in dirs] + ["--compare", str(tmp_path / "cmp")]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(d / "index.html") for d in dirs] + [str(tmp_path / "cmp" / "compare.html")]


def test_the_command_names_a_malformed_folder_in_one_line(tmp_path, capsys):
    write_run_folder(tmp_path / "run")
    (tmp_path / "run" / "timing.json").write_text("{not json")
    assert main([str(tmp_path / "run")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: {tmp_path / 'run' / 'timing.json'}: not valid JSON")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert main([str(tmp_path / "nothing")]) == 1
    assert "not a run folder" in capsys.readouterr().err


@pytest.mark.parametrize("name,value,text", [
    ("answer_rate", 0.8734, "87.3%"), ("assign_wait_p90_s", 1234.56, "1,234.6 s"),
    ("travel_km_per_job", 3.14159, "3.14 km"), ("orders_served", 1200, "1,200"),
    ("late_minutes_mean", 7.26, "7.3 min"), ("earnings_gini", 0.2, "0.200"),
    ("assign_wait_p50_s", None, "—"), ("solver_round_p50_s", 0.0042, "4.2 ms"),
    ("assign_wait_p50_s", 0.0, "0.0 s"), ("orders_served", np.int64(12_000), "12,000"),
    ("answer_rate", np.float32(0.5), "50.0%"), ("late_share", float("nan"), "—"), ("policy", "batched", "batched"), ("seed", 7, "7"),
])
def test_kpis_read_with_their_units(name, value, text):
    assert format_kpi(name, value) == text


def test_a_run_that_assigned_nothing_still_reports(tmp_path):
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):  # nanpercentile of no waits
        write_run_folder(tmp_path, served_share=0.0)
    kpis = json.loads((tmp_path / "kpis.json").read_text(), parse_constant=lambda _: None)
    (tmp_path / "kpis.json").write_text(json.dumps(kpis))
    run = json.loads((tmp_path / "run.json").read_text())
    del run["start"], run["bbox"]  # no clock and no city box: hours and the data's extent
    (tmp_path / "run.json").write_text(json.dumps(run))
    text = write_report(tmp_path).read_text()
    for name in RUN_PNGS:
        assert_png(tmp_path / name)
    assert '<code>assign_wait_p50_s</code></td><td class="num">—<' in text
    assert '<code>answer_rate</code></td><td class="num">0.0%<' in text
