"""Whole runs at a small scale: hard constraints hold at every placement (the independent
checker), nothing is assigned before it is placed, the same seed gives the same kpis.json bytes,
and compare writes its table."""

import asyncio
import csv
import dataclasses
import json

import pytest

from matcher.config import DispatchConfig
from matcher.model import EventType
from simulations.city import make_sim_city
from simulations.compare import compare
from simulations.demand import make_demand
from simulations.policies import policy
from simulations.runner import run, run_outside_the_task, run_params
from simulations.scenario import load_scenario
from simulations.simulator import Simulation, _end_of_run
from simulations.synthetic_city import local_time
from tests.checker import check_plans, check_worker_day

SCALE = 0.03


def _scenario():
    """The weekday at a small scale, with credit held still (no feedback, no no-shows) so
    that the plans can be checked against the workers as they are, certificates that
    expire during the run, and short re-optimisations (each searches to its time limit)."""
    s = load_scenario("weekday").scaled(SCALE)
    behaviour = dataclasses.replace(s.behaviour, feedback_share=0.0, no_show_base=0.0,
                                    no_show_low_credit=0.0)
    city = dataclasses.replace(s.city, expiring_share=0.1)
    dispatch = dataclasses.replace(s.dispatch, reoptimise_time_limit_s=0.2)
    return dataclasses.replace(s, behaviour=behaviour, city=city, dispatch=dispatch)


class CheckedSimulation(Simulation):
    """A simulation that checks each worker's plan, whenever the engine places a job with it,
    with the project's independent checker (the jobs not yet started)."""

    problems: list[str]
    checked: int
    reoptimised: int

    async def _drain(self, t):
        events = await self.store.events_after(self.cursor, 1 << 30)
        placed = {(e.worker_id, e.order_id) for e in events
                  if e.type in (EventType.OFFERED, EventType.ASSIGNED)}
        orders = {k: tr.sim.order for k, tr in self.tracks.items()}
        now = self.now(t)
        for worker_id in sorted({w for w, _ in placed}):
            worker = await self.store.worker(worker_id)
            future = [j for j in await self.store.plan(worker_id) if j.start >= now]
            self.problems += check_worker_day(self.engine.config, worker, future, orders,
                                              await self.store.blocked())
            self.checked += 1
        for _, order_id in placed:
            if self.tracks[order_id].sim.placed > t:
                self.problems.append(f"{order_id} placed by the engine before it was revealed")
        await super()._drain(t)

    async def _reoptimise(self, t):
        """Re-optimisation rewrites many plans at once (it may empty a plan without an event):
        every worker's plan is checked after it, with the teams and links across plans."""
        await super()._reoptimise(t)
        now = self.now(t)
        workers = {w.worker_id: w for w in await self.store.workers()}
        plans = {w: [j for j in await self.store.plan(w) if j.start >= now] for w in workers}
        orders = {k: tr.sim.order for k, tr in self.tracks.items()}
        self.problems += check_plans(self.engine.config, workers, plans, orders,
                                     await self.store.blocked())
        self.reoptimised += 1


