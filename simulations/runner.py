"""Run one scenario with one policy and seed, and write its folder.

:func:`run_params` is the picklable entry point for parallel sweeps (one dict in, the KPI dict
out); :func:`run` is what the CLI calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import numbers
import secrets
import signal
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from matcher.config import DispatchConfig
from simulations.city import SimCity, make_sim_city
from simulations.demand import make_demand
from simulations.kpis import compute_kpis
from simulations.output import timing, write_json, write_run
from simulations.policies import Policy
from simulations.policies import policy as policy_named
from simulations.progress import progress_bar
from simulations.scenario import Scenario, ScenarioError, load_scenario, with_values
from simulations.simulator import Outcome, Simulation, _end_of_run
from simulations.synthetic_city import local_time
from simulations.trace import read_orders, read_worker_events

DAY_S = 86400
# Simulated seconds per wall second of a --target run: a simulated day in 2.4 minutes.
DEFAULT_SPEED = 600.0


# The keys run_params understands; a sweep over any other key would silently change nothing.
RUN_PARAMS = ("scenario", "policy", "seed", "scale", "out", "runs_dir", "workers",
              "peak_factor", "batch_window_s")
# The swept keys that name a run's folder under ``runs_dir``.
POINT_KEYS = ("policy", "seed", "scale", "workers", "peak_factor", "batch_window_s")

T = TypeVar("T")


def run_params(params: dict) -> dict:
    """One run from a dict: ``scenario`` (path or name), ``policy``, ``seed``, ``scale``,
    ``out`` (folder; or ``runs_dir``, under which the run gets a folder named by its
    parameters, as a sweep needs), and optionally ``workers`` (fleet size), ``peak_factor`` and
    ``batch_window_s`` overriding the scenario's. Returns the KPI dict (also in
    ``kpis.json``). Quiet: no progress bar. An unknown key is a ValueError, an override the
    scenario's own checks refuse a ScenarioError (:func:`check_params`, which a sweep calls on
    every point before any run starts)."""
    scenario = _scenario_of(params)
    out = params.get("out") or Path(params["runs_dir"]) / _point_name(params)
    return run(scenario, params.get("policy") or scenario.dispatch.policy,
               int(params.get("seed") or 0), float(params.get("scale") or 1.0), Path(out),
               quiet=True)


def check_params(params: dict) -> None:
    """Raise what :func:`run_params` would raise for ``params`` before it runs (an unknown
    key, a scenario that cannot be read, an override out of its key's range), without
    running."""
    _scenario_of(params)


# run_sweep calls it on every point first: a point it refuses stops the sweep before any run
run_params.check = check_params


def _scenario_of(params: dict) -> Scenario:
    unknown = sorted(set(params) - set(RUN_PARAMS))
    if unknown:
        raise ValueError(f"unknown run parameter(s) {', '.join(unknown)}; "
                         f"known: {', '.join(RUN_PARAMS)}")
    return with_overrides(load_scenario(params["scenario"]), params.get("workers"),
                          params.get("peak_factor"), params.get("batch_window_s"))


def _point_name(params: dict) -> str:
    return "_".join(f"{k}-{params[k]}" for k in POINT_KEYS if params.get(k) is not None)


# A sweep's override and the scenario key it sets.
OVERRIDES = {"workers": "city.workers", "peak_factor": "demand.peak_factor",
             "batch_window_s": "dispatch.batch_window_s"}


def with_overrides(scenario: Scenario, workers: int | None = None,
                   peak_factor: float | None = None,
                   batch_window_s: int | None = None) -> Scenario:
    """The scenario with a sweep's fleet size, peak factor or batch window (None: keep),
    checked as the scenario file's keys are: a value of the wrong type or out of its key's
    range is a :class:`ScenarioError` that names the override, its scenario key and the range
    (``batch_window_s: 0 is out of range [1, 86400] (scenario key
    dispatch.batch_window_s)``). A whole number given as a float counts as an integer."""
    given = {"workers": workers, "peak_factor": peak_factor, "batch_window_s": batch_window_s}
    changes = {OVERRIDES[k]: _plain_number(v) for k, v in given.items() if v is not None}
    if not changes:
        return scenario
    try:
        return with_values(scenario, changes)
    except ScenarioError as exc:
        raise ScenarioError([_named(line) for line in exc.errors]) from None


def _plain_number(value: object) -> object:
    """A number as a TOML reader gives it (numpy's too): a whole one as int, another real as
    float; anything else unchanged, for the scenario's check to refuse."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    number = float(value)
    return int(number) if number.is_integer() else number


def _named(line: str) -> str:
    """A scenario error about an overridden key, named by the override first."""
    for name, path in OVERRIDES.items():
        if line.startswith(path + ":"):
            return f"{name}:{line.removeprefix(path + ':')} (scenario key {path})"
    return line


def run(scenario: Scenario, policy: str, seed: int, scale: float, out: Path, *,
        quiet: bool = False, config: DispatchConfig | None = None, trace: str | None = None,
        worker_events: str | None = None, target: str | None = None,
        speed: float = DEFAULT_SPEED) -> dict:
    """Simulate and write the run folder ``out``; return the KPIs. With ``target``
    (HOST:PORT) the simulation drives that running server over gRPC, ``speed`` simulated
    seconds per wall second (0: unpaced); the load it put on the server goes to ``load.json``
    and its headline to ``timing.json`` (:mod:`simulations.remote`)."""
    chosen = policy_named(policy)
    scenario = scenario.scaled(scale) if scale != 1.0 else scenario
    load = None
    if target is None:
        base = config or DispatchConfig()
        world = _world(scenario, seed, base, trace, worker_events)
        with progress_bar(world.end, quiet) as bar:
            simulation = Simulation(scenario, chosen, seed, world.city, world.orders,
                                    chosen.config(base, scenario.dispatch), world.events, bar)
            outcome = run_outside_the_task(simulation.run())
    else:
        if speed < 0:
            raise ValueError(f"--speed: must be 0 (unpaced) or positive, got {speed:g}")
        outcome, world, load = run_outside_the_task(run_remote(
            target, speed, scenario, chosen, seed, config, trace, worker_events, quiet))
    meta = {"scenario": scenario.name, "policy": policy, "seed": seed, "scale": scale}
    kpis = compute_kpis(outcome, meta)
    city = world.city
    start_iso = dt.datetime.fromtimestamp(city.start, dt.timezone.utc).isoformat()
    run_info = meta | {"start": start_iso, "start_unix": city.start, "bbox": list(city.bbox),
                       "workers": len(city.workers), "orders": len(world.orders),
                       "simulated_s": outcome.simulated_s, "trace": trace or ""}
    write_run(out, outcome, kpis, run_info)
    if load is not None:
        write_json(out / "timing.json", timing(outcome) | load_headline(load))
        write_json(out / "load.json", load)
    return kpis


def run_outside_the_task(coroutine: Awaitable[T]) -> T:
    """``asyncio.run(coroutine)``, its result handed out beside the main task rather than as
    the task's result: on the main thread, asyncio.run's last step (restoring the SIGINT
    handler) formats the repr of the task, result and all, twice; a full city's outcome took
    seconds."""
    box: list[T] = []

    async def main() -> None:
        box.append(await coroutine)

    asyncio.run(main())
    return box[0]


def load_headline(load: dict) -> dict:
    """The figures of a ``--target`` run's load that ``timing.json`` (and so the report's
    timing table) shows; ``load.json`` has them all, per RPC method too."""
    latency = {f"load_latency_ms_{k}": v for k, v in load["latency_ms"].items()}
    return {"load_target": load["target"], "load_speed": load["speed"],
            "load_calls": load["calls"], "load_calls_per_s": load["calls_per_s"]} | latency | {
            "load_errors": load["errors"], "load_behind_pace_s_max": load["behind_pace_s_max"]}


@dataclass(frozen=True, slots=True)
class World:
    """What a run simulates: the orders, the city and its workers, the worker status events,
    and the simulated second the run ends at."""

    orders: list
    city: SimCity
    events: list
    end: int


class _Stopped(Exception):
    """The run was stopped by a signal (its cleanup has run)."""


@contextlib.contextmanager
def _stopped_by_sigterm():
    """SIGTERM (as Ctrl-C already does) cancels the run, so that its cleanup runs; the
    cancellation leaves the block as a TargetError that says so."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    signalled = []

    def stop() -> None:
        signalled.append(signal.SIGTERM)
        task.cancel()

    try:
        loop.add_signal_handler(signal.SIGTERM, stop)
    except (ValueError, RuntimeError):  # not the main thread: the caller owns the signals
        yield
        return
    try:
        yield
    except asyncio.CancelledError:
        if not signalled:
            raise
        task.uncancel()
        raise _Stopped() from None
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _world(scenario: Scenario, seed: int, base: DispatchConfig, trace: str | None,
           worker_events: str | None) -> World:
    start_probe = local_time(scenario.day, 0)
    orders = (read_orders(trace, start_probe, base.service.service_types) if trace
              else make_demand(scenario, seed, start_probe))
    span = -(-_end_of_run(scenario, orders, start_probe, base) // DAY_S)
    city = make_sim_city(scenario, seed, span, base)
    events = read_worker_events(worker_events) if worker_events else []
    return World(orders, city, events, _end_of_run(scenario, orders, city.start, base))


async def run_remote(target: str, speed: float, scenario: Scenario, chosen: Policy, seed: int,
                     config: DispatchConfig | None = None, trace: str | None = None,
                     worker_events: str | None = None, quiet: bool = True,
                     simulation: type[Simulation] = Simulation) -> tuple[Outcome, World, dict]:
    """The run against the server at ``target`` (a ``simulation`` of the given class): its
    config in force is the base unless ``config`` is given; ids get a prefix of this run's
    own. Returns the outcome, what was simulated, and the load figures."""
    # imported here: an in-process run (and a sweep's worker) needs neither grpc nor server.py
    import grpc

    from simulations.remote import RemoteEngine
    from simulations.remote_connect import TargetError, config_in_force, connect, for_the_run
    from simulations.remote_codec import RunTranslation

    channel = await connect(target)
    try:
        in_force, _ = await config_in_force(channel)
        base = config or in_force
        world = _world(scenario, seed, base, trace, worker_events)
        run_config = for_the_run(chosen.config(base, scenario.dispatch), in_force)
        translation = RunTranslation.starting_at(world.city.start, time.time(),
                                                 f"sim-{secrets.token_hex(4)}-")
        engine = RemoteEngine(channel, run_config, translation, world.city.start, speed)
        await engine.open()
        try:
            with progress_bar(world.end, quiet) as bar, _stopped_by_sigterm():
                outcome = await simulation(scenario, chosen, seed, world.city, world.orders,
                                           run_config, world.events, bar, engine=engine).run()
        finally:  # also when stopped: a later run on the server must not meet this one's
            await engine.aclose()
        load = engine.load | {
            "target": target, "id_prefix": translation.prefix,
            "server_time_offset_s": translation.offset}
        return outcome, world, load
    except grpc.aio.AioRpcError as error:
        raise TargetError(f"--target {target}: {error.code().name}: {error.details()}") \
            from None
    except _Stopped:
        raise TargetError(f"--target {target}: stopped by SIGTERM; the run's unfinished orders "
                          "were cancelled and its workers taken offline") from None
    finally:
        await channel.close()
