"""What the memory store adds to the store contract (tests/matcher/test_store_contract.py)."""

from __future__ import annotations

from matcher.model import OrderRecord, OrderState
from matcher.store import Commit, MemoryStore
from tests.builders import at, make_order


async def test_orders_in_lists_a_states_orders_in_the_order_first_written():
    store = MemoryStore()
    await store.commit(Commit(orders=[OrderRecord(make_order(o), OrderState.PENDING, at(6))
                                      for o in ("o3", "o1", "o2")]))
    moved = await store.order("o3")
    moved.state = OrderState.ASSIGNED
    await store.commit(Commit(orders=[moved]))
    back = await store.order("o3")
    back.state = OrderState.PENDING  # back in the pool: its place stays that of its first write
    await store.commit(Commit(orders=[back]))
    assert [r.order.order_id for r in await store.orders_in(OrderState.PENDING)] == \
        ["o3", "o1", "o2"]
