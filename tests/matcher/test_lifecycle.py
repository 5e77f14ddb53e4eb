"""The order lifecycle in the engine: offers, cancellations, worker state, completion, feedback,
credit, certificates, locations and the event log; every test on the memory store and on the
Redis store."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.config import DispatchConfig
from matcher.credit import credit_score
from matcher.engine import CancelledBy, Engine
from matcher.engine_lifecycle import Feedback, iso
from matcher.errors import AlreadyExists, FailedPrecondition, InvalidArgument
from matcher.lifecycle import TRANSITIONS
from matcher.model import (Complaint, DispatchMode, EventType, FeedbackSource, LinkType, Location,
                           MAX_TIME, OrderLink, OrderState, Skill, WorkerStatus)
from tests.builders import CENTRE, DAY, at, make_order, make_worker

CONFIG = DispatchConfig()
NOW = at(7)
FAR = dict(home_lat=CENTRE[0] + 0.05)  # a worker further from the orders than the default one


@pytest.fixture
async def engine(store):
    """An engine on each store of the contract (memory, and a real redis-server)."""
    engine = Engine(store, CONFIG)
    yield engine
    engine.close()


async def offered(engine, *orders, workers=("near", "far")):
    """Workers near and far, the orders submitted and dispatched at NOW."""
    await engine.upsert_workers([make_worker("near")] + [
        make_worker(w, **FAR) for w in workers if w != "near"], now=NOW)
    await engine.submit_orders(list(orders) or [make_order("o1")], NOW)
    await engine.dispatch([], NOW)


async def events(engine, kind=None):
    return [e for e in await engine.store.events_after("", 10_000)
            if kind is None or e.type == kind]


async def planned(engine, order_id):
    plans = await engine.store.plans()
    return sorted(w for w, jobs in plans.items() for j in jobs if j.order_id == order_id)


def test_the_state_table_has_a_row_per_state_and_final_states_go_nowhere():
    assert set(TRANSITIONS) == set(OrderState)
    for final in (OrderState.COMPLETED, OrderState.CANCELLED, OrderState.EXPIRED):
        assert TRANSITIONS[final] == frozenset()


# ---------------------------------------------------------------- submitting again

async def test_an_instant_order_sent_again_beside_a_new_one_keeps_its_offer(engine):
    """New orders are written at once, each expected not to exist; a request that also names
    an existing order (the same content) is refused by the store as a whole and taken the
    careful way: the existing order answered with its offer, the new one placed."""
    await engine.upsert_workers([make_worker("near")], now=NOW)
    first = await engine.submit_orders([make_order("o1", mode=DispatchMode.INSTANT)], NOW)
    later = make_order("o2", mode=DispatchMode.INSTANT, earliest_start=at(13),
                       latest_start=at(14))
    both = await engine.submit_orders([make_order("o1", mode=DispatchMode.INSTANT), later],
                                      NOW)
    assert both.accepted == 2 and both.assignments[0] == first.assignments[0]
    assert [(a.order_id, a.worker_id) for a in both.assignments] == [("o1", "near"),
                                                                     ("o2", "near")]
    assert [e.order_id for e in await events(engine, EventType.OFFERED)] == ["o1", "o2"]
    with pytest.raises(AlreadyExists, match=r"orders\[0\].order_id"):
        await engine.submit_orders([make_order("o1", priority=9), make_order("o3")], NOW)
    assert await engine.store.order("o3") is None


# ---------------------------------------------------------------- offers

async def test_an_assignment_is_first_an_offer_with_a_deadline(engine):
    await offered(engine)
    record = await engine.order("o1")
    assert record.state == OrderState.OFFERED and record.worker_ids == ["near"]
    assert record.offer_deadline == NOW + CONFIG.offers.timeout_s
    assert [(e.order_id, e.worker_id) for e in await events(engine, EventType.OFFERED)] == [
        ("o1", "near")]
    assert await planned(engine, "o1") == ["near"]  # the slot is held while the worker decides


async def test_accepting_assigns_and_locks_the_job(engine):
    await offered(engine)
    record = await engine.respond_to_offer("o1", "near", True, NOW + 60)
    assert record.state == OrderState.ASSIGNED and record.accepted == {"near"}
    kinds = [e.type for e in await events(engine)]
    assert kinds[-2:] == [EventType.ACCEPTED, EventType.ASSIGNED]
    # re-optimisation may not move it, even where another plan would be cheaper
    result = await engine.optimize_plans([], NOW + 60, 0.2)
    assert result.moved == 0 and await planned(engine, "o1") == ["near"]


async def test_a_decline_sends_the_order_to_the_next_round_without_that_worker(engine):
    await offered(engine)
    record = await engine.respond_to_offer("o1", "near", False, NOW + 60)
    assert record.state == OrderState.PENDING and record.excluded == {"near"}
    assert await planned(engine, "o1") == []  # batched: it waits for the next round
    await engine.dispatch([], NOW + 120)
    again = await engine.order("o1")
    assert again.state == OrderState.OFFERED and again.worker_ids == ["far"]
    kinds = [e.type for e in await events(engine)]
    assert EventType.DECLINED in kinds and EventType.REDISPATCHED in kinds


async def test_a_declined_instant_order_is_placed_again_at_once(engine):
    await offered(engine, make_order("o1", mode=DispatchMode.INSTANT))
    record = await engine.respond_to_offer("o1", "", False, NOW + 60)
    assert record.state == OrderState.OFFERED and record.worker_ids == ["far"]


async def test_an_unanswered_offer_lapses_at_its_deadline(engine):
    await offered(engine)
    await engine.tick(NOW + CONFIG.offers.timeout_s - 1)
    assert (await engine.order("o1")).state == OrderState.OFFERED
    await engine.tick(NOW + CONFIG.offers.timeout_s)
    record = await engine.order("o1")
    assert record.state == OrderState.PENDING and record.excluded == {"near"}
    assert [e.worker_id for e in await events(engine, EventType.OFFER_TIMED_OUT)] == ["near"]
    with pytest.raises(FailedPrecondition, match="is PENDING"):
        await engine.respond_to_offer("o1", "near", True, NOW + CONFIG.offers.timeout_s)


async def test_a_late_answer_finds_the_offer_lapsed(engine):
    await offered(engine)
    with pytest.raises(FailedPrecondition, match="is PENDING; answering an offer needs it "
                                                 "OFFERED"):
        await engine.respond_to_offer("o1", "near", True, NOW + CONFIG.offers.timeout_s + 5)
    assert (await engine.order("o1")).excluded == {"near"}


async def test_only_the_offered_worker_may_answer(engine):
    await offered(engine)
    with pytest.raises(FailedPrecondition, match="'far' is not a worker of order 'o1'"):
        await engine.respond_to_offer("o1", "far", True, NOW)
    assert (await engine.order("o1")).state == OrderState.OFFERED


async def test_a_team_is_assigned_when_every_member_accepts_and_falls_apart_on_one_decline(
        engine):
    await offered(engine, make_order("team", workers_needed=2), workers=("near", "far", "w3"))
    team = await engine.order("team")
    first, second = team.worker_ids
    assert (await engine.respond_to_offer("team", first, True, NOW)).state == OrderState.OFFERED
    record = await engine.respond_to_offer("team", second, False, NOW)
    assert record.state == OrderState.PENDING and await planned(engine, "team") == []
    assert record.excluded == {second}  # the one who accepted is not excluded


async def test_answering_twice_is_idempotent_on_request_id(engine):
    await offered(engine)
    first = await engine.respond_to_offer("o1", "near", True, NOW, request_id="r1")
    again = await engine.respond_to_offer("o1", "near", True, NOW, request_id="r1")
    assert again == first
    with pytest.raises(AlreadyExists, match="request_id"):
        await engine.respond_to_offer("o1", "near", False, NOW, request_id="r1")


# ---------------------------------------------------------------- cancellations

async def test_a_customer_cancellation_frees_the_slot(engine):
    await offered(engine)
    record = await engine.cancel_order("o1", "plans changed", now=NOW)
    assert record.state == OrderState.CANCELLED and await planned(engine, "o1") == []
    assert (await events(engine))[-1].type == EventType.CANCELLED


async def test_a_worker_cancellation_costs_credit_and_re_dispatches_at_once(engine):
    await offered(engine)
    await engine.respond_to_offer("o1", "near", True, NOW)
    record = await engine.cancel_order("o1", "sick", by=CancelledBy.WORKER, now=NOW + 60)
    assert record.state == OrderState.OFFERED and record.worker_ids == ["far"]
    assert record.excluded == {"near"}
    assert record.priority_boost == CONFIG.cancellation.worker_priority_boost
    near = await engine.store.worker("near")
    assert near.credit_score == 80.0 - CONFIG.credit.worker_cancellation
    changed = await events(engine, EventType.CREDIT_CHANGED)
    assert changed[-1].worker_id == "near" and "worker_cancellation on o1" in changed[-1].detail


async def test_a_worker_cannot_cancel_an_order_it_does_not_hold(engine):
    await engine.upsert_workers([make_worker("near")], now=NOW)
    await engine.submit_orders([make_order("o1")], NOW)
    with pytest.raises(FailedPrecondition, match="is PENDING"):
        await engine.cancel_order("o1", by=CancelledBy.WORKER, now=NOW)


# ---------------------------------------------------------------- worker state

async def test_a_worker_going_offline_loses_its_unstarted_jobs_to_others(engine):
    await offered(engine, make_order("o1"), make_order("o2", earliest_start=at(12),
                                                      latest_start=at(13)), workers=("near",))
    await engine.dispatch([], NOW)  # a second round: one order per worker per round
    assert await planned(engine, "o1") == ["near"] and await planned(engine, "o2") == ["near"]
    await engine.upsert_workers([make_worker("far", **FAR)], now=NOW)
    await engine.respond_to_offer("o1", "near", True, NOW)
    await engine.start_order("o1", at(9.5))
    worker = await engine.set_worker_status("near", WorkerStatus.OFFLINE, at(10), "went home")
    assert worker.status == WorkerStatus.OFFLINE
    assert await planned(engine, "o1") == ["near"]  # in progress: stays
    assert await planned(engine, "o2") == ["far"]
    assert any(e.type == EventType.WORKER_STATUS_CHANGED and "went home" in e.detail
               for e in await events(engine))


async def test_a_suspended_worker_takes_no_order(engine):
    await engine.upsert_workers([make_worker("near")], now=NOW)
    await engine.set_worker_status("near", WorkerStatus.SUSPENDED, NOW)
    await engine.submit_orders([make_order("o1")], NOW)
    result = await engine.dispatch([], NOW)
    assert not result.assignments


async def test_a_reported_location_starts_the_next_trip(engine):
    away = (CENTRE[0] + 0.08, CENTRE[1])  # far from home, right next to the order
    await engine.upsert_workers([make_worker("near")], now=NOW)
    order = make_order("o1", lat=away[0], lon=away[1] + 0.001, earliest_start=at(9),
                       latest_start=at(11))
    await engine.update_location("near", Location(away[0], away[1], at(9)))
    await engine.submit_orders([dataclasses.replace(order, mode=DispatchMode.INSTANT)], at(9))
    placed = (await engine.order("o1")).assignment
    assert placed.travel_km < 0.3 and placed.planned_start < at(9) + 120
    # a stale report is not used: the trip starts at home
    await engine.set_worker_status("near", WorkerStatus.ON_LEAVE, at(10))
    await engine.upsert_workers([make_worker("other")], now=at(10))
    await engine.update_location("other", Location(away[0], away[1], at(6)))
    other = make_order("o2", lat=away[0], lon=away[1] + 0.001, earliest_start=at(13),
                       latest_start=at(14), mode=DispatchMode.INSTANT)
    await engine.submit_orders([other], at(13))
    assert (await engine.order("o2")).assignment.travel_km > 5.0


# ---------------------------------------------------------------- work and feedback

async def test_start_and_complete_follow_the_state_table(engine):
    await offered(engine)
    with pytest.raises(FailedPrecondition, match="is OFFERED; starting needs it ASSIGNED"):
        await engine.start_order("o1", at(9))
    await engine.respond_to_offer("o1", "near", True, NOW)
    assert (await engine.start_order("o1", at(9))).state == OrderState.IN_PROGRESS
    with pytest.raises(InvalidArgument, match="actual_end_time"):
        await engine.complete_order("o1", None, at(9))
    done = await engine.complete_order("o1", None, at(11))
    assert done.state == OrderState.COMPLETED and (done.started_at, done.completed_at) == (
        at(9), at(11))
    with pytest.raises(FailedPrecondition, match="is COMPLETED"):
        await engine.cancel_order("o1", now=at(12))
    assert await planned(engine, "o1") == ["near"]  # the day's record of work


async def completed(engine):
    await offered(engine)
    await engine.respond_to_offer("o1", "near", True, NOW)
    await engine.complete_order("o1", at(9), at(11))


async def test_feedback_moves_credit_by_the_documented_formula(engine):
    await completed(engine)
    standing, = await engine.submit_feedback("o1", Feedback(stars=5), at(12))
    assert standing.credit_score == 83.33 and standing.tier == "normal"
    with pytest.raises(AlreadyExists, match="CUSTOMER feedback"):
        await engine.submit_feedback("o1", Feedback(stars=1), at(12))
    # the centre's follow-up visit is a source of its own
    standing, = await engine.submit_feedback(
        "o1", Feedback(complaint=Complaint.MINOR, on_time=False,
                       source=FeedbackSource.FOLLOW_UP), at(13))
    record = await engine.store.credit("near")
    assert [e.kind for e in record.events] == ["review", "complaint_minor", "late_arrival"]
    assert standing.credit_score == credit_score(80.0, record.events, at(13), CONFIG.credit)


async def test_feedback_on_an_order_not_completed_is_refused(engine):
    await offered(engine)
    with pytest.raises(FailedPrecondition, match="is OFFERED; feedback needs it COMPLETED"):
        await engine.submit_feedback("o1", Feedback(stars=4), NOW)
    with pytest.raises(InvalidArgument, match="stars"):
        await engine.submit_feedback("o1", Feedback(stars=6), NOW)


async def test_severe_complaints_suspend_a_worker_and_its_jobs_go_to_others(engine):
    await completed(engine)
    await engine.submit_orders([make_order("o2", earliest_start=at(14), latest_start=at(15))],
                               at(12))
    await engine.dispatch([], at(12))
    assert await planned(engine, "o2") == ["near"]
    standing, = await engine.submit_feedback("o1", Feedback(stars=1,
                                                            complaint=Complaint.SEVERE), at(12))
    assert standing.tier == "suspended" and standing.credit_score < 60
    assert await planned(engine, "o2") == ["far"]
    tiers = await events(engine, EventType.TIER_CHANGED)
    assert tiers[-1].detail == "normal -> suspended: 1-star review, complaint_severe on o1"
    # credit recovers as the complaint fades, and the tier with it
    await engine.tick(at(12) + 400 * 86400)
    assert (await engine.store.worker("near")).credit_score > 75
    assert (await events(engine, EventType.TIER_CHANGED))[-1].detail.startswith(
        "suspended -> normal")


async def test_a_base_score_set_again_is_a_credit_and_tier_change_like_any_other(engine):
    """UpsertWorkers sets the base score: the score and the tier it moves are events with
    the reason, the same as feedback's; an upsert that keeps the score tells nothing."""
    await offered(engine)
    assert await planned(engine, "o1") == ["near"]
    await engine.upsert_workers([make_worker("near", credit_score=80.0)], now=at(7))
    assert await events(engine, EventType.CREDIT_CHANGED) == []
    await engine.upsert_workers([make_worker("near", credit_score=50.0)], now=at(7))
    changed = await events(engine, EventType.CREDIT_CHANGED)
    assert [(e.worker_id, e.detail) for e in changed] == [
        ("near", "80.00 -> 50.00: base score set to 50.00")]
    tiers = await events(engine, EventType.TIER_CHANGED)
    assert [(e.worker_id, e.detail) for e in tiers] == [
        ("near", "normal -> suspended: base score set to 50.00")]
    assert await planned(engine, "o1") == ["far"]  # a suspended worker keeps no job


