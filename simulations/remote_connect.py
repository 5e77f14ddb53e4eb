"""Reaching the server a ``--target`` run drives, and the config the run puts in force."""

from __future__ import annotations

import asyncio
import dataclasses

import grpc

from homedispatch.v1 import dispatch_pb2 as pb
from homedispatch.v1 import dispatch_pb2_grpc as pb_grpc
from matcher.config import DispatchConfig, parse_config

CONNECT_TIMEOUT_S = 5.0
CALL_TIMEOUT_S = 60.0


class TargetError(ValueError):
    """The ``--target`` cannot be used: malformed, unreachable, it refused the run's config,
    or it failed a call the run needs."""


async def connect(target: str, timeout_s: float = CONNECT_TIMEOUT_S) -> grpc.aio.Channel:
    """An open channel to ``target`` (HOST:PORT), or TargetError when it is malformed or no
    server answers there within ``timeout_s``."""
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TargetError(f"--target: expected HOST:PORT, got {target!r}")
    channel = grpc.aio.insecure_channel(target)
    try:  # (not wait_for: on 3.11 it can drop a Ctrl-C that meets the answer)
        async with asyncio.timeout(timeout_s):
            await _ready(channel)
    except TimeoutError:
        await channel.close()
        raise TargetError(f"--target: no gRPC server answered at {target} within "
                          f"{timeout_s:g} s (is server.py running there?)") from None
    except ConnectionRefusedError:
        await channel.close()
        raise TargetError(f"--target: nothing listens at {target} (connection failed; is "
                          f"server.py running there?)") from None
    return channel


async def _ready(channel: grpc.aio.Channel) -> None:
    """Wait until ``channel`` is connected; ConnectionRefusedError at the first failure (a
    refused connection fails at once, and would otherwise be retried until the timeout)."""
    state = channel.get_state(try_to_connect=True)
    while state != grpc.ChannelConnectivity.READY:
        if state == grpc.ChannelConnectivity.TRANSIENT_FAILURE:
            raise ConnectionRefusedError
        await channel.wait_for_state_change(state)
        state = channel.get_state(try_to_connect=True)


async def config_in_force(channel: grpc.aio.Channel) -> tuple[DispatchConfig, str]:
    """The server's config in force and its TOML text."""
    response = await pb_grpc.DispatchServiceStub(channel).GetConfig(pb.GetConfigRequest(),
                                                                   timeout=CALL_TIMEOUT_S)
    return parse_config(response.config_toml), response.config_toml


def for_the_run(config: DispatchConfig, in_force: DispatchConfig) -> DispatchConfig:
    """``config`` as the run puts it in force: the keys a reload cannot change stay the
    server's, and the periodic re-optimisation (on the server's clock) is off."""
    return dataclasses.replace(config, server=in_force.server, store=in_force.store,
                               metrics=in_force.metrics,
                               optimizer=dataclasses.replace(config.optimizer, interval_s=0.0))
