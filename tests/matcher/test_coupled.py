"""Team jobs and linked orders in dispatch rounds and through the engine: each rule with a
case that holds and one that cannot, all plans checked by the independent checker."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings, strategies as st
import pytest

from matcher.config import DispatchConfig
from matcher.engine import Engine
from matcher.model import LinkType, OrderLink, OrderState, UnassignedReason
from matcher.planner import Planner
from matcher.store import MemoryStore
from tests.builders import HOUR, at, make_order, make_worker, without_offers, world_of
from tests.checker import check_plans
from tests.city import coupled_to, random_orders, random_workers

CONFIG = without_offers(DispatchConfig())


def dispatch(orders, workers, now=at(6)):
    result = Planner(CONFIG).dispatch(orders, world_of(workers), now)
    plans = {w.worker_id: result.plans.get(w.worker_id, []) for w in workers}
    assert check_plans(CONFIG, {w.worker_id: w for w in workers}, plans,
                       {o.order_id: o for o in orders}) == []
    return result


def placed(result, order_id):
    return sorted((a.worker_id, a.planned_start) for a in result.assignments
                  if a.order_id == order_id)


def follow_up(order_id, first, lo, hi, **kw):
    return make_order(order_id, duration=HOUR, earliest_start=at(8), latest_start=at(17),
                      link=OrderLink(first, LinkType.START_GAP, lo, hi), **kw)


def test_a_team_job_gets_its_workers_at_one_start():
    team = make_order("team", workers_needed=3)
    result = dispatch([team], [make_worker(f"w{i}") for i in range(4)])
    members = placed(result, "team")
    assert len(members) == 3 and len({s for _, s in members}) == 1


def test_a_team_waits_for_the_time_all_its_workers_are_free():
    busy = make_order("busy", customer_id="c9", earliest_start=at(9), latest_start=at(9),
                      duration=2 * HOUR, preferred_worker_ids=frozenset({"w0"}))
    team = make_order("team", workers_needed=2, earliest_start=at(9), latest_start=at(13),
                      duration=HOUR)
    result = dispatch([busy, team], [make_worker("w0"), make_worker("w1")])
    members = placed(result, "team")
    assert {w for w, _ in members} == {"w0", "w1"} and members[0][1] >= at(11)


def test_a_team_with_soft_lateness_starts_on_time_when_it_can():
    """w1 and w2 are free for the window (09:00-10:00), w3, better scored, only from 11:00,
    which the soft window allows at a cost per minute late: the team starts on time. (The
    times were compared without the lateness term, and a late start with w3 won.)"""
    from matcher.config import LatenessConfig
    from matcher.model import Shift

    config = dataclasses.replace(CONFIG, lateness=(("cleaning", LatenessConfig(120, 1.0)),))
    workers = [make_worker("w1", credit_score=61.0), make_worker("w2", credit_score=61.0),
               make_worker("w3", credit_score=100.0, shifts=(Shift(at(11), at(18)),))]
    team = make_order("team", workers_needed=2, earliest_start=at(9), latest_start=at(10),
                      duration=HOUR)
    result = Planner(config).dispatch([team], world_of(workers), at(6))
    assert sorted(a.worker_id for a in result.assignments) == ["w1", "w2"]
    assert all(a.late_s == 0 and a.planned_start <= at(10) for a in result.assignments)


def test_a_team_larger_than_the_free_workers_stays_pending():
    result = dispatch([make_order("team", workers_needed=3)], [make_worker("w0"),
                                                               make_worker("w1")])
    assert not result.assignments
    # (NO_ELIGIBLE_WORKER is for an order no worker may take at all: README, reason codes)
    assert [(u.order_id, u.reason) for u in result.unassigned] == [
        ("team", UnassignedReason.NO_FEASIBLE_SLOT)]


def test_a_team_without_enough_feasible_workers_leaves_the_rounds():
    """A fuller day never opens a slot: a team found short of workers is not searched again in
    the dispatch's later rounds, and keeps its verdict; one with a feasible team is placed."""
    singles = [make_order(f"s{i}", customer_id=f"c{i}", earliest_start=at(10 + 2 * i),
                          latest_start=at(10 + 2 * i), duration=HOUR) for i in range(3)]
    short = make_order("short", customer_id="c7", workers_needed=3)
    planner = Planner(CONFIG)
    searched: list[str] = []
    search = planner.coupled.search.search

    def recording(orders, *args, **kw):
        searched.extend(o.order_id for o in orders)
        return search(orders, *args, **kw)

    planner.coupled.search.search = recording
    result = planner.dispatch([*singles, short], world_of([make_worker("w0"),
                                                           make_worker("w1")]), at(6))
    assert result.rounds >= 2 and len(placed(result, "s2")) == 1  # two workers, three orders
    assert searched.count("short") == 1
    assert "short" in result.exhausted
    assert {u.order_id: u.reason for u in result.unassigned} == {
        "short": UnassignedReason.NO_FEASIBLE_SLOT}


