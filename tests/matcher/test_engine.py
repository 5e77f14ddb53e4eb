"""The async engine over the memory store: idempotency, atomic refusals, cancellation, worker
changes, and no order ever lost."""

from __future__ import annotations

import dataclasses

import pytest

from matcher.config import DispatchConfig
from matcher.engine import Engine, Region
from matcher.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from matcher.model import Break, DispatchMode, OrderState, Skill
from matcher.store import MemoryStore
from tests.builders import CENTRE, HOUR, at, make_order, make_worker, without_offers

NOW = at(6)


async def states(engine, *order_ids):
    return [(await engine.order(o)).state.name for o in order_ids]


async def test_dispatch_assigns_and_records(engine):
    await engine.upsert_workers([make_worker("w1"), make_worker("w2")])
    await engine.submit_orders([make_order("o1"), make_order("o2")], NOW)
    result = await engine.dispatch([], NOW)
    assert sorted(a.order_id for a in result.assignments) == ["o1", "o2"]
    for a in result.assignments:
        record = await engine.order(a.order_id)
        assert record.state == OrderState.ASSIGNED and record.assignment == a
        _, legs = await engine.worker_schedule(a.worker_id)
        assert [(leg.job.order_id, leg.job.start) for leg in legs] == [
            (a.order_id, a.planned_start)]
        assert legs[0].travel_s == a.travel_s


async def test_a_dispatch_changes_the_stores_records_only_by_its_commit(engine):
    """Dispatch reads the pending records without copying them (``shared``): the records it
    places or leaves unassigned are copies, so what was read stays as it was stored."""
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("o1"), make_order("o2", min_skill_level=5)], NOW)
    read = await engine.store.orders_in(OrderState.PENDING, shared=True)
    before = [r.copy() for r in read]
    result = await engine.dispatch([], NOW)
    assert [a.order_id for a in result.assignments] == ["o1"]
    assert [u.order_id for u in result.unassigned] == ["o2"]
    assert read == before
    assert [(await engine.order(o)).state for o in ("o1", "o2")] == [OrderState.ASSIGNED,
                                                                     OrderState.PENDING]
    assert (await engine.order("o2")).unassigned == result.unassigned[0]


async def test_one_worker_takes_several_orders_over_rounds(engine):
    await engine.upsert_workers([make_worker("w1")])
    orders = [make_order(f"o{i}", earliest_start=at(8 + 2.5 * i), latest_start=at(9 + 2.5 * i))
              for i in range(3)]
    await engine.submit_orders(orders, NOW)
    result = await engine.dispatch([], NOW)
    assert len(result.assignments) == 3 and result.rounds >= 3
    _, legs = await engine.worker_schedule("w1")
    assert [leg.job.order_id for leg in legs] == ["o0", "o1", "o2"]


async def test_resubmitting_an_order_is_one_order(engine):
    first = await engine.submit_orders([make_order("o1")], NOW)
    again = await engine.submit_orders([make_order("o1")], NOW)
    assert first.accepted == again.accepted == 1
    assert len(await engine.store.orders_in(OrderState.PENDING)) == 1


async def test_same_id_different_content_is_refused_and_changes_nothing(engine):
    await engine.submit_orders([make_order("o1")], NOW)
    with pytest.raises(AlreadyExists, match=r"orders\[1\].order_id"):
        await engine.submit_orders([make_order("o2"), make_order("o1", priority=9)], NOW)
    with pytest.raises(NotFound):
        await engine.order("o2")
    assert (await engine.order("o1")).order.priority == 0


async def test_request_ids_make_retries_safe(engine):
    await engine.upsert_workers([make_worker()])
    order = make_order("o1", mode=DispatchMode.INSTANT)
    first = await engine.submit_orders([order], NOW, request_id="r1")
    retry = await engine.submit_orders([order], NOW, request_id="r1")
    assert retry == first and len(first.assignments) == 1
    with pytest.raises(AlreadyExists, match="request_id"):
        await engine.submit_orders([make_order("o9")], NOW, request_id="r1")
    with pytest.raises(NotFound):
        await engine.order("o9")


