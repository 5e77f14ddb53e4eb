"""The report of a run folder (plots and ``index.html``) and the comparison of several runs.

Works on the run folders alone (see :mod:`simulations.run_reader` for what it reads), so a
report can be redrawn at any time: ``python -m simulations.report RUN_DIR [RUN_DIR ...]``
(a missing or malformed file: one line naming it on stderr, exit status 1).
"""

from __future__ import annotations

import argparse
import csv
import html
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulations import report_plots as plots
from simulations.kpi_format import IDENTITY_KEYS, format_kpi, kpi_label, ordered_kpi_names
from simulations.run_reader import RunData, RunFolderError, read_run

RUN_PLOTS = (
    ("demand.png", "Orders placed and assigned per hour", plots.plot_demand),
    ("wait_cdf.png", "Time to assignment", plots.plot_wait_cdf),
    ("utilisation.png", "Worker utilisation", plots.plot_utilisation),
    ("jobs_map.png", "Jobs on the map", plots.plot_jobs_map),
)
COMPARE_PLOTS = (
    ("compare_demand.png", "Orders assigned per hour", plots.compare_demand),
    ("compare_wait_cdf.png", "Time to assignment", plots.compare_wait_cdf),
    ("compare_utilisation.png", "Worker utilisation", plots.compare_utilisation),
)
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { color: #555; font-size: 0.85em; }
figure { display: inline-block; margin: 0 1rem 1.5rem 0; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def write_report(run_dir: Path) -> Path:
    """Draw the plots of one run folder and write ``index.html`` beside them.

    Parameters
    ----------
    run_dir : Path
        A run folder; the PNGs (``demand``, ``wait_cdf``, ``utilisation``, ``jobs_map``) and
        ``index.html`` are written into it.

    Returns
    -------
    Path
        The HTML page.

    Raises
    ------
    RunFolderError
        When a file the report needs is missing or malformed (the message names it).
    """
    run_dir = Path(run_dir)
    run = read_run(run_dir)
    for name, _, draw in RUN_PLOTS:
        draw(run, run_dir / name)
    figures = [(name, title) for name, title, _ in RUN_PLOTS]
    body = [
        f"<h1>Simulation report — {html.escape(plots.run_title(run))}</h1>",
        _section("Run", _pairs_table({k: run.run[k] for k in run.run if k != "bbox"}
                                     | _bbox_row(run))),
        _section("KPIs", _kpi_table(run.kpis)),
        _section("Timing", _pairs_table(run.timing)),
        _section("Plots", _figures(figures)),
    ]
    return _write_page(run_dir / "index.html", f"Report {plots.run_title(run)}", body)


def write_comparison(run_dirs: Sequence[Path], out_dir: Path) -> Path:
    """One table of KPIs across runs, overlaid plots and ``compare.html``.

    Parameters
    ----------
    run_dirs : sequence of Path
        Run folders, in the order of the table's columns.
    out_dir : Path
        Where ``comparison.csv``, ``comparison.md``, the ``compare_*.png`` plots and
        ``compare.html`` go (created if needed).

    Returns
    -------
    Path
        The HTML page.
    """
    if not run_dirs:
        raise ValueError("write_comparison needs at least one run folder")
    runs = [read_run(Path(d)) for d in run_dirs]
    labels = run_labels(runs)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    header, rows = comparison_table(runs, labels)
    _write_comparison_csv(out_dir / "comparison.csv", header, rows)
    (out_dir / "comparison.md").write_text(_comparison_markdown(header, rows), encoding="utf-8")
    for name, _, draw in COMPARE_PLOTS:
        draw(runs, labels, out_dir / name)
    figures = [(name, title) for name, title, _ in COMPARE_PLOTS]
    body = [
        "<h1>Policy comparison</h1>",
        _section("KPIs", _comparison_html(header, rows)),
        _section("Runs", _runs_list(runs, labels, out_dir)),
        _section("Plots", _figures(figures)),
    ]
    return _write_page(out_dir / "compare.html", "Policy comparison", body)


def run_labels(runs: Sequence[RunData]) -> list[str]:
    """A short, unique name per run: the policy, then scenario, seed or folder as needed."""
    labels = [run.policy for run in runs]
    for extra in (lambda r: r.scenario, lambda r: f"seed {r.kpis.get('seed')}",
                  lambda r: r.folder.name):
        if len(set(labels)) == len(labels):
            break
        labels = [f"{label} ({extra(run)})" if labels.count(label) > 1 else label
                  for label, run in zip(labels, runs)]
    return labels


def comparison_table(runs: Sequence[RunData],
                     labels: Sequence[str]) -> tuple[list[str], list[tuple[str, list[Any]]]]:
    """Rows are KPIs (identity keys first), columns are runs; a KPI a run lacks is None."""
    names = list(dict.fromkeys(k for run in runs for k in run.kpis))
    keys = [k for k in IDENTITY_KEYS if k in names] + ordered_kpi_names(names)
    rows = [(key, [run.kpis.get(key) for run in runs]) for key in keys]
    return ["kpi", *labels], rows


def _write_comparison_csv(path: Path, header: list[str], rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for key, values in rows:
            writer.writerow([key, *("" if v is None else v for v in values)])


def _comparison_markdown(header: list[str], rows) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "| --- |" + " ---: |" * (len(header) - 1)]
    for key, values in rows:
        cells = [format_kpi(key, v) for v in values]
        lines.append(f"| {kpi_label(key)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _comparison_html(header: list[str], rows) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        f"<tr><td>{html.escape(kpi_label(key))} <code>{html.escape(key)}</code></td>"
        + "".join(f'<td class="num">{html.escape(format_kpi(key, v))}</td>' for v in values)
        + "</tr>" for key, values in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _kpi_table(kpis: dict[str, Any]) -> str:
    identity = {k: kpis[k] for k in IDENTITY_KEYS if k in kpis}
    rows = "".join(
        f"<tr><td>{html.escape(kpi_label(k))} <code>{html.escape(k)}</code></td>"
        f'<td class="num">{html.escape(format_kpi(k, kpis[k]))}</td></tr>'
        for k in ordered_kpi_names(list(kpis)))
    caption = " · ".join(f"{k} {v}" for k, v in identity.items())
    return f"<p>{html.escape(caption)}</p><table><tr><th>KPI</th><th>value</th></tr>{rows}</table>"


def _pairs_table(pairs: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td><code>{html.escape(str(k))}</code></td>"
                   f'<td class="num">{html.escape(format_kpi(str(k), v))}</td></tr>'
                   for k, v in pairs.items())
    return f"<table>{rows}</table>"


def _bbox_row(run: RunData) -> dict[str, str]:
    box = run.bbox
    if box is None:
        return {}
    return {"bbox": f"lat {box[0]:.3f}–{box[2]:.3f}, lng {box[1]:.3f}–{box[3]:.3f}"}


def _runs_list(runs: Sequence[RunData], labels: Sequence[str], out_dir: Path) -> str:
    items = []
    for run, label in zip(runs, labels):
        page = run.folder / "index.html"
        link = _relative(page, out_dir) if page.exists() else None
        name = html.escape(f"{label}: {run.folder}")
        items.append(f'<li><a href="{html.escape(link)}">{name}</a></li>' if link
                     else f"<li>{name}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _relative(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()


def _figures(figures: list[tuple[str, str]]) -> str:
    return "".join(
        f'<figure><img src="{html.escape(name)}" alt="{html.escape(title)}">'
        f"<figcaption>{html.escape(title)}</figcaption></figure>" for name, title in figures)


def _section(title: str, content: str) -> str:
    return f"<h2>{html.escape(title)}</h2>\n{content}"


def _write_page(path: Path, title: str, body: list[str]) -> Path:
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
    path.write_text(page, encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Redraw reports: ``python -m simulations.report RUN_DIR [RUN_DIR ...] [--compare OUT]``."""
    parser = argparse.ArgumentParser(prog="python -m simulations.report", description=main.__doc__)
    parser.add_argument("run_dirs", nargs="+", type=Path, help="run folders")
    parser.add_argument("--compare", type=Path, metavar="OUT",
                        help="also write the comparison of the runs into OUT")
    args = parser.parse_args(argv)
    try:
        for run_dir in args.run_dirs:
            print(write_report(run_dir))
        if args.compare is not None:
            print(write_comparison(args.run_dirs, args.compare))
    except (RunFolderError, OSError) as exc:  # the message names the file
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