def test_a_follow_up_starts_inside_its_gap_after_the_first_visit():
    first = make_order("first", duration=HOUR)
    result = dispatch([follow_up("again", "first", 3 * HOUR, 4 * HOUR), first],
                      [make_worker("w0")])
    (_, start_first), (_, start_again) = placed(result, "first")[0], placed(result, "again")[0]
    assert 3 * HOUR <= start_again - start_first <= 4 * HOUR


def test_a_follow_up_whose_gap_leaves_its_window_is_not_placed():
    first = make_order("first", duration=HOUR)
    late = make_order("again", duration=HOUR, earliest_start=at(9), latest_start=at(10),
                      link=OrderLink("first", LinkType.START_GAP, 5 * HOUR, 6 * HOUR))
    result = dispatch([first, late], [make_worker("w0")])
    assert placed(result, "first") and not placed(result, "again")
    assert {u.order_id: u.reason for u in result.unassigned} == {
        "again": UnassignedReason.NO_FEASIBLE_SLOT}


def test_a_linked_order_waits_for_its_first_order():
    result = dispatch([follow_up("again", "first", 0, HOUR)], [make_worker("w0")])
    assert [(u.order_id, u.reason) for u in result.unassigned] == [
        ("again", UnassignedReason.LINKED_ORDER)]


def test_a_same_worker_order_goes_to_the_first_orders_worker_or_nowhere():
    workers = [make_worker("w0"), make_worker("w1")]
    first = make_order("first", duration=HOUR, preferred_worker_ids=frozenset({"w1"}))
    again = make_order("again", duration=HOUR, earliest_start=at(8), latest_start=at(17),
                       link=OrderLink("first", LinkType.SAME_WORKER))
    result = dispatch([first, again], workers)
    assert placed(result, "again")[0][0] == placed(result, "first")[0][0] == "w1"
    full = make_order("again", duration=9 * HOUR, earliest_start=at(8), latest_start=at(9),
                      link=OrderLink("first", LinkType.SAME_WORKER))
    result = dispatch([first, full], workers)
    assert not placed(result, "again")


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_cities_with_teams_and_links_stay_valid(seed):
    rng = np.random.default_rng(seed)
    workers = random_workers(rng, 10)
    orders = random_orders(rng, 12, 10)
    coupled = []
    for i, order in enumerate(orders):
        follower = coupled_to(rng, order, i, kinds=4)
        if follower is not None:
            coupled.append(follower)
    dispatch(orders + coupled, workers)