@pytest.mark.parametrize("name", ["reoptimise", "batched", "instant", "greedy"])
def test_every_placement_passes_the_checker(name):
    scenario = _scenario()
    base = DispatchConfig()
    config = policy(name).config(base, scenario.dispatch)
    start = local_time(scenario.day, 0)
    orders = make_demand(scenario, 4, start)
    span = -(-_end_of_run(scenario, orders, start, base) // 86400)
    city = make_sim_city(scenario, 4, span, base)
    sim = CheckedSimulation(scenario, policy(name), 4, city, orders, config)
    sim.problems, sim.checked, sim.reoptimised = [], 0, 0
    outcome = asyncio.run(sim.run())
    assert sim.problems == []
    assert sim.checked > 20
    assert sim.reoptimised > 0 if policy(name).reoptimise else sim.reoptimised == 0
    assert sum(t.status == "served" for t in outcome.orders) > 20


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    params = {"scenario": "monday_shortage", "policy": "batched", "seed": 3, "scale": SCALE}
    first = run_params(params | {"out": str(root / "a")})
    second = run_params(params | {"out": str(root / "b")})
    return root, first, second


def test_same_seed_same_kpis_bytes(two_runs):
    root, first, second = two_runs
    assert (root / "a" / "kpis.json").read_bytes() == (root / "b" / "kpis.json").read_bytes()
    assert first == second
    assert first["orders_placed"] > 50 and 0 < first["answer_rate"] <= 1


def event_kinds_none_before_placement(folder) -> set[str]:
    """Check a run folder: something was assigned, and no assignment or event of an order comes
    before its placement. Returns the kinds of event the run logged."""
    with open(folder / "orders.csv", newline="") as f:
        orders = list(csv.DictReader(f))
    placed = {o["order_id"]: int(o["placed_s"]) for o in orders}
    assert any(o["assigned_s"] for o in orders)
    for o in orders:
        if o["assigned_s"]:
            assert int(o["assigned_s"]) >= int(o["placed_s"])
            assert float(o["wait_s"]) >= 0
    with open(folder / "events.csv", newline="") as f:
        events = list(csv.DictReader(f))
    for e in events:
        if e["order_id"] in placed and e["kind"] != "placed":
            assert int(e["time_s"]) >= placed[e["order_id"]], e
    return {e["kind"] for e in events}


def test_nothing_is_assigned_before_it_is_placed(two_runs):
    root, _, _ = two_runs
    kinds = event_kinds_none_before_placement(root / "a")
    assert {"placed", "offered", "accepted", "completed"} <= kinds


def test_run_folder_has_the_interface_files(two_runs):
    root, first, _ = two_runs
    folder = root / "a"
    for name in ("kpis.json", "kpis.csv", "orders.csv", "workers.csv", "events.csv",
                 "rounds.csv", "run.json", "timing.json"):
        assert (folder / name).exists(), name
    with open(folder / "kpis.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["kpi", "value"] and len(rows) - 1 == len(first)
    run_info = json.loads((folder / "run.json").read_text())
    assert run_info["policy"] == "batched" and len(run_info["bbox"]) == 4
    assert "wall_s" not in first and "wall_s" in json.loads((folder / "timing.json").read_text())
    with open(folder / "orders.csv", newline="") as f:
        statuses = {r["status"] for r in csv.DictReader(f)}
    assert statuses <= {"served", "unserved", "cancelled"} and "served" in statuses


def test_compare_writes_one_table(tmp_path):
    scenario = load_scenario("weekday")
    rows = compare(scenario, ["instant", "batched"], 2, 0.02, tmp_path, quiet=True)
    assert [r["policy"] for r in rows] == ["instant", "batched"]
    with open(tmp_path / "comparison.csv", newline="") as f:
        table = {row[0]: row[1:] for row in csv.reader(f)}
    assert table["kpi"] == ["instant", "batched"]
    placed = [float(v) for v in table["orders_placed"]]
    assert placed[0] == placed[1] == rows[0]["orders_placed"]  # same demand
    md = (tmp_path / "comparison.md").read_text()
    assert "instant" in md and "batched" in md
    for policy in ("instant", "batched"):
        assert (tmp_path / policy / "kpis.json").exists()
        assert (tmp_path / policy / "index.html").exists()
    assert (tmp_path / "compare.html").exists()


def test_sweep_runs_each_point_in_its_own_folder(tmp_path):
    from simulations.cli import main
    assert main(["sweep", "weekday", "--scale", "0.02", "--seed", "3", "--processes", "1",
                 "--grid", "batch_window_s=60,600", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "sweep.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [int(float(r["batch_window_s"])) for r in table] == [60, 600]
    for window in (60, 600):
        folder = tmp_path / "runs" / f"seed-3_scale-0.02_batch_window_s-{window}"
        kpis = json.loads((folder / "kpis.json").read_text())
        assert float(table[[60, 600].index(window)]["answer_rate"]) == kpis["answer_rate"]


def test_run_params_refuses_an_unknown_key(tmp_path):
    from simulations.runner import run_params
    with pytest.raises(ValueError, match="fleet"):
        run_params({"scenario": "weekday", "fleet": 10, "out": str(tmp_path)})


def test_overrides_are_checked_as_the_scenario_is(tmp_path):
    from simulations.runner import run_params, with_overrides
    from simulations.scenario import ScenarioError
    scenario = load_scenario("weekday")
    message = (r"batch_window_s: 0 is out of range \[1, 86400\] "
               r"\(scenario key dispatch.batch_window_s\)")
    with pytest.raises(ScenarioError, match=message):
        with_overrides(scenario, batch_window_s=0)
    with pytest.raises(ScenarioError, match=r"workers: expected an integer"):
        with_overrides(scenario, workers=10.5)
    with pytest.raises(ScenarioError, match=message):  # refused before it runs (or hangs)
        run_params({"scenario": "weekday", "batch_window_s": 0, "out": str(tmp_path / "r")})
    assert not (tmp_path / "r").exists()
    valid = with_overrides(scenario, workers=500.0, peak_factor=3, batch_window_s=120)
    assert (valid.city.workers, valid.demand.peak_factor, valid.dispatch.batch_window_s) == (
        500, 3.0, 120)
    assert type(valid.city.workers) is int


def test_a_sweep_with_an_override_out_of_range_runs_nothing(tmp_path, capsys):
    from simulations.cli import main
    assert main(["sweep", "weekday", "--scale", "0.02", "--processes", "1",
                 "--grid", "batch_window_s=30,0", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "grid point {'batch_window_s': 0} refused, no run started: batch_window_s: 0 is " \
           "out of range [1, 86400] (scenario key dispatch.batch_window_s)" in err, err
    assert not (tmp_path / "runs").exists()  # not even the valid point ran


def test_a_run_hands_out_its_result_without_formatting_it():
    """asyncio.run reprs its main task at the end (restoring the SIGINT handler), result and
    all; a run's outcome is handed out beside the task, so it is never formatted."""
    formatted = []

    class Outcome:
        def __repr__(self) -> str:
            formatted.append(self)
            return "Outcome()"

    async def simulate() -> Outcome:
        return Outcome()

    assert isinstance(run_outside_the_task(simulate()), Outcome)
    assert formatted == []


def test_each_served_job_counts_the_leg_its_worker_drove(two_runs):
    """A one-worker job's travel is the leg from the worker's last served job of that service
    day (from home for its first): a job put before it, or one before it cancelled, after it
    was placed changed that leg from what its assignment said (and the KPIs counted that)."""
    from geo import haversine_km
    from matcher.service_day import ServiceCalendar

    root, _, _ = two_runs
    config = DispatchConfig()
    day = ServiceCalendar(config.service.timezone).day
    start = json.loads((root / "a" / "run.json").read_text())["start_unix"]
    with open(root / "a" / "workers.csv", newline="") as f:
        homes = {w["worker_id"]: (float(w["lat"]), float(w["lng"])) for w in csv.DictReader(f)}
    with open(root / "a" / "orders.csv", newline="") as f:
        # (a team job is a stop of each of its workers; its travel_km is theirs summed)
        visits = sorted(((w, int(o["start_s"]), o) for o in csv.DictReader(f)
                         if o["status"] == "served" for w in o["worker_id"].split()),
                        key=lambda visit: visit[:2])
    last: dict[str, tuple[int, float, float]] = {}
    checked = 0
    for worker_id, start_s, o in visits:
        today, here = day(start + start_s), (float(o["lat"]), float(o["lng"]))
        before = last.get(worker_id)
        origin = before[1:] if before and before[0] == today else homes[worker_id]
        km = haversine_km(*origin, *here) * config.travel.detour_factor
        if o["worker_id"] == worker_id:
            # (orders.csv rounds places to 1e-4 degrees, workers.csv homes to 1e-3: up to
            # 0.1 km of road)
            assert abs(float(o["travel_km"]) - km) < 0.12, o
            checked += 1
        last[worker_id] = (today, *here)
    assert checked > 50
