"""Reloads that overlap: each one (ReloadConfig or SIGHUP) runs after the one before it has put
its config in force, compares with the config in force then, and answers with it; none is lost.

A write in progress is played by holding the engine's lock: a reload's swap waits for it, and
the reloads asked meanwhile queue behind that swap."""

from __future__ import annotations

import asyncio
import dataclasses

from homedispatch.v1 import dispatch_pb2 as pb
from matcher.config import DispatchConfig, to_toml
from tests.test_config_reload import served

# long enough for a request to reach the engine and queue there
QUEUE_S = 0.3


def heavier(config: DispatchConfig) -> DispatchConfig:
    return dataclasses.replace(config, weights=dataclasses.replace(config.weights, travel=2.5))


def push_heavier(stub, config: DispatchConfig):
    return asyncio.ensure_future(
        stub.ReloadConfig(pb.ReloadConfigRequest(config_toml=to_toml(heavier(config)))))


async def test_a_rollback_asked_while_a_reload_waits_is_in_force_last(config):
    async with served(config) as (running, stub):
        async with running.engine._lock:
            push = push_heavier(stub, config)
            await asyncio.sleep(QUEUE_S)
            rollback = asyncio.ensure_future(
                stub.ReloadConfig(pb.ReloadConfigRequest(config_toml=to_toml(config))))
            await asyncio.sleep(QUEUE_S)
        pushed, rolled = await push, await rollback
        assert pushed.applied and pushed.config_hash == heavier(config).hash
        assert rolled.applied and rolled.config_hash == config.hash
        assert (await stub.GetConfig(pb.GetConfigRequest())).config_hash == config.hash


async def test_a_refusal_asked_while_a_reload_waits_names_the_config_that_reload_put_in_force(
        config):
    async with served(config) as (running, stub):
        async with running.engine._lock:
            push = push_heavier(stub, config)
            await asyncio.sleep(QUEUE_S)
            bad = asyncio.ensure_future(stub.ReloadConfig(
                pb.ReloadConfigRequest(config_toml="[weights]\ntravel = -1\n")))
            await asyncio.sleep(QUEUE_S)
        pushed, refused = await push, await bad
        assert pushed.applied and not refused.applied
        assert pushed.config_hash == heavier(config).hash == refused.config_hash
        assert (await stub.GetConfig(pb.GetConfigRequest())).config_hash == pushed.config_hash


async def test_a_second_sighup_after_reverting_the_file_puts_the_reverted_file_in_force(
        config, tmp_path):
    path = tmp_path / "dispatch.toml"
    path.write_text(to_toml(config))
    async with served(config, path) as (running, _):
        async with running.engine._lock:
            path.write_text(to_toml(heavier(config)))
            first = asyncio.create_task(running.reload_file())  # what SIGHUP runs
            await asyncio.sleep(QUEUE_S)
            path.write_text(to_toml(config))
            second = asyncio.create_task(running.reload_file())
            await asyncio.sleep(QUEUE_S)
        edited, reverted = await first, await second
        assert edited.applied and edited.config.hash == heavier(config).hash
        assert reverted.applied and reverted.config.hash == config.hash
        assert running.engine.config.hash == config.hash


async def test_a_sighup_while_a_reload_rpc_waits_puts_the_file_in_force_after_it(
        config, tmp_path):
    path = tmp_path / "dispatch.toml"
    path.write_text(to_toml(config))
    async with served(config, path) as (running, stub):
        async with running.engine._lock:
            push = push_heavier(stub, config)
            await asyncio.sleep(QUEUE_S)
            hangup = asyncio.create_task(running.reload_file())
            await asyncio.sleep(QUEUE_S)
        pushed, reread = await push, await hangup
        assert pushed.applied and pushed.config_hash == heavier(config).hash
        assert reread.applied and reread.config.hash == config.hash
        assert (await stub.GetConfig(pb.GetConfigRequest())).config_hash == config.hash
