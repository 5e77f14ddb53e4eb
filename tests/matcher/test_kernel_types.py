"""The kernels the server loads before it serves keep the one compiled version they load.

A kernel called with an array of another layout or type compiles a new version on the spot,
inside an order's answer (and then runs as a slower, general one). The per-module warm-up
tests check the types of a plain one-order search; this one runs a city whose orders widen
their pools, split their batches and refresh their searches, in a fresh interpreter (other
tests compile other versions on purpose), and checks that no kernel gained a version.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib, sys
import numpy as np
from numba.core.registry import CPUDispatcher
sys.path[:0] = ["proto", "."]
import server
from matcher.config import DispatchConfig
from matcher.order_batch import OrderBatch
from matcher.planner import Planner
from tests.builders import at, world_of
from tests.city import random_orders, random_workers

MODULES = ("geo.grid", "geo.legs", "geo.ranking", "matcher.block_tally", "matcher.eligibility",
           "matcher.insertion", "matcher.matching", "matcher.pricing", "matcher.scoring",
           "matcher.world")

def versions():
    return {(m, name): [str(s) for s in kernel.signatures]
            for m in MODULES for name, kernel in vars(importlib.import_module(m)).items()
            if isinstance(kernel, CPUDispatcher)}

planner = Planner(DispatchConfig())
server.warm_up_kernels(planner.day_rules)
loaded = versions()
split = []
take = OrderBatch.take
# (a sub-batch of one order is laid out like a whole one: the split must keep several)
OrderBatch.take = lambda self, at: split.append(1 < len(at) < len(self)) or take(self, at)
for seed in range(4):
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, 300, breaks=True)
    orders = random_orders(rng, 60, 300)
    planner.dispatch_each(orders, world_of(workers), at(7))
    planner.dispatch(orders[:30], world_of(workers), at(7))
if not any(split):
    sys.exit("no search kept several orders of a batch apart: the city does not exercise "
             "what it should")
for key, now in versions().items():
    if now != loaded.get(key, []):
        print(key, [s for s in now if s not in loaded.get(key, [])])
"""


def test_a_widening_search_compiles_no_kernel_version_the_server_did_not_load():
    run = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout == "", run.stdout