async def test_the_engine_keeps_teams_and_links_whole():
    engine = Engine(MemoryStore(), CONFIG)
    try:
        await engine.upsert_workers([make_worker(f"w{i}") for i in range(3)], now=at(6))
        team = make_order("team", workers_needed=2, duration=HOUR)
        first = make_order("first", duration=HOUR)
        again = follow_up("again", "first", 2 * HOUR, 3 * HOUR)
        await engine.submit_orders([team, first, again], at(6))
        await engine.dispatch([], at(6))
        record = await engine.order("team")
        assert record.state == OrderState.ASSIGNED and len(record.assignments) == 2
        assert (await engine.order("again")).state == OrderState.ASSIGNED
        # cancelling the first order frees the follow-up, which is dispatched on its own
        await engine.cancel_order("first")
        again_now = await engine.order("again")
        assert again_now.state == OrderState.PENDING and not again_now.assignments
        await engine.dispatch([], at(6))
        assert (await engine.order("again")).state == OrderState.ASSIGNED
        # a worker who can no longer work takes the whole team back to pending
        member = record.assignments[0].worker_id
        await engine.upsert_workers([make_worker(member, shifts=())], now=at(6))
        team_now = await engine.order("team")
        # the whole team went back to the pool and was placed again at once, without it
        assert any(f"worker {member} changed" in line for line in team_now.history)
        assert member not in team_now.worker_ids
        plans = await engine.store.plans()
        holders = sorted(w for w, jobs in plans.items() for j in jobs if j.order_id == "team")
        assert holders == team_now.worker_ids and len(holders) in (0, 2)
    finally:
        engine.close()


async def test_links_name_an_existing_order_of_the_same_customer():
    import pytest
    from matcher.errors import InvalidArgument, NotFound

    engine = Engine(MemoryStore(), CONFIG)
    try:
        with pytest.raises(NotFound, match=r"orders\[0\].link.order_id"):
            await engine.submit_orders([follow_up("again", "nowhere", 0, HOUR)], at(6))
        other = make_order("other", customer_id="c2")
        with pytest.raises(InvalidArgument) as caught:
            await engine.submit_orders([other, follow_up("again", "other", 0, HOUR)], at(6))
        assert caught.value.field == "orders[1].link.order_id"
        assert (await engine.store.orders_in(OrderState.PENDING)) == []
    finally:
        engine.close()


async def test_re_optimisation_keeps_teams_and_links_valid():
    workers = [make_worker(f"w{i}") for i in range(3)]
    orders = [make_order("team", workers_needed=2, duration=HOUR),
              make_order("first", duration=HOUR),
              follow_up("again", "first", 2 * HOUR, 3 * HOUR),
              make_order("same", duration=HOUR, earliest_start=at(8), latest_start=at(17),
                         link=OrderLink("first", LinkType.SAME_WORKER))]
    engine = Engine(MemoryStore(), CONFIG)
    try:
        await engine.upsert_workers(workers, now=at(6))
        await engine.submit_orders(orders, at(6))
        await engine.dispatch([], at(6))
        for scope in ([], ["w0"], ["w1", "w2"]):
            await engine.optimize_plans(scope, at(6), 0.3)
            plans = await engine.store.plans()
            assert check_plans(CONFIG, {w.worker_id: w for w in workers}, plans,
                               {o.order_id: o for o in orders}) == []
            for order in orders:
                assert (await engine.order(order.order_id)).state == OrderState.ASSIGNED
    finally:
        engine.close()


def test_a_first_order_moves_later_so_that_its_simultaneous_partner_fits():
    # only w1 does repairs, and it is busy until 11:00; the cleaning could start at 9:00 alone
    cleaner = make_worker("w0")
    fixer = make_worker("w1", skills=(make_worker().skills[0].__class__("repair", 3, at(24 * 90)),))
    busy = make_order("busy", customer_id="c9", service_type="repair", earliest_start=at(9),
                      latest_start=at(9), duration=2 * HOUR)
    first = make_order("first", earliest_start=at(9), latest_start=at(13), duration=HOUR)
    partner = make_order("partner", service_type="repair", earliest_start=at(9),
                         latest_start=at(13), duration=HOUR,
                         link=OrderLink("first", LinkType.START_GAP, 0, 0))
    result = dispatch([busy, first, partner], [cleaner, fixer])
    (_, a), (_, b) = placed(result, "first")[0], placed(result, "partner")[0]
    assert a == b >= at(11)
    assert not result.unassigned


