"""Fixtures for the gRPC tests: a real in-process server on 127.0.0.1:0 and a channel to it."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from homedispatch.v1 import dispatch_pb2_grpc
from matcher.config import DispatchConfig, load_config
from server import ERROR_DOMAIN, start_server
from tests.builders import DAY, HOUR

ROOT = Path(__file__).resolve().parents[1]
# The servers' clock in the gRPC tests: the evening before the test day, the "as of" time the
# requests give. On the wall clock, a tick between a Dispatch and the reads after it (the tick
# runs every second) lapsed the offers the test had just made, since their deadlines passed
# days ago: the tests failed whenever the machine was slow.
SERVER_CLOCK = DAY - 12 * HOUR


@pytest.fixture(scope="session")
def config() -> DispatchConfig:
    """The default config the repository ships."""
    return load_config(ROOT / "config" / "dispatch.toml")


@pytest.fixture
async def server(config):
    running = await start_server(config, "127.0.0.1:0", clock=lambda: SERVER_CLOCK)
    yield running
    await running.stop(0)


@pytest.fixture
async def channel(server):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as chan:
        yield chan


@pytest.fixture
def stub(channel) -> dispatch_pb2_grpc.DispatchServiceStub:
    return dispatch_pb2_grpc.DispatchServiceStub(channel)


@pytest.fixture
def refused():
    """``await refused(call, code, field=None)``: the call fails with exactly ``code``, carries an
    ErrorInfo of our domain and, when ``field`` is given, a BadRequest violation naming it.
    Returns (error, ErrorInfo, BadRequest or None)."""
    async def check(call, code: grpc.StatusCode, field: str | None = None):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        error = caught.value
        assert error.code() == code, f"{error.code()}: {error.details()}"
        status = next(status_pb2.Status.FromString(value)
                      for key, value in error.trailing_metadata() or ()
                      if key == "grpc-status-details-bin")
        assert status.code == code.value[0] and status.message == error.details()
        info = error_details_pb2.ErrorInfo()
        assert any(d.Unpack(info) for d in status.details), "no ErrorInfo"
        assert info.domain == ERROR_DOMAIN and info.reason
        bad = error_details_pb2.BadRequest()
        has_bad = any(d.Unpack(bad) for d in status.details)
        if field is not None:
            assert has_bad, f"no BadRequest in {error.details()}"
            assert [v.field for v in bad.field_violations] == [field], error.details()
            assert bad.field_violations[0].description
        return error, info, bad if has_bad else None
    return check


# ---------------------------------------------------------------- a real redis-server

@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A redis-server of its own on a free loopback port for the whole session, stopped at
    the end."""
    import shutil

    from tests.redis_process import RedisProcess

    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed (.ci/run installs it; on Debian: "
                    "apt-get install redis-server)")
    process = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield process.url
    process.kill()


@pytest.fixture
def redis_process(tmp_path):
    """A redis-server of the test's own (AOF on), to kill and restart at will."""
    from tests.redis_process import RedisProcess

    process = RedisProcess(tmp_path).start()
    yield process
    if process.running():
        process.kill()


@pytest.fixture(params=["memory", "redis"])
async def store(request):
    """Each store of the contract: the memory store, and the Redis store on the session's
    redis-server under a prefix of its own. A test marked ``store_options(**kwargs)`` gets
    stores built with those options (``event_retention``, ``request_id_ttl_s``)."""
    import uuid

    from matcher.store import MemoryStore

    marker = request.node.get_closest_marker("store_options")
    options = marker.kwargs if marker else {}
    if request.param == "memory":
        yield MemoryStore(**options)
        return
    from matcher.redis_store import RedisStore

    redis_store = RedisStore(request.getfixturevalue("redis_url"),
                             prefix=f"test-{uuid.uuid4().hex[:12]}", **options)
    yield redis_store
    await redis_store.close()