async def test_an_upsert_keeping_the_base_score_tells_decay_as_decay(engine):
    await offered(engine)
    await engine.cancel_order("o1", "sick", by=CancelledBy.WORKER, worker_id="near", now=at(7))
    fell = (await engine.store.worker("near")).credit_score
    await engine.upsert_workers([make_worker("near")], now=at(7) + 30 * 86400)  # base 80
    last = (await events(engine, EventType.CREDIT_CHANGED))[-1]
    assert last.detail == (f"{fell:.2f} -> "
                           f"{(await engine.store.worker('near')).credit_score:.2f}: "
                           "older events decayed")


async def test_a_credit_fall_that_every_job_survives_writes_no_plan(engine):
    """The jobs of a worker whose credit fell are checked again; a plan they all still fit
    is not written again (a write would mark the worker changed for every reader of plans)."""
    await completed(engine)
    await engine.submit_orders([make_order("o2", earliest_start=at(14), latest_start=at(15))],
                               at(12))
    await engine.dispatch([], at(12))
    before = await engine.store.plan("near")
    standing, = await engine.submit_feedback("o1", Feedback(stars=3), at(12))
    assert standing.credit_score < 80 and await planned(engine, "o2") == ["near"]
    after = await engine.store.plan("near")
    assert list(after) == list(before) and after.version == before.version


