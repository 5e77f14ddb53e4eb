"""``--target``: the simulation drives a real server on 127.0.0.1 over gRPC (the server in a
thread with its own event loop, as the CLI runs its own loop). Hard constraints hold at every
placement (the independent checker, on the schedules the server gives out), nothing is assigned
before it is placed, a second run on the same server is not disturbed by the first, the load
figures are written, a run stopped by SIGTERM still retires what it made, and an unreachable
target is a clear error."""

import asyncio
import dataclasses
import json
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from matcher.model import LinkType, Order, OrderLink, OrderState, WorkerStatus
from matcher.store import MemoryStore
from server import start_server
from simulations.cli import main
from simulations.policies import policy
from simulations.remote_codec import RunTranslation
from simulations.runner import run_remote
from simulations.scenario import load_scenario
from tests.builders import make_worker
from tests.simulations.test_simulation import CheckedSimulation, event_kinds_none_before_placement

SCALE = 0.02
SPEED = 200_000.0  # simulated seconds per wall second: a simulated day in under half a second


class ThreadedServer:
    """``server.start_server`` on 127.0.0.1:0 (memory store) in a thread of its own."""

    def __init__(self, config) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.running = self._run(start_server(config, "127.0.0.1:0", store=MemoryStore()))
        self.target = f"127.0.0.1:{self.running.port}"

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def stop(self) -> None:
        self._run(self.running.stop(0))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def target(config):
    server = ThreadedServer(config)
    yield server.target
    server.stop()


def _scenario():
    """The weekday, tiny, credit held still (no feedback, no no-shows) so that each plan can
    be checked against its worker as the server holds it."""
    s = load_scenario("weekday").scaled(SCALE)
    behaviour = dataclasses.replace(s.behaviour, feedback_share=0.0, no_show_base=0.0,
                                    no_show_low_credit=0.0)
    return dataclasses.replace(s, behaviour=behaviour)


class RemoteChecked(CheckedSimulation):
    """The checking simulation of test_simulation, on the server: plans and workers are read
    over gRPC (GetWorkerSchedule) whenever the server places a job."""

    last: "RemoteChecked"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.problems, self.checked = [], 0
        RemoteChecked.last = self


@pytest.mark.parametrize("name", ["batched", "instant"])
def test_every_placement_on_the_server_passes_the_checker(target, name):
    outcome, world, load = asyncio.run(run_remote(target, 0, _scenario(), policy(name), 5,
                                                  simulation=RemoteChecked))
    sim = RemoteChecked.last
    assert sim.problems == []
    assert sim.checked > 10
    served = sum(t.status == "served" for t in outcome.orders)
    assert served > 10
    assert load["calls"] > len(world.orders) and load["errors"] == 0
    assert load["id_prefix"].startswith("sim-") and load["server_time_offset_s"] % 86400 == 0


def test_run_against_a_server_writes_the_run_folder_with_its_load(config, tmp_path):
    server = ThreadedServer(config)
    try:
        for out in (tmp_path / "first", tmp_path / "second"):  # the second on the same server
            assert main(["run", "weekday", "--scale", str(SCALE), "--seed", "2", "--quiet",
                         "--target", server.target, "--speed", str(SPEED),
                         "--out", str(out)]) == 0
            # the run's workers are retired: offline, and in no skill's nearest-worker pool
            retired = server._run(server.running.engine.store.workers())
            assert retired and all(w.status == WorkerStatus.OFFLINE and not w.skills
                                   for w in retired)
    finally:
        server.stop()
    target = server.target
    first, second = (json.loads((tmp_path / n / "kpis.json").read_text())
                     for n in ("first", "second"))
    assert first["orders_served"] > 10
    # the first run's workers and orders are retired: the second sees a server of its own
    # (rounds follow the pace; credit decay, under top_tier_share, the wall clock)
    differ = {k for k in first if first[k] != second[k]}
    assert differ <= {"rounds", "top_tier_share"}, {k: (first[k], second[k]) for k in differ}
    kinds = event_kinds_none_before_placement(tmp_path / "second")
    assert {"placed", "offered", "accepted", "started", "completed"} <= kinds
    load = json.loads((tmp_path / "second" / "load.json").read_text())
    assert load["target"] == target and load["speed"] == SPEED
    assert {"SubmitOrders", "Dispatch", "RespondToOffer", "CompleteOrder"} <= set(load["methods"])
    assert set(load["latency_ms"]) == {"p50", "p90", "p99", "max"}
    assert load["calls_per_s"] > 0 and load["errors"] == 0
    timing = json.loads((tmp_path / "second" / "timing.json").read_text())
    assert timing["load_calls"] == load["calls"] and "load_latency_ms_p99" in timing
    assert "load_calls_per_s" in (tmp_path / "second" / "index.html").read_text()


