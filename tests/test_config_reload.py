"""Config reload over gRPC and SIGHUP: validated first, swapped in one step, the old config kept
when the new one is invalid; every assignment carries the hash of the config that made it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time

import grpc
import pytest

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc
from matcher import config_reload, metrics
from matcher.config import (CreditFloorConfig, DispatchConfig, LatenessConfig, TierConfig,
                            key_paths, parse_config, to_toml)
from matcher.config_reload import RESTART_ONLY
from server import IDLE_RECHECK_S, start_server
from tests.builders import at
from tests.conftest import ROOT
from tests.test_server import AS_OF, _free_port, _wait_serving, order_pb, ts, worker_pb

HEAVIER_TRAVEL = "[weights]\ntravel = 2.5\n"


def instant(order: pb.Order) -> pb.Order:
    order.mode = pb.DISPATCH_MODE_INSTANT
    return order



@contextlib.asynccontextmanager
async def served(config: DispatchConfig, path=None):
    """A server on 127.0.0.1 (started with the config file ``path``, if given) and a stub on
    a real channel to it: (the running server, the stub)."""
    running = await start_server(config, "127.0.0.1:0",
                                 config_path=None if path is None else str(path))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield running, dispatch_pb2_grpc.DispatchServiceStub(channel)
    finally:
        await running.stop(0)

async def test_a_valid_reload_is_in_force_and_stamps_later_assignments(stub, config):
    await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
    first = await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[instant(order_pb("o1"))], as_of_time=ts(AS_OF)))
    assert first.assignments[0].config_hash == config.hash
    # (asked before the reload too: its answer is kept per config, and must not outlive it)
    got = await stub.GetConfig(pb.GetConfigRequest())
    assert got.config_hash == config.hash and parse_config(got.config_toml) == config

    reply = await stub.ReloadConfig(pb.ReloadConfigRequest(config_toml=HEAVIER_TRAVEL))
    new = parse_config(HEAVIER_TRAVEL)
    assert reply.applied and not reply.errors and reply.config_hash == new.hash != config.hash
    got = await stub.GetConfig(pb.GetConfigRequest())
    assert got.config_hash == new.hash and parse_config(got.config_toml) == new

    # the new config makes the later assignments, in both ways of dispatching ...
    second = await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[instant(order_pb("o2", earliest_start=at(13), latest_start=at(14)))],
        as_of_time=ts(AS_OF)))
    await stub.SubmitOrders(pb.SubmitOrdersRequest(
        orders=[order_pb("o3", earliest_start=at(15), latest_start=at(16), duration=3600)],
        as_of_time=ts(AS_OF)))
    third = await stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF)))
    assert [a.config_hash for a in second.assignments] == [new.hash]
    assert [a.config_hash for a in third.assignments] == [new.hash]
    travel = next(t for t in third.assignments[0].score_terms if t.name == "travel")
    assert travel.weight == 2.5
    # ... and the earlier one still says which config made it
    kept = (await stub.GetOrder(pb.GetOrderRequest(order_id="o1"))).order
    assert kept.assignment.config_hash == config.hash
    assert (await stub.GetOrder(pb.GetOrderRequest(order_id="o3"))).order.assignment \
        .config_hash == new.hash


@pytest.mark.parametrize(("text", "expected"), [
    ("[weights]\ntravel = -1.0\n", "weights.travel: -1.0 is out of range [0.0, 1000.0]"),
    ("[weights]\ntravel = \"fast\"\n", "weights.travel: expected a number in [0.0, 1000.0]"),
    ("[weights]\nspeed = 1.0\n", "weights.speed: unknown key (allowed: "),
    ("[solver]\nmax_rounds = 0\n", "solver.max_rounds: 0 is out of range [1, 10000]"),
    ("[weights\n", "<toml>:"),
    ("[server]\nlisten = \"127.0.0.1:1\"\n", "server.listen: takes effect only on a restart"),
    ("[store]\nurl = \"redis://127.0.0.1:1/0\"\n", "store.url: takes effect only on a restart"),
    ("[metrics]\nport = 9100\n", "metrics.port: takes effect only on a restart"),
])
async def test_an_invalid_reload_keeps_the_config_in_force(stub, config, text, expected):
    reply = await stub.ReloadConfig(pb.ReloadConfigRequest(config_toml=text))
    assert not reply.applied and reply.config_hash == config.hash
    assert any(e.startswith(expected) for e in reply.errors), reply.errors
    assert (await stub.GetConfig(pb.GetConfigRequest())).config_hash == config.hash


async def test_every_problem_of_a_reload_is_listed(stub):
    reply = await stub.ReloadConfig(pb.ReloadConfigRequest(
        config_toml="[weights]\ntravel = -1\ncredit = 2000\n[solver]\nmax_rounds = 1.5\n"))
    assert not reply.applied
    assert sorted(e.split(":")[0] for e in reply.errors) == [
        "solver.max_rounds", "weights.credit", "weights.travel"]


async def test_an_empty_reload_rereads_the_file_the_server_started_with(config, tmp_path):
    path = tmp_path / "dispatch.toml"
    path.write_text(to_toml(config))
    running = await start_server(config, "127.0.0.1:0", config_path=str(path))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            path.write_text(HEAVIER_TRAVEL)
            reply = await stub.ReloadConfig(pb.ReloadConfigRequest())
            assert reply.applied and reply.config_hash == parse_config(HEAVIER_TRAVEL).hash
            path.write_text("[weights]\ntravel = -3\n")
            reply = await stub.ReloadConfig(pb.ReloadConfigRequest())
            assert not reply.applied and reply.config_hash == parse_config(HEAVIER_TRAVEL).hash
            assert reply.errors[0].startswith("weights.travel: -3.0 is out of range")
    finally:
        await running.stop(0)


async def test_an_empty_reload_without_a_config_file_is_refused(stub, refused):
    error, _, _ = await refused(stub.ReloadConfig(pb.ReloadConfigRequest()),
                                grpc.StatusCode.FAILED_PRECONDITION)
    assert "config_toml" in error.details()


async def test_a_request_in_flight_keeps_the_config_it_started_with(config):
    """A Dispatch that started before a reload (here: waiting for the engine, which a write
    holds) plans and stamps with the old config; the reload waits for it, then applies."""
    running = await start_server(config, "127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            await stub.UpsertWorkers(pb.UpsertWorkersRequest(workers=[worker_pb("w1")]))
            await stub.SubmitOrders(pb.SubmitOrdersRequest(orders=[order_pb("o1")],
                                                           as_of_time=ts(AS_OF)))
            engine = running.engine
            async with engine._lock:  # a write in progress
                dispatch = asyncio.ensure_future(
                    stub.Dispatch(pb.DispatchRequest(as_of_time=ts(AS_OF))))
                await asyncio.sleep(0.3)  # the Dispatch has started and waits for the lock
                reload = asyncio.ensure_future(
                    stub.ReloadConfig(pb.ReloadConfigRequest(config_toml=HEAVIER_TRAVEL)))
                await asyncio.sleep(0.3)
                assert not dispatch.done() and not reload.done()
            done, reloaded = await dispatch, await reload
            assert reloaded.applied
            assert [a.config_hash for a in done.assignments] == [config.hash]
            travel = next(t for t in done.assignments[0].score_terms if t.name == "travel")
            assert travel.weight == config.weights.travel
            assert engine.config.hash == reloaded.config_hash != config.hash
    finally:
        await running.stop(0)


async def test_a_pinned_context_sees_one_config_across_a_swap(config):
    from matcher.engine import Engine
    from matcher.store import MemoryStore
    engine = Engine(MemoryStore(), config)
    new = parse_config(HEAVIER_TRAVEL)
    try:
        with engine.pinned():
            await engine.reload(new)
            assert engine.config == config  # the request that was running keeps its config
        assert engine.config == new
    finally:
        engine.close()


def test_sighup_rereads_the_config_file(tmp_path):
    port = _free_port()
    address = f"127.0.0.1:{port}"
    path = tmp_path / "dispatch.toml"
    base = f'[server]\nlisten = "{address}"\nshutdown_grace_s = 1.0\n'
    path.write_text(base)
    proc = subprocess.Popen([sys.executable, str(ROOT / "server.py"), "--config", str(path)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        _wait_serving(address, time.monotonic() + 30)
        with grpc.insecure_channel(address) as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            before = stub.GetConfig(pb.GetConfigRequest(), timeout=10).config_hash
            path.write_text(base + HEAVIER_TRAVEL)
            proc.send_signal(signal.SIGHUP)
            expected = parse_config(base + HEAVIER_TRAVEL).hash
            assert _hash_becomes(stub, expected), "SIGHUP did not put the new file in force"
            path.write_text(base + "[weights]\ntravel = -1\n")  # invalid: the old one stays
            proc.send_signal(signal.SIGHUP)
            time.sleep(1.0)
            assert stub.GetConfig(pb.GetConfigRequest(), timeout=10).config_hash == expected
            assert before != expected
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert b"config reload from" in stderr and b"refused" in stderr


def _hash_becomes(stub, expected: str, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if stub.GetConfig(pb.GetConfigRequest(), timeout=10).config_hash == expected:
            return True
        time.sleep(0.1)
    return False


# ---------------------------------------------------------------- hashes mean what they say

async def test_a_reload_of_an_equal_config_answers_with_the_hash_in_force(stub, config):
    """-0.0 == 0.0: a text that says -0.0 is the config in force, under its hash."""
    text = to_toml(config).replace("interval_s = 0.0", "interval_s = -0.0")
    assert text != to_toml(config)
    reply = await stub.ReloadConfig(pb.ReloadConfigRequest(config_toml=text))
    got = await stub.GetConfig(pb.GetConfigRequest())
    assert reply.applied and reply.config_hash == got.config_hash == config.hash


def test_minus_zero_reads_as_zero():
    """Equal configs hash equal: -0.0 reads as 0.0 (json, hence the hash, prints them apart)."""
    config = parse_config("[optimizer]\ninterval_s = -0.0\n[tiers.all]\nscore_bonus = -0.0\n")
    assert config.hash == parse_config("[optimizer]\ninterval_s = 0\n[tiers.all]\n").hash


def _odd_strings() -> DispatchConfig:
    """Names and values TOML cannot hold raw (DEL, C0 controls, quotes, backslashes) or that
    an ASCII-only writer escapes as surrogates (beyond U+FFFF)."""
    base = DispatchConfig()
    names = ("del\x7f", "smile \U0001F600", 'quote" back\\slash', "tab\tnul\x00", "c1\x85")
    return dataclasses.replace(
        base, service=dataclasses.replace(base.service, service_types=names),
        store=dataclasses.replace(base.store, prefix="hd\x7f\U0001F600"),
        lateness=((names[1], LatenessConfig()),),
        credit_floor=((names[0], CreditFloorConfig(70.0)),),
        tiers=(("all\x7f", TierConfig()), ("top \U0001F600", TierConfig(90.0))))


@pytest.mark.parametrize("config", [
    DispatchConfig(),
    dataclasses.replace(DispatchConfig(), tiers=()),  # none, where the default has some
    _odd_strings(),
], ids=["default", "no-tiers", "odd-strings"])
def test_the_toml_text_of_a_config_reads_back_to_it_and_its_hash(config):
    parsed = parse_config(to_toml(config))
    assert parsed == config and parsed.hash == config.hash


async def test_get_config_answers_a_text_that_reads_back_to_its_hash(stub, config):
    """After a reload to a config without tiers, or with a tier name that needs escaping."""
    for tiers in ((), (("probation\x7f", TierConfig()),)):
        wanted = dataclasses.replace(config, tiers=tiers)
        reply = await stub.ReloadConfig(pb.ReloadConfigRequest(config_toml=to_toml(wanted)))
        assert reply.applied and reply.config_hash == wanted.hash, reply.errors
        got = await stub.GetConfig(pb.GetConfigRequest())
        assert got.config_hash == wanted.hash
        assert parse_config(got.config_toml).hash == got.config_hash


# ---------------------------------------------------------------- a file that cannot be read

NOT_UTF8 = "# 上海\n".encode("gbk")  # a comment saved in GBK


async def test_an_empty_reload_refuses_a_file_that_is_not_utf8(config, tmp_path):
    path = tmp_path / "dispatch.toml"
    path.write_text(to_toml(config))
    async with served(config, path) as (_, stub):
        path.write_bytes(NOT_UTF8 + HEAVIER_TRAVEL.encode())
        reply = await stub.ReloadConfig(pb.ReloadConfigRequest())
        assert not reply.applied and reply.config_hash == config.hash
        assert [e.split(": ")[0] for e in reply.errors] == [str(path)]


async def test_sighup_refuses_a_file_that_is_not_utf8_with_a_log_line_and_a_count(
        config, tmp_path, caplog):
    path = tmp_path / "dispatch.toml"
    path.write_bytes(NOT_UTF8 + HEAVIER_TRAVEL.encode())
    async with served(config, path) as (running, _):
        refused = _reloads("refused")
        outcome = await running.reload_file()
        assert not outcome.applied and outcome.config == config
        assert outcome.errors[0].startswith(f"{path}: ")
        assert _reloads("refused") == refused + 1
        assert f"config reload from {path} refused" in caplog.text


async def test_sighup_logs_and_refuses_any_failure(config, tmp_path, caplog, monkeypatch):
    """A signal's reload has nobody to raise to: whatever goes wrong is logged, and refused."""
    path = tmp_path / "dispatch.toml"
    path.write_text(to_toml(config))

    async def broken(engine, path):
        raise RuntimeError("disk on fire")

    async with served(config, path) as (running, _):
        monkeypatch.setattr(config_reload, "reload_file", broken)
        outcome = await running.reload_file()
        assert not outcome.applied and outcome.config == config
        assert outcome.errors == ("RuntimeError: disk on fire",)
        assert "disk on fire" in caplog.text


