"""A cached kernel that calls a kernel of another module is compiled again when that module
changes (numba's own cache notices only the caller's file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CALLEE = """
import numba

@numba.njit(cache=True)
def scale(x):
    return x * {factor}
"""

CALLER = """
import numba
import callee
from geo.kernel_cache import cached_with

@cached_with({modules})
@numba.njit(cache=True)
def twice(x):
    return callee.scale(x) * 2.0

print(twice(1.5))
"""


def run(folder: Path) -> str:
    # no bytecode files: Python checks a module's .pyc by the source's mtime in whole seconds
    # and its size, so a callee rewritten to the same size within the second of its first
    # import (two runs on a fast machine) would be imported stale, whatever numba does
    env = {"PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "caller.py"], cwd=folder, check=True, text=True,
                          capture_output=True, env=env).stdout.strip()


def callee(folder: Path, factor: float) -> None:
    (folder / "callee.py").write_text(CALLEE.format(factor=factor))


def test_an_edit_of_the_callees_module_compiles_the_caller_again(tmp_path):
    (tmp_path / "caller.py").write_text(CALLER.format(modules="callee"))
    callee(tmp_path, 3.0)
    assert run(tmp_path) == "9.0"
    assert run(tmp_path) == "9.0"  # (from the cache)
    callee(tmp_path, 5.0)
    assert run(tmp_path) == "15.0"


def test_without_it_numbas_cache_keeps_the_old_callee(tmp_path):
    """What cached_with is for: the caller's cached code still holds the old callee."""
    (tmp_path / "caller.py").write_text(CALLER.format(modules=""))
    callee(tmp_path, 3.0)
    assert run(tmp_path) == "9.0"
    callee(tmp_path, 5.0)
    assert run(tmp_path) == "9.0"


def test_with_numba_switched_off_the_kernel_is_the_plain_function(tmp_path):
    """NUMBA_DISABLE_JIT=1 (to debug a kernel in Python) leaves nothing to cache: the engine
    still imports and runs."""
    (tmp_path / "caller.py").write_text(CALLER.format(modules="callee"))
    callee(tmp_path, 3.0)
    out = subprocess.run([sys.executable, "caller.py"], cwd=tmp_path, check=True, text=True,
                         capture_output=True,
                         env={"PYTHONPATH": str(REPO), "NUMBA_DISABLE_JIT": "1"})
    assert out.stdout.strip() == "9.0"