def _same_candidates(a, b) -> bool:
    return (all(np.array_equal(getattr(a, name), getattr(b, name))
                for name in ("order", "row", "values", "eligible", "refused"))
            and a.slot.keys() == b.slot.keys()
            and all(np.array_equal(a.slot[k], b.slot[k]) for k in a.slot))


def test_kept_searches_give_what_a_fresh_search_gives_as_plans_change():
    """A dispatch's kept searches of team orders (searched together, then kept) match a search
    of each order alone at the moment it is used, also after teams were placed on workers
    they had priced (those orders are searched again)."""
    import dataclasses
    from matcher.coupled import FIRST_POOL
    rng = np.random.default_rng(5)
    workers = random_workers(rng, 30, spread=0.02, breaks=True)
    orders = [dataclasses.replace(o, workers_needed=int(rng.integers(1, 3)))
              for o in random_orders(rng, 16, 30, spread=0.02)]
    planner, now = Planner(CONFIG), at(6)
    world = world_of(workers).copy()
    searches = planner.coupled.searches(world, now)
    searches.prefetch(orders)
    placed_any = 0
    for order in orders:
        fresh = planner.search.search([order], world, now, planner.coupled._limit(order),
                                      FIRST_POOL)
        assert _same_candidates(searches.of(order), fresh)
        placed_any += bool(planner.coupled.place(order, world, now, searches).assignments)
    assert placed_any >= 4 and len(world.moved) >= 4  # later orders saw changed plans
    assert any(searches._fresh(o) is None for o in orders)  # some went stale
    searches.prefetch(orders)  # the stale ones again, together
    for order in orders:
        fresh = planner.search.search([order], world, now, planner.coupled._limit(order),
                                      FIRST_POOL)
        assert _same_candidates(searches.of(order), fresh)


async def _plans_problems(engine) -> list[str]:
    workers = {w.worker_id: w for w in await engine.store.workers()}
    plans = {w: list(await engine.store.plan(w)) for w in workers}
    orders = {j.order_id: (await engine.order(j.order_id)).order
              for jobs in plans.values() for j in jobs}
    return check_plans(CONFIG, workers, {w: j for w, j in plans.items() if j}, orders)


async def _first_loses_its_worker(link: OrderLink, *others):
    """A (13:00-17:00 window) and B linked to it, 4 h or more before; both on w1. At 12:00,
    B under way, w1's shift is cut so that A no longer fits; ``others`` join then."""
    from matcher.model import Shift
    engine = Engine(MemoryStore(), CONFIG)
    await engine.upsert_workers([make_worker("w1")], now=at(6))
    first = make_order("A", earliest_start=at(13), latest_start=at(17), duration=HOUR)
    before = make_order("B", earliest_start=at(9), latest_start=at(11), duration=HOUR,
                        link=link)
    await engine.submit_orders([first, before], at(6))
    result = await engine.dispatch([], at(6))
    assert {a.order_id: (a.worker_id, a.planned_start) for a in result.assignments} == \
        {"A": ("w1", at(13)), "B": ("w1", at(9))}
    await engine.upsert_workers(list(others), now=at(12))
    await engine.upsert_workers([make_worker("w1", shifts=(Shift(at(8), at(12)),))],
                                now=at(12))
    return engine


def _free(worker_id: str, start: int, **overrides):
    from matcher.model import Shift
    return make_worker(worker_id, shifts=(Shift(start, at(20)),), **overrides)


async def test_a_first_order_placed_again_keeps_the_gap_of_a_follower_under_way():
    """B starts 4 to 6 h before A: B (09:00) has started when A loses its worker. A goes again
    only where it starts 13:00-15:00: to w3, farther off, rather than to w2 at 16:00."""
    gap = OrderLink("A", LinkType.START_GAP, -6 * HOUR, -4 * HOUR)
    engine = await _first_loses_its_worker(gap, _free("w2", at(16)),
                                           _free("w3", at(12), home_lat=31.26))
    try:
        record = await engine.order("A")
        assert [(a.worker_id, a.planned_start) for a in record.assignments] == \
            [("w3", at(13))]
        assert await _plans_problems(engine) == []
    finally:
        engine.close()