def test_a_run_ignores_an_order_it_did_not_submit(config, tmp_path):
    """A pending order from outside the run (no prefix of its own) comes back in the run's
    Dispatch answers (a round takes every pending order): the run leaves it out and still
    accounts for every order of its own."""
    server = ThreadedServer(config)
    engine = server.running.engine
    try:
        past = int(time.time()) - 2 * 86400  # its window is over before the run's first round
        outside = Order("o2", "c-outside", "cleaning", 1, 31.2, 121.4, past + 3600,
                        past + 7200, 3600)
        server._run(engine.submit_orders([outside], past))
        assert server._run(engine.store.order("o2")).state == OrderState.PENDING
        outcome, world, load = asyncio.run(run_remote(server.target, 0, _scenario(),
                                                      policy("batched"), 4))
        own = sorted(o.order.order_id for o in world.orders)
        assert sorted(t.order_id for t in outcome.orders) == own
        assert {row[2] for row in outcome.log.rows} <= set(own) | {""}
        assert sum(t.status == "served" for t in outcome.orders) > 10
        assert sum(r.assigned for r in outcome.rounds) <= len(own)
        assert load["errors"] == 0
        # the run's round expired it (a round takes every pending order), nothing more
        assert server._run(engine.store.order("o2")).state == OrderState.EXPIRED
    finally:
        server.stop()


def test_a_target_without_a_server_is_a_clear_error(tmp_path, capsys):
    with socket.socket() as s:  # a free port: bound, never listened on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        code = main(["run", "weekday", "--scale", str(SCALE), "--quiet",
                     "--target", f"127.0.0.1:{port}", "--out", str(tmp_path / "run")])
    assert code == 2
    assert f"127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()
    assert main(["run", "weekday", "--target", "no-port", "--out", str(tmp_path / "x")]) == 2
    assert "HOST:PORT" in capsys.readouterr().err


def test_the_translation_shifts_by_whole_days_and_round_trips():
    start = 1_800_000_000 - 1_800_000_000 % 86400
    t = RunTranslation.starting_at(start, start + 5 * 86400 + 10, "sim-ab-")
    assert t.offset == 6 * 86400 and t.time_out(start) >= start + 5 * 86400 + 10
    worker = make_worker("w1")
    sent = t.worker_out(worker)
    assert sent.worker_id == "sim-ab-w1"
    assert sent.shifts[0].start == worker.shifts[0].start + t.offset
    assert t.worker_in(sent) == worker
    order = Order("o2", "c1", "cleaning", 1, 31.2, 121.4, start + 3600, start + 7200, 3600,
                  blocked_worker_ids=frozenset({"w1"}),
                  link=OrderLink("o1", LinkType.START_GAP, 0, 3600))
    out = t.order_out(order)
    assert (out.order_id, out.customer_id, out.link.order_id) == ("sim-ab-o2", "sim-ab-c1",
                                                                  "sim-ab-o1")
    assert out.blocked_worker_ids == {"sim-ab-w1"}
    assert out.earliest_start == start + 3600 + t.offset
    assert t.order_in(out) == order
    assert t.ours("sim-ab-o2") and not t.ours("sim-cd-o2")


_DEFAULT_SIGINT_THEN_MAIN = ("import runpy, signal, sys; "
                             "signal.signal(signal.SIGINT, signal.default_int_handler); "
                             "sys.argv[0] = 'simulations'; "
                             "runpy.run_module('simulations', run_name='__main__', alter_sys=True)")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_by_a_signal_retires_its_orders_and_workers(config, tmp_path, stop):
    server = ThreadedServer(config)
    store = server.running.engine.store
    try:
        # a test run in the background may have inherited SIGINT ignored; Ctrl-C is not. The
        # child restores it itself: a preexec_fn would run Python in the forked copy of this
        # process, whose gRPC threads' fork handlers then abort it now and then
        run = subprocess.Popen(
            [sys.executable, "-c", _DEFAULT_SIGINT_THEN_MAIN, "run", "weekday", "--scale",
             str(SCALE), "--seed", "3", "--quiet", "--target", server.target, "--speed", "2000",
             "--out", str(tmp_path / "run")], stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not server._run(store.orders_in(OrderState.ASSIGNED)):  # mid-run, jobs planned
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        run.send_signal(stop)
        _, err = run.communicate(timeout=120)
        if stop == signal.SIGTERM:
            assert run.returncode == 2 and "stopped by SIGTERM" in err, err
        else:  # Ctrl-C: Python's own ending (KeyboardInterrupt), after the cleanup
            assert run.returncode != 0 and "KeyboardInterrupt" in err, err
        workers = server._run(store.workers())
        assert workers and {w.status for w in workers} == {WorkerStatus.OFFLINE}
        for state in (OrderState.PENDING, OrderState.OFFERED, OrderState.ASSIGNED):
            assert server._run(store.orders_in(state)) == []
    finally:
        server.stop()