async def test_a_no_show_is_penalised_and_the_order_placed_again(engine):
    await offered(engine)
    await engine.respond_to_offer("o1", "near", True, NOW)
    standing, = await engine.submit_feedback("o1", Feedback(no_show=True), at(9.2))
    assert standing.credit_score == 80.0 - CONFIG.credit.no_show
    record = await engine.order("o1")
    assert record.excluded == {"near"} and record.worker_ids == ["far"]


# ---------------------------------------------------------------- certificates

async def test_a_certificate_near_its_expiry_is_warned_about_once(engine):
    expiry = DAY + 10 * 86400
    await engine.upsert_workers([make_worker("near", skills=(Skill("cleaning", 3, expiry),))],
                                now=NOW)
    await engine.tick(expiry - 20 * 86400)
    assert not await events(engine, EventType.CERTIFICATE_EXPIRING)
    await engine.tick(expiry - 5 * 86400)
    await engine.tick(expiry - 4 * 86400)
    warned = await events(engine, EventType.CERTIFICATE_EXPIRING)
    assert [e.worker_id for e in warned] == ["near"] and "cleaning" in warned[0].detail


async def test_a_certificate_cut_short_sends_the_jobs_past_it_to_others(engine):
    later = make_order("o2", earliest_start=at(9, DAY + 3 * 86400),
                       latest_start=at(11, DAY + 3 * 86400))
    far_shifts = dict(shifts=tuple(make_worker().shifts) + (
        dataclasses.replace(make_worker().shifts[0], start=at(8, DAY + 3 * 86400),
                            end=at(18, DAY + 3 * 86400)),))
    await engine.upsert_workers([make_worker("near", **far_shifts)], now=NOW)
    await engine.submit_orders([make_order("o1"), later], NOW)
    await engine.dispatch([], NOW)
    assert await planned(engine, "o2") == ["near"]
    await engine.upsert_workers([make_worker("far", **FAR, **far_shifts)], now=NOW)
    renewed_late = Skill("cleaning", 3, DAY + 2 * 86400)
    await engine.upsert_workers([make_worker("near", skills=(renewed_late,), **far_shifts)],
                                now=NOW)
    assert await planned(engine, "o1") == ["near"] and await planned(engine, "o2") == ["far"]