# What the checker says when B, under way, has to stay while A finds no place: nothing else.
UNDER_WAY_ALONE = ["B: planned while its linked order A is not"]


async def test_a_first_order_stays_pending_when_no_slot_keeps_the_gap():
    gap = OrderLink("A", LinkType.START_GAP, -4 * HOUR, -4 * HOUR)
    engine = await _first_loses_its_worker(gap, _free("w2", at(14)))  # only from 14:00
    try:
        record = await engine.order("A")
        assert record.state == OrderState.PENDING and not record.assignments
        assert record.unassigned.reason == UnassignedReason.NO_FEASIBLE_SLOT
        assert (await engine.order("B")).assignments[0].worker_id == "w1"
        assert await _plans_problems(engine) == UNDER_WAY_ALONE
        await engine.dispatch([], at(12))  # a batch round does not move it either
        assert not (await engine.order("A")).assignments
        assert await _plans_problems(engine) == UNDER_WAY_ALONE
    finally:
        engine.close()


async def test_a_first_order_whose_same_worker_follower_is_under_way_stays_with_its_worker():
    """B must have A's worker: once B has started on w1 and w1 cannot do A any more, no other
    worker may take A."""
    engine = await _first_loses_its_worker(OrderLink("A", LinkType.SAME_WORKER),
                                           _free("w2", at(12)))
    try:
        record = await engine.order("A")
        assert record.state == OrderState.PENDING and not record.assignments
        assert await _plans_problems(engine) == UNDER_WAY_ALONE
        await engine.dispatch([], at(12))
        assert not (await engine.order("A")).assignments
        assert await _plans_problems(engine) == UNDER_WAY_ALONE
    finally:
        engine.close()


async def test_a_first_order_bound_both_ways_waits_to_be_placed_by_hand():
    """A follows C and B follows A: when A loses its worker while B has started, one link
    cannot say both; A is then placed by no one (no worker eligible), never in breach, and
    its reason says so (LINKED_ORDER, in the dispatch's answer and in ExplainOrder's), not
    that no worker is eligible."""
    from matcher.model import Shift
    engine = Engine(MemoryStore(), CONFIG)
    try:
        await engine.upsert_workers([make_worker("w1")], now=at(6))
        c = make_order("C", earliest_start=at(10), latest_start=at(11), duration=HOUR)
        a = make_order("A", earliest_start=at(13), latest_start=at(17), duration=HOUR,
                       link=OrderLink("C", LinkType.SAME_WORKER))
        b = make_order("B", earliest_start=at(9), latest_start=at(11), duration=HOUR,
                       link=OrderLink("A", LinkType.START_GAP, -4 * HOUR, -4 * HOUR))
        await engine.submit_orders([c, a, b], at(6))
        await engine.dispatch([], at(6))
        assert {o: (await engine.order(o)).worker_ids for o in "CAB"} == \
            {o: ["w1"] for o in "CAB"}
        await engine.upsert_workers([_free("w2", at(12))], now=at(12))
        await engine.upsert_workers([make_worker("w1", shifts=(Shift(at(6), at(12)),))],
                                    now=at(12))
        from server import explain_unassigned
        record = await engine.order("A")
        assert record.state == OrderState.PENDING and not record.assignments
        assert record.unassigned.reason == UnassignedReason.LINKED_ORDER
        assert "B kept their places" in record.unassigned.detail
        assert "linked to C itself" in record.unassigned.detail
        result = await engine.dispatch(["A"], at(12))
        assert not result.assignments
        assert [u.reason for u in result.unassigned] == [UnassignedReason.LINKED_ORDER]
        assert not (await engine.order("A")).assignments
        _, why = await engine.explain("A", at(12))
        assert why.total_workers == why.ruled_out["customer_block"]  # every worker blocked
        assert await explain_unassigned(engine, await engine.order("A"), why, at(12)) == \
            record.unassigned
        assert await _plans_problems(engine) == ["B: planned while its linked order A is not"]
    finally:
        engine.close()


