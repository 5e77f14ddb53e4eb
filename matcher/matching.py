"""One batch round as a max-weight matching, solved exactly with OR-Tools min-cost flow.

Each order takes at most one worker and each worker at most one order per round (a worker's day
changes with every job, so its next order is priced in the next round). An edge's weight is the
candidate's score plus the order's unassigned penalty: leaving an order out forgoes that weight.
Weights become integer costs at :data:`SCALE` per unit of score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from ortools.graph.python import min_cost_flow

# Integer cost units per unit of score; scores carry 4 decimals into the solver.
SCALE = 10_000


@dataclass(frozen=True, slots=True)
class Edges:
    """A sparse candidate graph: edge ``e`` joins order ``order[e]`` and worker ``worker[e]``."""

    order: np.ndarray   # int64 order positions
    worker: np.ndarray  # int64 worker keys (table rows)
    weight: np.ndarray  # float64 score + unassigned penalty

    def __post_init__(self) -> None:
        if not len(self.order) == len(self.worker) == len(self.weight):
            raise ValueError("order, worker and weight must have the same length")

    @property
    def int_weight(self) -> np.ndarray:
        return np.rint(self.weight * SCALE).astype(np.int64)


def solve_round(edges: Edges) -> np.ndarray:
    """Indices of the chosen edges of a maximum-weight matching (edges of weight <= 0 never)."""
    # one order (an instant one): its heaviest edge is the matching (ties: the first)
    alone = heaviest_of_one_order(edges.order, edges.weight, SCALE)
    if alone != MANY_ORDERS:
        return np.array([alone] if alone >= 0 else [], dtype=np.int64)
    weight = edges.int_weight
    keep = np.flatnonzero(weight > 0)
    orders, order_node = np.unique(edges.order[keep], return_inverse=True)
    workers, worker_node = np.unique(edges.worker[keep], return_inverse=True)
    n_o, n_w = len(orders), len(workers)
    source, sink = 0, 1 + n_o + n_w
    o_nodes = 1 + np.arange(n_o, dtype=np.int64)
    w_nodes = 1 + n_o + np.arange(n_w, dtype=np.int64)
    # Arcs: source->order, order->worker (negated weight), worker->sink, and a bypass
    # source->sink so that orders may stay unassigned at no cost.
    tails = np.concatenate([np.zeros(n_o, np.int64), 1 + order_node, w_nodes, [source]])
    heads = np.concatenate([o_nodes, 1 + n_o + worker_node, np.full(n_w, sink), [sink]])
    capacities = np.ones(len(tails), dtype=np.int64)
    capacities[-1] = n_o
    costs = np.concatenate([np.zeros(n_o, np.int64), -weight[keep],
                            np.zeros(n_w + 1, np.int64)])
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[source], supplies[sink] = n_o, -n_o
    flow.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    edge_arcs = arcs[n_o:n_o + len(keep)]
    return keep[np.flatnonzero(flow.flows(edge_arcs) > 0)]


# What :func:`heaviest_of_one_order` gives for edges of more than one order.
MANY_ORDERS = -2


@numba.njit(cache=True, nogil=True)
def heaviest_of_one_order(order, weight, scale):
    """When the edges of positive integer weight (``Edges.int_weight``) are all of one order:
    the first of its heaviest (-1: there is none); else ``MANY_ORDERS``. One loop: for the
    one order of an instant dispatch the numpy steps cost more than the choice."""
    best, heaviest, first = -1, 0, -1
    for e in range(weight.shape[0]):
        w = np.int64(np.rint(weight[e] * scale))
        if w <= 0:
            continue
        if first == -1:
            first = order[e]
        elif order[e] != first:
            return MANY_ORDERS
        if best == -1 or w > heaviest:
            best, heaviest = e, w
    return best


@numba.njit(cache=True, nogil=True)
def heaviest_per_order(order, values, weights, penalty, scale, n_orders):
    """Each order's choice when it is placed alone (orders ``0 .. n_orders - 1``; edge ``e``
    belongs to ``order[e]``, its term values are ``values[e]``): the first of its heaviest
    edges of positive integer weight, or -1 when it has none. An edge's weight is its terms
    dotted with ``weights``, term by term in order, plus its order's ``penalty``, at
    ``scale`` integer units per unit. A drain of instant orders picks for all its orders in
    one call; a fixed order of additions gives each edge the same weight whatever else is
    in the arrays (a matrix product's rounding may depend on the rows around it)."""
    best = np.full(n_orders, -1, dtype=np.int64)
    heaviest = np.zeros(n_orders, dtype=np.int64)
    for e in range(order.shape[0]):
        dot = 0.0
        for t in range(values.shape[1]):
            dot += values[e, t] * weights[t]
        o = order[e]
        w = np.int64(np.rint((dot + penalty[o]) * scale))
        if w > 0 and (best[o] == -1 or w > heaviest[o]):
            best[o], heaviest[o] = e, w
    return best


def warm_up() -> None:
    """Load the compiled choices now (numba's cache; compiled on a first run) rather than in
    the first order's answer."""
    heaviest_of_one_order(np.zeros(1, dtype=np.int64), np.zeros(1), SCALE)
    heaviest_per_order(np.zeros(1, dtype=np.int64), np.zeros((1, 1)), np.zeros(1), np.zeros(1),
                       SCALE, 1)


def matching_weight(edges: Edges, chosen: np.ndarray) -> int:
    """The integer objective of a set of chosen edges (what both solvers maximise)."""
    return int(edges.int_weight[chosen].sum())