# ---------------------------------------------------------------- events

async def test_events_resume_after_a_cursor_without_gaps_or_repeats(engine):
    await offered(engine)
    await engine.respond_to_offer("o1", "near", True, NOW)
    every = await events(engine)
    cursors = [e.cursor for e in every]
    assert len(set(cursors)) == len(cursors) and len(every) >= 3
    rest = await engine.store.events_after(every[0].cursor, 10_000)
    assert rest == every[1:]
    assert await engine.events(every[-1].cursor, 10, 0.01) == []
    with pytest.raises(InvalidArgument, match="after_cursor"):
        await engine.store.events_after("999999", 1)


# ---------------------------------------------------------------- re-optimisation and offers

async def test_re_optimisation_offers_what_it_places_and_keeps_what_is_offered(engine):
    await offered(engine, make_order("o1"), workers=("near",))
    before = await planned(engine, "o1")
    await engine.submit_orders([make_order("o2", customer_id="c2", earliest_start=at(13),
                                           latest_start=at(14))], NOW)
    result = await engine.optimize_plans([], NOW, 0.2)
    assert result.placed == ("o2",) and await planned(engine, "o1") == before
    placed = await engine.order("o2")
    assert placed.state == OrderState.OFFERED and placed.offer_deadline > NOW
    assert (await events(engine, EventType.OFFERED))[-1].order_id == "o2"