async def test_a_first_order_placed_again_keeps_the_gap_of_a_follower_already_done():
    """As with a follower under way; B done by the time A loses its worker (a store finds
    no done order by its link: B's start noted it on A)."""
    from matcher.model import Shift
    engine = Engine(MemoryStore(), CONFIG)
    try:
        await engine.upsert_workers([make_worker("w1")], now=at(6))
        first = make_order("A", earliest_start=at(13), latest_start=at(17), duration=HOUR)
        before = make_order("B", earliest_start=at(9), latest_start=at(11), duration=HOUR,
                            link=OrderLink("A", LinkType.START_GAP, -6 * HOUR, -4 * HOUR))
        await engine.submit_orders([first, before], at(6))
        await engine.dispatch([], at(6))
        await engine.start_order("B", at(9))
        await engine.complete_order("B", None, at(10))
        assert (await engine.order("A")).bound_by == {"B"}
        await engine.upsert_workers([_free("w2", at(16))], now=at(12))  # 16:00 breaks it
        await engine.upsert_workers([make_worker("w1", shifts=(Shift(at(8), at(12)),))],
                                    now=at(12))
        assert not (await engine.order("A")).assignments
        assert await _plans_problems(engine) == ["B: planned while its linked order A is not"]
    finally:
        engine.close()


async def test_re_optimisation_keeps_a_first_order_whose_follower_outside_it_is_done():
    from matcher.model import Shift
    from tests.builders import CENTRE
    engine = Engine(MemoryStore(), CONFIG)
    try:
        await engine.upsert_workers([
            make_worker("w0", shifts=(Shift(at(8), at(12)),)),
            make_worker("w1", home_lat=CENTRE[0] + 0.09, shifts=(Shift(at(12), at(20)),))],
            now=at(6))
        first = make_order("A", earliest_start=at(13), latest_start=at(17), duration=HOUR)
        before = make_order("B", earliest_start=at(9), latest_start=at(11), duration=HOUR,
                            link=OrderLink("A", LinkType.START_GAP, -6 * HOUR, -4 * HOUR))
        await engine.submit_orders([first, before], at(6))
        result = await engine.dispatch([], at(6))
        assert {a.order_id: (a.worker_id, a.planned_start) for a in result.assignments} == \
            {"A": ("w1", at(13)), "B": ("w0", at(9))}
        await engine.start_order("B", at(9))
        await engine.complete_order("B", None, at(10))
        # w2 lives nearer A, but is free only from 16:00: too late for B's gap
        await engine.upsert_workers([make_worker("w2", shifts=(Shift(at(16), at(20)),))],
                                    now=at(11))
        await engine.optimize_plans(["w1", "w2"], at(11), 0.5)
        assert [(a.worker_id, a.planned_start) for a in (await engine.order("A")).assignments] \
            == [("w1", at(13))]
        assert await _plans_problems(engine) == []
    finally:
        engine.close()


async def _done_follower_elsewhere(day2: bool, offline: bool):
    """B, 4-6 h (or, ``day2``, 26-28 h) before A, done on w0; A on w1 (farther off). w2,
    nearer A, joins free only too late for B's gap."""
    from matcher.model import Shift, WorkerStatus
    from tests.builders import CENTRE, DAY
    day = DAY + 86400 if day2 else DAY
    gap = (-28 * HOUR, -26 * HOUR) if day2 else (-6 * HOUR, -4 * HOUR)
    engine = Engine(MemoryStore(), CONFIG)
    await engine.upsert_workers([
        make_worker("w0", shifts=(Shift(at(8), at(12)),)),
        make_worker("w1", home_lat=CENTRE[0] + 0.09,
                    shifts=(Shift(at(12, day), at(20, day)),))], now=at(6))
    first = make_order("A", earliest_start=at(13, day), latest_start=at(17, day),
                       duration=HOUR)
    before = make_order("B", earliest_start=at(9), latest_start=at(11), duration=HOUR,
                        link=OrderLink("A", LinkType.START_GAP, *gap))
    await engine.submit_orders([first, before], at(6))
    result = await engine.dispatch([], at(6))
    assert {a.order_id: (a.worker_id, a.planned_start) for a in result.assignments} == \
        {"A": ("w1", at(13, day)), "B": ("w0", at(9))}
    await engine.start_order("B", at(9))
    await engine.complete_order("B", None, at(10))
    if offline:
        await engine.set_worker_status("w0", WorkerStatus.OFFLINE, at(11))
    now = at(7, day) if day2 else at(11)
    await engine.upsert_workers([make_worker("w2", shifts=(Shift(at(16, day), at(20, day)),))],
                                now=now)
    return engine, now, day


