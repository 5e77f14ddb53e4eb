"""CP-SAT model of one batch round: the exact reference the min-cost-flow round is checked
against in tests and benchmarks. Too slow for the hot path on large rounds (see PEERS.md)."""

from __future__ import annotations

import numpy as np
from ortools.sat.python import cp_model

from matcher.matching import Edges


def solve_round_exact(edges: Edges, time_limit_s: float = 60.0,
                      workers: int = 8) -> tuple[np.ndarray, bool]:
    """Chosen edge indices and whether CP-SAT proved them optimal."""
    weights = edges.int_weight
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{e}") for e in range(len(weights))]
    for group in (edges.order, edges.worker):
        ranked = np.argsort(group, kind="stable")
        bounds = np.flatnonzero(np.diff(group[ranked])) + 1
        for members in np.split(ranked, bounds):
            model.add_at_most_one(x[e] for e in members)
    model.maximize(sum(int(w) * var for w, var in zip(weights, x)))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = workers
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise RuntimeError(f"CP-SAT found no solution ({solver.status_name(status)})")
    chosen = np.array([e for e, var in enumerate(x) if solver.value(var)], dtype=np.int64)
    return chosen, status == cp_model.OPTIMAL
