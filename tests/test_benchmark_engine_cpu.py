"""benchmarks/engine_cpu.py runs in both of its modes on a small city and writes its table (its
``--expired`` mode once failed on a missing import, unnoticed until someone ran it). In a
child process: the benchmark sets the garbage collector's thresholds and freezes what it
built, as the server does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "engine_cpu.py"


@pytest.mark.parametrize("expired", [False, True])
def test_the_engine_benchmark_measures_and_writes_its_table(tmp_path, expired):
    argv = ["--orders", "20", "--workers", "1500", "--out", str(tmp_path)]
    subprocess.run([sys.executable, str(SCRIPT), *argv, *["--expired"] * expired],
                   check=True, capture_output=True, timeout=120)

    name = "engine_cpu_expired" if expired else "engine_cpu"
    assert json.loads((tmp_path / f"{name}.json").read_text())["cpu_us_per_order"] > 0
    kind = "past their window (no search)" if expired else "instant"
    assert f"20 {kind} orders" in (tmp_path / f"{name}.md").read_text()


def test_its_count_of_python_calls_is_the_same_every_time(tmp_path):
    """``--calls`` counts in a copy of the run with a fixed hash seed, so that two versions
    compare by one run each."""
    counts = []
    for out in ("a", "b"):
        subprocess.run([sys.executable, str(SCRIPT), "--orders", "20", "--workers", "1500",
                        "--calls", "--out", str(tmp_path / out)],
                       check=True, capture_output=True, timeout=180)
        counts.append(json.loads((tmp_path / out / "engine_cpu.json").read_text())
                      ["python_calls_per_order"])
    assert counts[0] == counts[1] > 0
    assert "Python function calls" in (tmp_path / "a" / "engine_cpu.md").read_text()