@pytest.mark.parametrize("day2, offline, scope", [
    (True, False, []), (False, True, []), (False, True, ["w0", "w1", "w2"])],
    ids=["done-the-day-before", "worker-gone-offline", "worker-gone-offline-named"])
async def test_re_optimisation_keeps_the_gap_of_a_done_follower_out_of_its_model(
        day2, offline, scope):
    """B's job is kept out of the routing model (a past day, an offline worker): A must not
    move out of B's gap all the same."""
    engine, now, day = await _done_follower_elsewhere(day2, offline)
    try:
        await engine.optimize_plans(scope, now, 0.5)
        assert [(a.worker_id, a.planned_start) for a in
                (await engine.order("A")).assignments] == [("w1", at(13, day))]
        problems = await _plans_problems(engine)
        assert [p for p in problems if "worker status" not in p] == []  # (B's: history)
    finally:
        engine.close()


@pytest.mark.parametrize("done", [False, True], ids=["under-way", "done"])
async def test_re_optimisation_keeps_a_team_with_the_worker_of_its_same_worker_follower(done):
    from tests.builders import CENTRE
    far = dict(lat=CENTRE[0] + 0.08, lon=CENTRE[1])
    engine = Engine(MemoryStore(), CONFIG)
    try:
        await engine.upsert_workers([make_worker("w1"), make_worker("w2")], now=at(6))
        team = make_order("A", workers_needed=2, earliest_start=at(14), latest_start=at(16),
                          duration=HOUR, **far)
        same = make_order("B", earliest_start=at(9), latest_start=at(11), duration=HOUR,
                          link=OrderLink("A", LinkType.SAME_WORKER))
        await engine.submit_orders([team, same], at(6))
        await engine.dispatch([], at(6))
        assert (await engine.order("B")).worker_ids == ["w1"]
        await engine.start_order("B", at(9))
        if done:
            await engine.complete_order("B", None, at(10))
        await engine.upsert_workers([make_worker(w, home_lat=far["lat"], home_lon=far["lon"])
                                     for w in ("w3", "w4")], now=at(11))  # nearer A
        await engine.optimize_plans([], at(11), 0.5)
        assert "w1" in (await engine.order("A")).worker_ids
        assert await _plans_problems(engine) == []
    finally:
        engine.close()


@pytest.mark.parametrize("scope", [[], ["w2"]], ids=["every-worker", "one-member"])
async def test_re_optimisation_puts_a_same_worker_follower_of_a_team_where_dispatch_would(
        scope):
    """With the team's first member (w1) in sight, the follower goes with it, as a round puts
    it; with only w2 in sight, it is left for a round."""
    engine = Engine(MemoryStore(), CONFIG)
    try:
        await engine.upsert_workers([make_worker("w1"), make_worker("w2")], now=at(6))
        await engine.submit_orders([make_order("A", workers_needed=2, duration=HOUR)], at(6))
        await engine.dispatch([], at(6))
        assert (await engine.order("A")).worker_ids == ["w1", "w2"]
        await engine.submit_orders([make_order("B", earliest_start=at(13), latest_start=at(15),
                                               duration=HOUR,
                                               link=OrderLink("A", LinkType.SAME_WORKER))],
                                   at(6))
        await engine.optimize_plans(scope, at(6), 0.5)
        assert (await engine.order("B")).worker_ids == (["w1"] if not scope else [])
        assert await _plans_problems(engine) == []
    finally:
        engine.close()
