#!/usr/bin/env python3
"""Generate the Python gRPC stubs from the .proto files under proto/homedispatch/.

Equivalent to, from the repository root::

    python -m grpc_tools.protoc -Iproto -I<grpc_tools>/_proto \\
        --python_out=proto --pyi_out=proto --grpc_python_out=proto \\
        proto/homedispatch/v1/dispatch.proto

The output is committed; ``make proto`` runs this, and tests/test_proto_stubs.py runs it with
``--out`` into a temporary directory to check that the committed stubs have not drifted.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import resources
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parent
REPO_ROOT = PROTO_ROOT.parent


def proto_sources() -> list[str]:
    """Return the .proto files to compile, relative to the repository root, sorted."""
    return sorted(
        path.relative_to(REPO_ROOT).as_posix()
        for path in (PROTO_ROOT / "homedispatch").rglob("*.proto")
    )


def generate(out: Path) -> None:
    """Compile every .proto under proto/homedispatch/ into ``out`` (a source root)."""
    from grpc_tools import protoc

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    well_known = resources.files("grpc_tools") / "_proto"
    args = [
        "grpc_tools.protoc",
        "-Iproto",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *proto_sources(),
    ]
    cwd = os.getcwd()
    os.chdir(REPO_ROOT)  # so -Iproto and the source paths mean what they say
    try:
        status = protoc.main(args)
    finally:
        os.chdir(cwd)
    if status != 0:
        raise SystemExit(f"protoc failed with exit status {status}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=PROTO_ROOT,
        help="output source root (default: proto/, where the committed stubs live)",
    )
    args = parser.parse_args(argv)
    generate(args.out)


if __name__ == "__main__":
    main(sys.argv[1:])