async def test_a_retried_dispatch_answers_the_same_and_dispatches_nothing_more(engine):
    await engine.upsert_workers([make_worker("near")], now=NOW)
    await engine.submit_orders([make_order("o1")], NOW)
    first = await engine.dispatch([], NOW, request_id="round-1")
    await engine.submit_orders([make_order("o2", customer_id="c2", earliest_start=at(13),
                                           latest_start=at(14))], NOW)
    again = await engine.dispatch([], NOW, request_id="round-1")
    assert again == first and (await engine.order("o2")).state == OrderState.PENDING


async def test_a_better_credit_counts_in_the_next_dispatch(engine):
    await completed(engine)
    await engine.upsert_workers([make_worker("twin")], now=at(12))  # same place, same credit
    await engine.submit_feedback("o1", Feedback(stars=5), at(12))
    order = make_order("o2", customer_id="c2", earliest_start=at(14), latest_start=at(15),
                       mode=DispatchMode.INSTANT)
    await engine.submit_orders([order], at(12))
    placed = (await engine.order("o2")).assignment
    credit = next(t for t in placed.score_terms if t.name == "credit")
    assert placed.worker_id == "near" and credit.value == pytest.approx(0.8333)


# ---------------------------------------------------------------- found by a review

@pytest.mark.parametrize("accept", [True, False])
async def test_a_late_answer_naming_no_worker_is_not_taken_for_the_next_worker(engine, accept):
    """The offer to near lapses and the instant order goes to far at once; near's answer
    after the deadline, with no worker id (allowed for a one-worker order), is refused as
    late: it neither accepts for far, who was never asked, nor excludes far."""
    await engine.upsert_workers([make_worker("near"), make_worker("far", **FAR)], now=NOW)
    await engine.submit_orders([make_order("o1", mode=DispatchMode.INSTANT)], NOW)
    assert (await engine.order("o1")).worker_ids == ["near"]
    with pytest.raises(FailedPrecondition, match="near"):
        await engine.respond_to_offer("o1", "", accept, NOW + CONFIG.offers.timeout_s + 5)
    record = await engine.order("o1")
    assert (record.state, record.worker_ids, record.accepted, record.excluded) == \
        (OrderState.OFFERED, ["far"], set(), {"near"})


