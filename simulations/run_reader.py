"""Read a simulation run folder (what ``python -m simulations run`` writes) into numpy columns.

Only the files and columns the report needs are read; extra files, columns and KPI keys are
ignored. A missing file, a missing column or a cell that is not a number raises
:class:`RunFolderError` naming the file (and the line and column), never a bare ``KeyError``.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# The minimum the issue promises in kpis.json; the rest of the KPIs are shown when present.
REQUIRED_KPIS = (
    "answer_rate", "assign_wait_p50_s", "assign_wait_p90_s", "travel_km_per_job",
    "utilisation", "earnings_gini", "orders_placed", "orders_served",
)
ORDER_COLUMNS = ("placed_s", "assigned_s", "wait_s", "lat", "lng")
WORKER_COLUMNS = ("lat", "lng", "utilisation")
ORDER_STATUSES = ("served", "unserved", "cancelled")


class RunFolderError(ValueError):
    """A run folder is missing a file, or a file is malformed; the message names the file."""


@dataclass(frozen=True, slots=True)
class OrderColumns:
    """orders.csv as arrays; NaN where a cell is empty (never assigned, no wait)."""

    placed_s: np.ndarray
    assigned_s: np.ndarray
    wait_s: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    status: np.ndarray  # str objects: served | unserved | cancelled


@dataclass(frozen=True, slots=True)
class WorkerColumns:
    """workers.csv as arrays (home base and utilisation in [0, 1])."""

    lat: np.ndarray
    lng: np.ndarray
    utilisation: np.ndarray


@dataclass(frozen=True, slots=True)
class RunData:
    """Everything the report draws from one run folder."""

    folder: Path
    kpis: dict[str, Any]
    run: dict[str, Any]
    timing: dict[str, Any]
    orders: OrderColumns
    workers: WorkerColumns

    @property
    def policy(self) -> str:
        return str(self.kpis.get("policy", self.run.get("policy", self.folder.name)))

    @property
    def scenario(self) -> str:
        return str(self.kpis.get("scenario", self.run.get("scenario", "")))

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        """``(min_lat, min_lng, max_lat, max_lng)`` from run.json, or None when absent."""
        box = self.run.get("bbox")
        return None if box is None else tuple(float(v) for v in box)  # type: ignore[return-value]


def read_run(folder: Path) -> RunData:
    """Read and check one run folder.

    Parameters
    ----------
    folder : Path
        A folder holding ``kpis.json``, ``run.json``, ``timing.json``, ``orders.csv`` and
        ``workers.csv``.

    Returns
    -------
    RunData

    Raises
    ------
    RunFolderError
        When the folder or a file is missing, or a file is malformed (named in the message).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: not a run folder (no such directory)")
    kpis = read_json_object(folder / "kpis.json")
    missing = [key for key in REQUIRED_KPIS if key not in kpis]
    if missing:
        raise RunFolderError(f"{folder / 'kpis.json'}: missing KPI keys {missing}")
    run = read_json_object(folder / "run.json")
    _check_bbox(folder / "run.json", run.get("bbox"))
    return RunData(
        folder=folder, kpis=kpis, run=run, timing=read_json_object(folder / "timing.json"),
        orders=_read_orders(folder / "orders.csv"), workers=_read_workers(folder / "workers.csv"),
    )


def read_json_object(path: Path) -> dict[str, Any]:
    """A JSON file that must hold one object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{path}: file is missing") from None
    except json.JSONDecodeError as exc:
        raise RunFolderError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise RunFolderError(f"{path}: expected a JSON object, got {type(value).__name__}")
    return value


def read_csv_columns(path: Path, numeric: tuple[str, ...],
                     text: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Named columns of a CSV file with a header; numeric ones as float arrays (empty -> NaN).

    Raises
    ------
    RunFolderError
        Naming the file, and the line and column of the first bad cell.
    """
    try:
        handle = path.open(newline="", encoding="utf-8")
    except FileNotFoundError:
        raise RunFolderError(f"{path}: file is missing") from None
    with handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        absent = [name for name in numeric + text if name not in header]
        if absent:
            raise RunFolderError(f"{path}: missing columns {absent} (header: {header})")
        values: dict[str, list] = {name: [] for name in numeric + text}
        for row in reader:
            for name in numeric:
                values[name].append(_number(path, reader.line_num, name, row[name]))
            for name in text:
                values[name].append(row[name] or "")
    columns = {name: np.asarray(values[name], dtype=float) for name in numeric}
    columns.update({name: np.asarray(values[name], dtype=object) for name in text})
    return columns


def _number(path: Path, line: int, column: str, cell: str | None) -> float:
    if cell is None:  # a short row: DictReader fills missing cells with None
        raise RunFolderError(f"{path}: line {line}: row has no cell for column '{column}'")
    if cell.strip() == "":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise RunFolderError(
            f"{path}: line {line}: column '{column}' is not a number: {cell!r}") from None


def _read_orders(path: Path) -> OrderColumns:
    cols = read_csv_columns(path, ORDER_COLUMNS, ("status",))
    unknown = sorted(set(cols["status"]) - set(ORDER_STATUSES))
    if unknown:
        raise RunFolderError(f"{path}: unknown status values {unknown}, "
                             f"expected one of {list(ORDER_STATUSES)}")
    return OrderColumns(**cols)


def _read_workers(path: Path) -> WorkerColumns:
    return WorkerColumns(**read_csv_columns(path, WORKER_COLUMNS))


def _check_bbox(path: Path, box: Any) -> None:
    if box is None:
        return
    ok = isinstance(box, list) and len(box) == 4 and all(
        isinstance(v, (int, float)) for v in box)
    if not ok or not (box[0] < box[2] and box[1] < box[3]):
        raise RunFolderError(
            f"{path}: bbox must be [min_lat, min_lng, max_lat, max_lng], got {box!r}")