def _reloads(result: str) -> float:
    return metrics.REGISTRY.get_sample_value("homedispatch_config_reloads_total",
                                             {"result": result}) or 0.0


# ---------------------------------------------------------------- periodic work follows

def _every(config: DispatchConfig, interval_s: float) -> DispatchConfig:
    return dataclasses.replace(
        config, optimizer=dataclasses.replace(config.optimizer, interval_s=interval_s))


async def _periodic_runs(config: DispatchConfig, then: DispatchConfig, wait_s: float
                         ) -> list[float]:
    """When the periodic re-optimisations of a server started with ``config`` ran (seconds
    after a reload to ``then``, 0.2 s after the start), within ``wait_s`` of that reload."""
    running = await start_server(config, "127.0.0.1:0")
    engine, runs = running.engine, []
    optimize = engine.optimize_plans

    async def timed(*args, **kwargs):
        runs.append(time.monotonic())
        return await optimize(*args, **kwargs)

    engine.optimize_plans = timed
    try:
        await asyncio.sleep(0.2)
        outcome = await config_reload.reload(engine, to_toml(then), "test")
        assert outcome.applied and engine.config.hash == then.hash
        reloaded = time.monotonic()
        await asyncio.sleep(wait_s)
        return [t - reloaded for t in runs if t > reloaded]
    finally:
        await running.stop(0)