@pytest.mark.parametrize(("orders", "field"), [
    ([make_order("o1"), make_order("o1")], r"orders\[1\].order_id"),
    ([make_order("o1"), make_order("o2", service_type="gardening")], r"orders\[1\].service_type"),
])
async def test_a_bad_order_refuses_the_whole_batch(engine, orders, field):
    with pytest.raises(InvalidArgument, match=field):
        await engine.submit_orders(orders, NOW)
    assert await engine.store.orders_in(OrderState.PENDING) == []


async def test_a_bad_worker_refuses_the_whole_batch(engine):
    bad = make_worker("w2", skills=(Skill("gardening", 2, at(48)),))
    with pytest.raises(InvalidArgument, match=r"workers\[1\].skills\[0\].service_type"):
        await engine.upsert_workers([make_worker("w1"), bad])
    with pytest.raises(InvalidArgument, match=r"workers\[1\].worker_id"):
        await engine.upsert_workers([make_worker("w1"), make_worker("w1")])
    assert await engine.store.workers() == []


async def test_instant_orders_are_placed_at_once(engine):
    await engine.upsert_workers([make_worker("w1")])
    result = await engine.submit_orders([make_order("o1", mode=DispatchMode.INSTANT)], NOW)
    assert [a.worker_id for a in result.assignments] == ["w1"]
    clash = make_order("o2", mode=DispatchMode.INSTANT, latest_start=at(10))
    refused = await engine.submit_orders([clash], NOW)
    assert refused.assignments == []
    assert refused.unassigned[0].reason.name == "NO_FEASIBLE_SLOT"
    assert await states(engine, "o1", "o2") == ["ASSIGNED", "PENDING"]


async def test_cancelling_frees_the_slot(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("o1", latest_start=at(10)),
                                make_order("o2", latest_start=at(10))], NOW)
    result = await engine.dispatch([], NOW)
    (placed,), (waiting,) = result.assignments, result.unassigned
    cancelled = await engine.cancel_order(placed.order_id)
    assert cancelled.assignment is None
    assert cancelled.state == OrderState.CANCELLED
    assert await engine.cancel_order(placed.order_id) == cancelled  # twice is a no-op
    _, legs = await engine.worker_schedule("w1")
    assert legs == []
    await engine.dispatch([], NOW)
    assert await states(engine, waiting.order_id) == ["ASSIGNED"]


async def test_final_states_cannot_be_cancelled(engine):
    await engine.submit_orders([make_order("o1", earliest_start=at(1), latest_start=at(2))], NOW)
    result = await engine.dispatch([], NOW)
    assert result.unassigned[0].reason.name == "EXPIRED"
    with pytest.raises(FailedPrecondition, match="EXPIRED"):
        await engine.cancel_order("o1")


async def test_jobs_a_changed_worker_cannot_do_go_back_to_pending(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("o1")], NOW)
    await engine.dispatch([], NOW)
    lapsed = make_worker("w1", skills=(Skill("cleaning", 3, at(12)),))
    await engine.upsert_workers([lapsed])
    assert await states(engine, "o1") == ["PENDING"]
    assert (await engine.worker_schedule("w1"))[1] == []
    await engine.upsert_workers([make_worker("w2")])
    await engine.dispatch([], NOW)
    assert (await engine.order("o1")).assignment.worker_id == "w2"


async def test_an_unchanged_worker_keeps_its_jobs(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("o1"), make_order("o2", earliest_start=at(13),
                                                             latest_start=at(14))], NOW)
    await engine.dispatch([], NOW)
    await engine.upsert_workers([make_worker("w1", credit_score=95.0)])
    assert await states(engine, "o1", "o2") == ["ASSIGNED", "ASSIGNED"]


async def test_customer_blocks_carry_over_to_later_orders(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("o1", blocked_worker_ids=frozenset({"w1"}))], NOW)
    await engine.submit_orders([make_order("o2")], NOW)
    result = await engine.dispatch([], NOW)
    assert result.assignments == []
    assert {u.reason.name for u in result.unassigned} == {"NO_ELIGIBLE_WORKER"}