async def test_an_offer_whose_start_has_come_goes_back_when_its_worker_is_suspended(engine):
    """A job offered to start at once stays with its worker while it may still go; the
    worker suspended before starting it loses it (and cannot accept it afterwards)."""
    now = at(8.5)
    await engine.upsert_workers([make_worker("near")], now=now)
    await engine.submit_orders([make_order("o1", lat=CENTRE[0], lon=CENTRE[1],
                                           earliest_start=now, latest_start=at(9.5))], now)
    await engine.dispatch([], now)
    record = await engine.order("o1")
    assert record.state == OrderState.OFFERED and record.assignments[0].planned_start == now
    await engine.upsert_workers([make_worker("near")], now=now + 5)  # no change: it stays
    assert (await engine.order("o1")).worker_ids == ["near"]

    await engine.set_worker_status("near", WorkerStatus.SUSPENDED, now + 10, "fraud")
    record = await engine.order("o1")
    assert record.state != OrderState.OFFERED and "near" not in record.worker_ids
    assert await planned(engine, "o1") == []
    with pytest.raises(FailedPrecondition):
        await engine.respond_to_offer("o1", "near", True, now + 20)


async def test_an_offer_whose_start_has_come_leaves_a_worker_the_customer_then_blocks(engine):
    now = at(8.5)
    await engine.upsert_workers([make_worker("near"), make_worker("far", **FAR)], now=now)
    await engine.submit_orders([make_order("o1", lat=CENTRE[0], lon=CENTRE[1],
                                           earliest_start=now, latest_start=at(9.5))], now)
    await engine.dispatch([], now)
    assert (await engine.order("o1")).worker_ids == ["near"]
    await engine.submit_orders([make_order("o2", earliest_start=at(14), latest_start=at(15),
                                           blocked_worker_ids=frozenset({"near"}))], now + 60)
    assert "near" not in (await engine.order("o1")).worker_ids
    assert await planned(engine, "o1") in ([], ["far"])