async def test_switching_periodic_optimisation_off_stops_it_at_once(config):
    assert await _periodic_runs(_every(config, 1.0), _every(config, 0.0), 2.0) == []


async def test_shortening_the_periodic_interval_takes_effect_within_a_recheck(config):
    runs = await _periodic_runs(_every(config, 3600.0), _every(config, 0.1), 1.5)
    assert runs and runs[0] <= IDLE_RECHECK_S + 0.2


# ---------------------------------------------------------------- the docs cannot drift

def _general(path: str) -> str:
    """``tiers.<name>.min_score`` and ``tiers.<tier>.min_score`` are the same key."""
    return re.sub(r"<[a-z_]+>", "<>", path)


def _readme_reference() -> dict[str, list[str]]:
    """The rows of the README's Config reference table: key path -> its cells."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Config reference", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([^`]+)`", cells[0]) if line.startswith("|") else None
        if match:
            rows[_general(match.group(1))] = cells[1:]
    return rows


def test_every_config_key_is_documented_in_the_readme_with_default_unit_and_effect():
    rows = _readme_reference()
    for path in key_paths():
        cells = rows.get(_general(path))
        assert cells is not None, f"README Config reference lacks a row for `{path}`"
        assert len(cells) == 3 and all(cells), f"`{path}`: default, unit/range, effect: {cells}"
    assert set(rows) == {_general(p) for p in key_paths()}, "README documents unknown keys"


def test_every_config_key_is_in_the_shipped_file():
    text = (ROOT / "config" / "dispatch.toml").read_text(encoding="utf-8")
    tables = {f.name for f in __import__("dataclasses").fields(DispatchConfig)
              if "table_of" in f.metadata}
    for path in key_paths():
        section, _, key = path.partition(".")
        if section in tables:  # documented by a (possibly commented) example table
            key = key.split(".", 1)[1]
            header = rf"^#?\s*\[{section}\.[^\]]+\]"
        else:
            header = rf"^\[{section}\]"
        found = re.search(header + r"(?:\n(?!\[).*)*?\n#?\s*" + re.escape(key) + r"\s*=",
                          text, re.M)
        assert found, f"config/dispatch.toml lacks `{path}`"


def test_restart_only_keys_exist():
    paths = set(key_paths())
    for path in RESTART_ONLY:
        assert path in paths or any(p.startswith(path + ".") for p in paths), path


async def _reload_replays_by_request_id(stub, refused):
    """The same request_id and text get the first answer without reloading again (another
    reload in between stays in force); another text under that id is ALREADY_EXISTS."""
    request = pb.ReloadConfigRequest(config_toml=HEAVIER_TRAVEL, request_id="reload-1")
    first = await stub.ReloadConfig(request)
    assert first.applied and first.config_hash == parse_config(HEAVIER_TRAVEL).hash
    between = await stub.ReloadConfig(pb.ReloadConfigRequest(
        config_toml="[weights]\ntravel = 3.0\n"))
    assert await stub.ReloadConfig(request) == first
    assert (await stub.GetConfig(pb.GetConfigRequest())).config_hash == between.config_hash

    await refused(stub.ReloadConfig(pb.ReloadConfigRequest(
        config_toml="[weights]\ntravel = 4.0\n", request_id="reload-1")),
        grpc.StatusCode.ALREADY_EXISTS)
    await refused(stub.ReloadConfig(pb.ReloadConfigRequest(request_id="reload-1")),
                  grpc.StatusCode.ALREADY_EXISTS)
    await refused(stub.UpsertWorkers(pb.UpsertWorkersRequest(
        workers=[worker_pb("w1")], request_id="reload-1")), grpc.StatusCode.ALREADY_EXISTS)
    assert (await stub.GetConfig(pb.GetConfigRequest())).config_hash == between.config_hash

    bad = pb.ReloadConfigRequest(config_toml="[weights]\ntravel = -1\n", request_id="reload-2")
    refusal = await stub.ReloadConfig(bad)
    assert not refusal.applied and refusal.errors
    assert await stub.ReloadConfig(bad) == refusal


async def test_a_reload_with_a_request_id_is_idempotent(stub, refused, config):
    await _reload_replays_by_request_id(stub, refused)


async def test_a_reload_with_a_request_id_is_idempotent_on_redis(refused, config,
                                                                  redis_process):
    from matcher.redis_store import RedisStore
    running = await start_server(config, "127.0.0.1:0", store=RedisStore(redis_process.url))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = dispatch_pb2_grpc.DispatchServiceStub(channel)
            await _reload_replays_by_request_id(stub, refused)
    finally:
        await running.stop(0)
