"""Parameter sweeps: every point of a grid run in parallel, locally or on a Ray cluster.

``run_sweep`` takes the cartesian product of a grid (for example fleet size, peak factor and
batch window), merges each point into a base parameter set and runs ``run_one(params) -> kpis``
for each; rows come back in grid order whatever order the runs finish in. Local runs use a
process pool with the ``spawn`` start method (no forked copies of threads or sockets); with a
Ray address the runs are Ray tasks (``pip install 'home-dispatch[sweep]'``).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import itertools
import logging
import multiprocessing
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from simulations.kpi_format import format_kpi

RunOne = Callable[[dict], Mapping[str, Any]]
log = logging.getLogger(__name__)
# Driver processes started for one Ray sweep at most (see _in_driver_process).
DRIVER_TRIES = 2


class SweepError(RuntimeError):
    """A sweep could not run: a bad grid, a failed run (named by its parameters), no Ray."""


def grid_points(grid: Mapping[str, Sequence]) -> list[dict[str, Any]]:
    """The cartesian product of the grid in order: the last key varies fastest.

    An empty grid is one point (the base alone); an empty list of values is an error, since it
    would make the whole sweep empty.
    """
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            raise SweepError(f"grid[{key!r}] must be a list of values, got {values!r}")
        if len(values) == 0:
            raise SweepError(f"grid[{key!r}] is empty: the sweep would run nothing")
    keys = list(grid)
    return [dict(zip(keys, combo)) for combo in itertools.product(*grid.values())]


def run_sweep(grid: Mapping[str, Sequence], run_one: RunOne, base: Mapping[str, Any], *,
              processes: int | None = None, ray_address: str | None = None) -> list[dict]:
    """Run every grid point and return one row per point, in grid order.

    Parameters
    ----------
    grid : mapping of str to list
        Parameter name to the values to try, e.g. ``{"workers": [500, 1000], "peak_factor":
        [1, 3]}``.
    run_one : callable
        ``run_one(params) -> kpis``; a top-level (picklable) function. It gets ``base`` with the
        point's values laid over it. When it has a ``check`` attribute (``run_params`` has),
        ``run_one.check(params)`` is called on every point first: a point it refuses (raises)
        stops the sweep before any run starts.
    base : mapping
        The parameters every run shares (scenario, seed, policy ...).
    processes : int, optional
        Local worker processes (default: CPU count, at most one per point); ``1`` runs in this
        process. On Ray with ``ray_address="local"`` it caps the CPUs of the local instance.
    ray_address : str, optional
        Run on the Ray cluster at this address (``"auto"``, ``"ray://host:10001"``, or
        ``"local"`` to start a private local instance). Reuses a connection made before.

    Returns
    -------
    list of dict
        Per point: the point's parameters, then the KPIs run_one returned (a KPI named like a
        grid parameter is dropped: the parameter wins).

    Raises
    ------
    SweepError
        On a bad grid, a point ``run_one.check`` refuses, a run that raised or returned no
        mapping (named by its parameters), or a Ray address without Ray installed.
    """
    points = grid_points(grid)
    params = [{**base, **point} for point in points]
    _check_points(run_one, points, params)
    if ray_address is not None:
        results = _run_on_ray(run_one, params, ray_address, processes)
    else:
        results = _run_locally(run_one, params, processes)
    return [_row(point, kpis) for point, kpis in zip(points, results)]


def _check_points(run_one: RunOne, points: list[dict], params: list[dict]) -> None:
    """Every point through ``run_one.check`` (if it has one) before anything runs."""
    check = getattr(run_one, "check", None)
    if check is None:
        return
    for point, p in zip(points, params):
        try:
            check(p)
        except Exception as exc:  # the check's refusal, in its own words
            raise SweepError(f"grid point {point} refused, no run started: {exc}") from exc


def _run_locally(run_one: RunOne, params: list[dict], processes: int | None) -> list:
    if processes is not None and processes < 1:
        raise SweepError(f"processes must be at least 1, got {processes}")
    workers = processes or min(len(params), os.cpu_count() or 1)
    if workers == 1:
        return [_checked(p, _call(run_one, p)) for p in params]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(run_one, p) for p in params]
        try:
            return [_checked(p, _result(p, f.result)) for p, f in zip(params, futures)]
        except SweepError:
            pool.shutdown(cancel_futures=True)
            raise


def _run_on_ray(run_one: RunOne, params: list[dict], address: str,
                processes: int | None) -> list:
    try:
        import ray
    except ImportError:
        raise SweepError("a Ray address was given but ray is not installed: "
                         "pip install 'home-dispatch[sweep]'") from None
    if ray.is_initialized():  # the caller's own connection: drive it from here
        return _drive_ray(ray, run_one, params)
    return _in_driver_process(run_one, params, address, processes)


def _in_driver_process(run_one: RunOne, params: list[dict], address: str,
                       processes: int | None) -> list:
    """Drive Ray from a child process and take its answer over a pipe.

    Ray's driver can crash in its own machinery (races in the core worker's task cancellation
    and teardown; seen in CI about once in a few runs); in a child, such a crash cannot change
    the sweep's rows or its error. A driver that died before it answered is started once more:
    the runs are deterministic and write only their own folders, so a second try is safe.
    """
    for attempt in range(1, DRIVER_TRIES + 1):
        answer, exit_code = _driver_answer(run_one, params, address, processes)
        if answer is not None:
            break
        log.warning("the Ray driver process died (exit code %s) before it reported%s",
                    exit_code, "; starting it again" if attempt < DRIVER_TRIES else "")
    else:
        raise SweepError(f"the Ray driver process died {DRIVER_TRIES} times before it "
                         f"reported (last exit code {exit_code})")
    outcome, value = answer
    if outcome == "error":
        raise SweepError(value)
    return value


def _driver_answer(run_one: RunOne, params: list[dict], address: str,
                   processes: int | None) -> tuple[tuple[str, Any] | None, int | None]:
    """One driver process: its answer (None if it died first) and its exit code."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_ray_driver, args=(sender, run_one, params, address, processes),
                            name="sweep-ray-driver")
    child.start()
    sender.close()
    try:
        answer = receiver.recv()
    except EOFError:
        answer = None
    finally:
        receiver.close()
    child.join(timeout=60)
    if child.is_alive():  # it answered; a teardown that hangs must not hold the sweep
        child.kill()
        child.join()
    return answer, child.exitcode


