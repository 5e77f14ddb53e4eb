"""The committed gRPC stubs are what protoc makes of the .proto, and declare the contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUB_DIR = Path("homedispatch") / "v1"
STUBS = ("dispatch_pb2.py", "dispatch_pb2.pyi", "dispatch_pb2_grpc.py")

RPCS = (
    "UpsertWorkers",
    "UpdateWorkerLocation",
    "SetWorkerStatus",
    "SubmitOrders",
    "Dispatch",
    "ExplainOrder",
    "OptimizePlans",
    "GetOrder",
    "CancelOrder",
    "GetWorkerSchedule",
    "RespondToOffer",
    "StartOrder",
    "CompleteOrder",
    "SubmitFeedback",
    "WatchEvents",
    "GetConfig",
    "ReloadConfig",
)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def test_committed_stubs_match_a_fresh_generation(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "proto" / "generate.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"proto/generate.py failed:\n{result.stderr}"

    drifted = [
        name
        for name in STUBS
        if _read(ROOT / "proto" / STUB_DIR / name) != _read(tmp_path / STUB_DIR / name)
    ]
    assert not drifted, (
        f"committed stubs differ from a fresh generation: {', '.join(drifted)}; "
        "run `make proto` and commit the result"
    )


def test_descriptor_declares_the_dispatch_service():
    from homedispatch.v1 import dispatch_pb2

    assert dispatch_pb2.DESCRIPTOR.package == "homedispatch.v1"
    service = dispatch_pb2.DESCRIPTOR.services_by_name["DispatchService"]
    assert service.full_name == "homedispatch.v1.DispatchService"
    assert tuple(method.name for method in service.methods) == RPCS
    streaming = [m.name for m in service.methods if m.server_streaming or m.client_streaming]
    assert streaming == ["WatchEvents"]


def test_grpc_stub_module_exposes_the_service():
    from homedispatch.v1 import dispatch_pb2_grpc

    for rpc in RPCS:
        assert callable(getattr(dispatch_pb2_grpc.DispatchServiceServicer, rpc))
    assert callable(dispatch_pb2_grpc.add_DispatchServiceServicer_to_server)