async def test_followers_of_a_cancelled_order_go_back_at_the_time_of_the_cancellation(engine):
    await offered(engine, make_order("a"), make_order(
        "b", earliest_start=at(9), latest_start=at(16),
        link=OrderLink("a", LinkType.START_GAP, 3 * 3600, 5 * 3600)))
    await engine.dispatch([], NOW)
    assert (await engine.order("b")).state == OrderState.OFFERED
    await engine.cancel_order("a", "not needed", now=NOW + 60)
    assert [e.time for e in await events(engine, EventType.REDISPATCHED)
            if e.order_id == "b"] == [NOW + 60]


async def test_linked_offers_lapsing_together_are_sent_back_once_each(engine):
    await offered(engine, make_order("a"), make_order(
        "b", earliest_start=at(9), latest_start=at(16),
        link=OrderLink("a", LinkType.START_GAP, 3 * 3600, 5 * 3600)))
    await engine.dispatch([], NOW)
    a, b = await engine.order("a"), await engine.order("b")
    assert a.state == b.state == OrderState.OFFERED
    await engine.tick(max(a.offer_deadline, b.offer_deadline))
    assert sorted(e.order_id for e in await events(engine, EventType.REDISPATCHED)) == ["a", "b"]


async def test_a_no_show_on_an_order_without_a_worker_names_its_state(engine):
    await engine.upsert_workers([make_worker("near")], now=NOW)
    await engine.submit_orders([make_order("o1")], NOW)
    with pytest.raises(FailedPrecondition, match="PENDING"):
        await engine.submit_feedback("o1", Feedback(no_show=True), NOW)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, MAX_TIME + 30 * DAY))
def test_times_in_histories_are_iso_8601_in_utc(seconds):
    expected = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert iso(seconds) == expected
    assert iso(1796706000) == "2026-12-08T05:00:00Z"
