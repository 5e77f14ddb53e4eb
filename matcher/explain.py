"""Why an order has no worker, as one stable code (:class:`~matcher.model.UnassignedReason`).

ExplainOrder answers with the same codes Dispatch and SubmitOrders use, worked out from the
order's state, its link and the constraint funnel of :meth:`Planner.explain`:

- ``EXPIRED``: its start window (plus the service type's soft lateness) has passed.
- ``LINKED_ORDER``: it is linked to an order that has no worker yet; or the orders linked to it
  kept their places when it lost its worker and bind it more ways than the planner places (it
  waits to be placed by hand: :meth:`Engine.by_hand <matcher.engine.Engine.by_hand>`).
- ``NO_ELIGIBLE_WORKER``: no worker passes the static hard constraints (status, skill, level,
  certificate, credit, blocks, tags, service radius).
- ``DAILY_LIMIT``: eligible workers exist, and their daily job or hour limits alone refuse it.
- ``NO_FEASIBLE_SLOT``: eligible workers exist, but none has a shift and a free slot for it.
- ``OUTBID``: feasible workers exist, but the last round gave them to higher-value orders.
- ``ROUND_LIMIT``: feasible workers existed, but the dispatch stopped at ``solver.max_rounds``
  before a round placed it.

A pending order with feasible workers that no round has left out yet has no reason (the next
round places it).
"""

from __future__ import annotations

from matcher.eligibility import SLOT_CHECKS, STATIC_CHECKS
from matcher.model import OrderRecord, OrderState, Unassigned, UnassignedReason
from matcher.planner import Explanation

SLOT_REASONS = (UnassignedReason.NO_FEASIBLE_SLOT, UnassignedReason.DAILY_LIMIT)
# Reasons only a dispatch round gives (the funnel alone cannot tell them).
ROUND_REASONS = (UnassignedReason.OUTBID, UnassignedReason.ROUND_LIMIT)
# States in which an order has (or had) its workers: nothing to explain away.
PLACED = (OrderState.OFFERED, OrderState.ASSIGNED, OrderState.IN_PROGRESS, OrderState.COMPLETED)


def funnel_reason(order_id: str, why: Explanation, workers_needed: int) -> Unassigned | None:
    """The reason the constraint funnel alone gives: none when enough workers are feasible."""
    feasible = len(why.candidates)
    if feasible >= workers_needed:
        return None
    eligible = why.total_workers - sum(why.ruled_out[name] for name in STATIC_CHECKS)
    if eligible == 0:
        ruled = ", ".join(f"{name}: {why.ruled_out[name]}" for name in STATIC_CHECKS
                          if why.ruled_out[name])
        return Unassigned(order_id, UnassignedReason.NO_ELIGIBLE_WORKER,
                          f"no worker of {why.total_workers} passes the hard constraints "
                          f"(ruled out by {ruled or 'nothing: there are no workers'})")
    refused = {name: why.ruled_out[name] for name in SLOT_CHECKS if why.ruled_out[name]}
    detail = ", ".join(f"{name}: {n}" for name, n in refused.items())
    if feasible == 0 and set(refused) == {"daily_limit"}:
        return Unassigned(order_id, UnassignedReason.DAILY_LIMIT,
                          f"{eligible} eligible workers, every one at its daily job or hour "
                          "limit")
    return Unassigned(order_id, UnassignedReason.NO_FEASIBLE_SLOT,
                      f"{eligible} eligible workers, {feasible} with a free slot, "
                      f"{workers_needed} needed (refused by {detail or 'nothing'})")


def unassigned_reason(record: OrderRecord, why: Explanation, now: int, hard_latest: int,
                      linked: OrderRecord | None,
                      by_hand: Unassigned | None = None) -> Unassigned | None:
    """Why ``record`` has no worker as of ``now``; None when it has its workers (or would get
    them in the next round). ``hard_latest``: the latest start allowed at all; ``linked``: the
    order it is linked to, when it has a live link; ``by_hand``: the engine's verdict when the
    orders linked to it bind it more ways than the planner places."""
    order_id = record.order.order_id
    if record.state in PLACED or record.state == OrderState.CANCELLED:
        return None
    if record.state == OrderState.EXPIRED or hard_latest < now:
        return Unassigned(order_id, UnassignedReason.EXPIRED,
                          "the start window ended before dispatch")
    if by_hand is not None:
        return by_hand
    if linked is not None and linked.state == OrderState.PENDING:
        return Unassigned(order_id, UnassignedReason.LINKED_ORDER,
                          f"waits until its linked order {linked.order.order_id} has a worker")
    verdict = funnel_reason(order_id, why, record.order.workers_needed)
    last = record.unassigned
    # Outbid orders (and those the round limit cut off) see their slots taken by the orders
    # placed before them: the funnel then says "no free slot", but the reason is still the
    # one the dispatch gave. So for teams and linked orders: the funnel prices each worker
    # alone in the order's own window, not a common start, the linked worker or the gap.
    coupled = record.order.workers_needed > 1 or linked is not None
    if last is not None and (last.reason in ROUND_REASONS or coupled) and (
            verdict is None or verdict.reason in SLOT_REASONS):
        return last
    return verdict
