"""The order states and the transitions allowed between them.

=============  =====================================================================  ==========
from           to (what causes it)                                                    RPC
=============  =====================================================================  ==========
PENDING        OFFERED: a round or instant placement finds workers (offers on)        Dispatch,
               ASSIGNED: the same with ``offers.timeout_s = 0`` (no offers)           SubmitOrders
               CANCELLED: by the customer or the centre                               CancelOrder
               EXPIRED: its start window passed without a worker                      Dispatch
OFFERED        ASSIGNED: every worker of the order accepted                           RespondToOffer
               PENDING: a decline, no answer by the deadline or the worker            RespondToOffer,
               cancelled (that worker is excluded from the order); the worker went    (timeouts),
               offline / on leave / was suspended, lost its certificate or credit     CancelOrder,
               (not excluded: it may take the order again once eligible); placed      SetWorkerStatus
               again
               CANCELLED: by the customer or the centre                               CancelOrder
ASSIGNED       IN_PROGRESS: the worker started                                        StartOrder
               COMPLETED: the worker finished (start and end given)                   CompleteOrder
               PENDING: the worker cancelled or did not show up (excluded), went      CancelOrder,
               offline, lost its certificate or credit (not excluded); placed again   SubmitFeedback
               CANCELLED: by the customer or the centre                               CancelOrder
IN_PROGRESS    COMPLETED                                                              CompleteOrder
COMPLETED      (final; feedback may still come, once per source)                      SubmitFeedback
CANCELLED      (final; cancelling again answers the same record)                      CancelOrder
EXPIRED        (final)
=============  =====================================================================  ==========

An accepted order (ASSIGNED after its offer) is locked: rounds never move planned jobs, and
re-optimisation keeps offered, accepted and started jobs where they are. Any other transition
is refused with FAILED_PRECONDITION naming the order's current state.
"""

from __future__ import annotations

from matcher.errors import FailedPrecondition
from matcher.model import OrderRecord, OrderState

S = OrderState
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    S.PENDING: frozenset({S.OFFERED, S.ASSIGNED, S.CANCELLED, S.EXPIRED}),
    S.OFFERED: frozenset({S.ASSIGNED, S.PENDING, S.CANCELLED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.COMPLETED, S.PENDING, S.CANCELLED}),
    S.IN_PROGRESS: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}
# States in which an order holds jobs in workers' day plans.
PLANNED = frozenset({S.OFFERED, S.ASSIGNED, S.IN_PROGRESS, S.COMPLETED})
# States whose jobs have not started and may be given to another worker.
UNSTARTED = frozenset({S.OFFERED, S.ASSIGNED})


def require(record: OrderRecord, action: str, *states: OrderState) -> None:
    """Refuse ``action`` unless ``record`` is in one of ``states``."""
    if record.state not in states:
        allowed = " or ".join(s.name for s in states)
        raise FailedPrecondition(f"order {record.order.order_id!r} is {record.state.name}; "
                                 f"{action} needs it {allowed}")


def move(record: OrderRecord, to: OrderState, why: str) -> OrderRecord:
    """Change the state of ``record`` along an allowed transition, noting ``why``."""
    if to not in TRANSITIONS[record.state]:
        raise FailedPrecondition(f"order {record.order.order_id!r} is {record.state.name}; "
                                 f"it cannot become {to.name}")
    record.state = to
    record.history.append(why)
    return record
