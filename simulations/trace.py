"""Trace replay: orders (and optionally worker status events) from CSV files.

Orders CSV, one order per row, a header line first (columns in any order; ``?`` = optional):

==================  ========================================================================
column              meaning
==================  ========================================================================
order_id            unique id
placed_s            seconds since the run's start when the order is revealed to the dispatcher
service_type        one of the config's service types
lat, lng            the address (degrees, WGS84)
earliest_start_s    start window opening, seconds since the run's start
latest_start_s      start window end, seconds since the run's start
duration_s          job duration in seconds
workers_needed?     team size (default 1)
min_skill_level?    0-5 (default 0: any level)
priority?           0-10 (default 0)
customer_id?        (default: the order id)
pay_per_hour?       what each worker earns per hour (default 50)
==================  ========================================================================

Worker events CSV: ``time_s,worker_id,status`` with status ONLINE, OFFLINE, ON_LEAVE or
SUSPENDED (SetWorkerStatus at that time).

A bad row is an error naming the file, its line number and the field; nothing is skipped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from matcher.errors import InvalidArgument
from matcher.model import Order, WorkerStatus
from simulations.demand import SimOrder

REQUIRED = ("order_id", "placed_s", "service_type", "lat", "lng", "earliest_start_s",
            "latest_start_s", "duration_s")
OPTIONAL = {"workers_needed": "1", "min_skill_level": "0", "priority": "0", "customer_id": "",
            "pay_per_hour": "50"}


class TraceError(ValueError):
    """A trace file that cannot be replayed: ``path:line: field: problem``."""


@dataclass(frozen=True, slots=True)
class WorkerEvent:
    time: int
    worker_id: str
    status: WorkerStatus


def read_orders(path: str | Path, start: int, service_types: tuple[str, ...]) -> list[SimOrder]:
    """The orders of a trace, by placement time; ``start`` is the run's t = 0 (Unix s)."""
    out, seen = [], set()
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        _check_header(path, reader.fieldnames, REQUIRED, tuple(OPTIONAL))
        for row in reader:
            where = f"{path}:{reader.line_num}"
            order = _order(row, where, start, service_types)
            if order.order.order_id in seen:
                raise TraceError(f"{where}: order_id: duplicate id {order.order.order_id!r}")
            seen.add(order.order.order_id)
            out.append(order)
    return sorted(out, key=lambda o: (o.placed, o.order.order_id))


def read_worker_events(path: str | Path) -> list[WorkerEvent]:
    """Worker status changes of a trace, by time."""
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        _check_header(path, reader.fieldnames, ("time_s", "worker_id", "status"), ())
        for row in reader:
            where = f"{path}:{reader.line_num}"
            status = row["status"].strip().upper()
            if status not in WorkerStatus.__members__:
                raise TraceError(f"{where}: status: {row['status']!r} is not one of "
                                 f"{', '.join(WorkerStatus.__members__)}")
            if not row["worker_id"].strip():
                raise TraceError(f"{where}: worker_id: must not be empty")
            out.append(WorkerEvent(_int(row, "time_s", where, 0), row["worker_id"].strip(),
                                   WorkerStatus[status]))
    return sorted(out, key=lambda e: (e.time, e.worker_id))


def _check_header(path, names, required, optional) -> None:
    names = names or []
    missing = [c for c in required if c not in names]
    unknown = [c for c in names if c not in required and c not in optional]
    if missing:
        raise TraceError(f"{path}:1: header: missing column(s) {', '.join(missing)}")
    if unknown:
        raise TraceError(f"{path}:1: header: unknown column(s) {', '.join(unknown)}")


def _order(row: dict, where: str, start: int, types: tuple[str, ...]) -> SimOrder:
    if None in row or any(row.get(c) is None for c in REQUIRED):
        raise TraceError(f"{where}: row: expected {len(row) - (None in row)} fields as in the "
                         "header, got another number")
    if row["service_type"] not in types:
        raise TraceError(f"{where}: service_type: {row['service_type']!r} is not one of "
                         f"{', '.join(types)}")
    placed = _int(row, "placed_s", where, 0)
    earliest, latest = _int(row, "earliest_start_s", where), _int(row, "latest_start_s", where)
    if placed > latest:
        raise TraceError(f"{where}: placed_s: {placed} is after latest_start_s {latest}")
    get = lambda c: row.get(c) or OPTIONAL[c]  # noqa: E731
    try:
        order = Order(order_id=row["order_id"], customer_id=get("customer_id") or row["order_id"],
                      service_type=row["service_type"],
                      min_skill_level=_int(row, "min_skill_level", where),
                      lat=_float(row, "lat", where), lon=_float(row, "lng", where),
                      earliest_start=start + earliest, latest_start=start + latest,
                      duration=_int(row, "duration_s", where),
                      priority=_int(row, "priority", where),
                      workers_needed=_int(row, "workers_needed", where))
    except InvalidArgument as exc:
        raise TraceError(f"{where}: {exc}") from exc
    return SimOrder(order, placed, row["service_type"], _float(row, "pay_per_hour", where))


def _int(row: dict, column: str, where: str, low: int | None = None) -> int:
    text = (row.get(column) or OPTIONAL.get(column, "")).strip()
    try:
        value = int(text)
    except ValueError:
        raise TraceError(f"{where}: {column}: expected an integer, got {text!r}") from None
    if low is not None and value < low:
        raise TraceError(f"{where}: {column}: must be at least {low}, got {value}")
    return value


def _float(row: dict, column: str, where: str) -> float:
    text = (row.get(column) or OPTIONAL.get(column, "")).strip()
    try:
        return float(text)
    except ValueError:
        raise TraceError(f"{where}: {column}: expected a number, got {text!r}") from None