def _ray_driver(sender, run_one: RunOne, params: list[dict], address: str,
                processes: int | None) -> None:
    import ray

    try:
        ray.init(**_ray_init_args(address, processes))
        # the instance this process started ends with it: no need to cancel its tasks (which
        # raced Ray's own teardown in CI and crashed the driver before it could report)
        outcome = ("rows", _drive_ray(ray, run_one, params, cancel=address != "local"))
    except SweepError as exc:
        outcome = ("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - Ray's own failure, told to the parent in words
        outcome = ("error", f"Ray failed: {type(exc).__name__}: {exc}")
    sender.send(outcome)
    sender.close()
    ray.shutdown()  # after the answer is out: a crash in here cannot change it


def _drive_ray(ray, run_one: RunOne, params: list[dict], cancel: bool = True) -> list:
    task = ray.remote(run_one)
    refs = [task.remote(p) for p in params]
    try:
        return [_checked(p, _result(p, lambda ref=ref: _ray_value(ray, ref)))
                for p, ref in zip(params, refs)]
    except SweepError:
        if cancel:  # a cluster we only joined would run the rest for nothing
            for ref in refs:
                ray.cancel(ref)
            ray.wait(refs, num_returns=len(refs), timeout=10)
        raise


def _ray_value(ray, ref) -> Any:
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        # The run's own exception, so the sweep's error reads as it would locally; the remote
        # traceback stays chained.
        if isinstance(exc.cause, Exception):
            raise exc.cause from exc
        raise


def _ray_init_args(address: str, processes: int | None) -> dict[str, Any]:
    args: dict[str, Any] = {"address": address, "log_to_driver": False}
    if address == "local":
        # A private instance on this machine (its workers start in this working directory, so
        # they import the run function's module); a real cluster brings its own environment.
        args["include_dashboard"] = False
        if processes:
            args["num_cpus"] = processes
    return args


def _call(run_one: RunOne, params: dict):
    return _result(params, lambda: run_one(params))


def _result(params: dict, get: Callable[[], Any]) -> Any:
    try:
        return get()
    except Exception as exc:  # a failed run: say which, keep the cause
        raise SweepError(f"run with {params} failed: {type(exc).__name__}: {exc}") from exc


def _checked(params: dict, kpis: Any) -> Mapping[str, Any]:
    if not isinstance(kpis, Mapping):
        raise SweepError(f"run with {params} returned {type(kpis).__name__}, not a KPI mapping")
    return kpis


def _row(point: dict[str, Any], kpis: Mapping[str, Any]) -> dict[str, Any]:
    return {**point, **{k: v for k, v in kpis.items() if k not in point}}


def write_sweep_table(rows: Sequence[Mapping[str, Any]], out_dir: Path) -> Path:
    """Write ``sweep.csv`` (raw values) and ``sweep.md`` (with units); return the CSV path.

    Columns are the union of the rows' keys in first-seen order. In the Markdown, a text column
    with one value in every row (scenario, policy) moves above the table as a caption.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = list(dict.fromkeys(k for row in rows for k in row))
    path = out_dir / "sweep.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    (out_dir / "sweep.md").write_text(_markdown(rows, columns), encoding="utf-8")
    return path


def _markdown(rows: Sequence[Mapping[str, Any]], columns: list[str]) -> str:
    constant = [c for c in columns if _is_constant_text(rows, c)]
    shown = [c for c in columns if c not in constant]
    caption = " · ".join(f"{c}: {rows[0][c]}" for c in constant)
    lines = [caption, ""] if caption else []
    lines += ["| " + " | ".join(shown) + " |", "|" + " ---: |" * len(shown)]
    lines += ["| " + " | ".join(format_kpi(c, row.get(c)) for c in shown) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _is_constant_text(rows: Sequence[Mapping[str, Any]], column: str) -> bool:
    values = [row.get(column) for row in rows]
    return (len(rows) > 1 and all(isinstance(v, str) for v in values)
            and len(set(values)) == 1)


def parse_assignments(items: Sequence[str], *, lists: bool) -> dict[str, Any]:
    """``key=value`` strings as a dict; values are TOML literals, else plain strings.

    With ``lists``, each value is a comma-separated list: ``workers=500,1000``.
    """
    parsed: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise SweepError(f"expected key=value, got {item!r}")
        parts = text.split(",") if lists else [text]
        values = [_literal(part.strip()) for part in parts]
        parsed[key.strip()] = values if lists else values[0]
    return parsed


def _literal(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def load_function(spec: str) -> RunOne:
    """``module:function`` as the function it names."""
    module, sep, name = spec.partition(":")
    if not sep:
        raise SweepError(f"--run-one must be module:function, got {spec!r}")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise SweepError(f"cannot load {spec!r}: {exc}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m simulations.sweep --grid workers=500,1000 --set scenario=... --out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m simulations.sweep",
                                     description="Run a grid of simulations and tabulate KPIs.")
    parser.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                        help="a swept parameter and its values (repeat for more)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a parameter every run shares (repeat for more)")
    parser.add_argument("--out", type=Path, required=True, help="folder for sweep.csv/.md")
    parser.add_argument("--processes", type=int, help="local worker processes")
    parser.add_argument("--ray-address", help="run on this Ray cluster ('local' starts one)")
    parser.add_argument("--run-one", default="simulations.runner:run_params",
                        help="module:function that runs one parameter set (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        rows = run_sweep(parse_assignments(args.grid, lists=True), load_function(args.run_one),
                         parse_assignments(args.set, lists=False), processes=args.processes,
                         ray_address=args.ray_address)
    except SweepError as exc:
        parser.exit(2, f"sweep: {exc}\n")
    path = write_sweep_table(rows, args.out)
    print((args.out / "sweep.md").read_text(), end="")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