async def test_dispatch_by_ids_and_region(engine):
    await engine.upsert_workers([make_worker("w1"), make_worker("w2")])
    far = make_order("far", lat=CENTRE[0] + 0.1)
    await engine.submit_orders([make_order("o1"), far], NOW)
    with pytest.raises(NotFound, match="nope"):
        await engine.dispatch(["o1", "nope"], NOW)
    region = Region(CENTRE[0], CENTRE[1], 5.0)
    result = await engine.dispatch([], NOW, region)
    assert [a.order_id for a in result.assignments] == ["o1"]
    with pytest.raises(FailedPrecondition, match="ASSIGNED"):
        await engine.dispatch(["o1"], NOW)
    assert await states(engine, "far") == ["PENDING"]


async def test_explain_an_assigned_order_shows_its_worker(engine):
    await engine.upsert_workers([make_worker("w1"), make_worker("w2", credit_score=50.0)])
    await engine.submit_orders([make_order("o1")], NOW)
    await engine.dispatch([], NOW)
    record, explanation = await engine.explain("o1", NOW)
    assert [c.worker_id for c in explanation.candidates] == ["w1"]
    assert explanation.ruled_out["credit_floor"] == 1
    assert explanation.candidates[0].score == pytest.approx(record.assignment.score)


async def test_identical_runs_give_identical_assignments():
    async def run():
        engine = Engine(MemoryStore(), without_offers(DispatchConfig()))
        await engine.upsert_workers([make_worker(f"w{i}", home_lat=CENTRE[0] + i / 500)
                                     for i in range(8)])
        await engine.submit_orders([dataclasses.replace(make_order(f"o{i}"),
                                                        lat=CENTRE[0] + i / 300)
                                    for i in range(12)], NOW)
        result = await engine.dispatch([], NOW)
        engine.close()
        return result.assignments
    assert await run() == await run()


async def test_jobs_already_started_stay_when_the_worker_changes(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("o1")], NOW)
    await engine.dispatch([], NOW)
    offline = make_worker("w1", skills=(Skill("cleaning", 3, at(12)),))
    await engine.upsert_workers([offline], now=at(19))
    assert await states(engine, "o1") == ["ASSIGNED"]


async def test_a_block_on_a_later_order_takes_the_worker_off_earlier_jobs(engine):
    await engine.upsert_workers([make_worker("w1"), make_worker("w2", credit_score=61.0)])
    await engine.submit_orders([make_order("o1")], NOW)
    await engine.dispatch([], NOW)
    assert (await engine.order("o1")).assignment.worker_id == "w1"
    later = make_order("o2", earliest_start=at(14), latest_start=at(15),
                       blocked_worker_ids=frozenset({"w1"}))
    await engine.submit_orders([later], NOW)
    assert await states(engine, "o1") == ["PENDING"]
    assert (await engine.worker_schedule("w1"))[1] == []
    result = await engine.dispatch([], NOW)
    assert {a.order_id: a.worker_id for a in result.assignments} == {"o1": "w2", "o2": "w2"}


async def test_a_new_break_a_planned_job_violates_sends_that_job_back_to_pending(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("o1", latest_start=at(9)),  # 09:00-11:00
                                make_order("o2", earliest_start=at(14), latest_start=at(15))],
                               NOW)
    await engine.dispatch([], NOW)
    # an hour off between 10:00 and 11:30: o1 leaves no room for it, o2 (14:00) does
    lunch = Break(at(10), at(11.5), HOUR)
    await engine.upsert_workers([make_worker("w1", breaks=(lunch,))])
    assert await states(engine, "o1", "o2") == ["PENDING", "ASSIGNED"]
    again = await engine.dispatch([], NOW)
    (miss,) = again.unassigned
    assert miss.reason.name == "NO_FEASIBLE_SLOT" and "break: 1" in miss.detail


async def test_every_job_a_changed_worker_loses_goes_back_with_that_reason(engine):
    await engine.upsert_workers([make_worker("w1")])
    await engine.submit_orders([make_order("o1", earliest_start=at(9), latest_start=at(9)),
                                make_order("o2", earliest_start=at(13), latest_start=at(13),
                                           customer_id="c2")], NOW)
    await engine.dispatch([], NOW)
    assert await states(engine, "o1", "o2") == ["ASSIGNED", "ASSIGNED"]
    await engine.upsert_workers([make_worker("w1", shifts=())], now=NOW)
    for order_id in ("o1", "o2"):
        record = await engine.order(order_id)
        assert record.state == OrderState.PENDING
        assert record.history[-1] == "unassigned: worker w1 changed"
