"""tick's certificate check reads only the workers whose plan or record changed since its last
look (matcher.certificate_watch), and still finds every job a certificate no longer covers and
warns about every certificate near its expiry."""

from __future__ import annotations

import dataclasses

from matcher.config import CertificatesConfig, DispatchConfig
from matcher.engine import Engine
from matcher.engine_lifecycle import SCAN_EVERY_S
from matcher.model import EventType, OrderState, Skill
from matcher.store import MemoryStore
from tests.builders import CENTRE, DAY, at, make_order, make_worker, without_offers

NOW = at(6)
LATER = dict(earliest_start=at(9, DAY + 3 * 86400), latest_start=at(11, DAY + 3 * 86400))
FOUR_DAYS = dict(shifts=tuple(make_worker().shifts) + (dataclasses.replace(
    make_worker().shifts[0], start=at(8, DAY + 3 * 86400), end=at(18, DAY + 3 * 86400)),))


async def planned_on(engine, order_id):
    return (await engine.order(order_id)).worker_ids


async def test_a_certificate_cut_short_behind_the_engine_s_back_frees_the_job():
    """Another writer (a replica, an operator) shortens a certificate without revalidating:
    the next scan after some quiet ones still sends the uncovered job to another worker
    (without warnings, so that only the changed record makes the worker due)."""
    config = dataclasses.replace(without_offers(DispatchConfig()),
                                 certificates=CertificatesConfig(warn_days=0))
    engine = Engine(MemoryStore(), config)
    try:
        await cut_short(engine)
    finally:
        engine.close()


async def cut_short(engine):
    await engine.upsert_workers([make_worker("near", **FOUR_DAYS)], now=NOW)
    await engine.submit_orders([make_order("o1"), make_order("o2", **LATER)], NOW)
    await engine.dispatch([], NOW)
    assert await planned_on(engine, "o2") == ["near"]
    await engine.upsert_workers([make_worker("far", home_lat=CENTRE[0] + 0.05, **FOUR_DAYS)],
                                now=NOW)
    for k in range(3):  # quiet scans: nothing to do, nothing changes
        await engine.tick(NOW + k * SCAN_EVERY_S)
    short = make_worker("near", skills=(Skill("cleaning", 3, DAY + 2 * 86400),), **FOUR_DAYS)
    await engine.store.put_workers([short])
    await engine.tick(NOW + 3 * SCAN_EVERY_S)
    assert await planned_on(engine, "o1") == ["near"]
    assert await planned_on(engine, "o2") == ["far"]


async def test_a_certificate_entering_its_warning_time_between_quiet_scans_is_warned(engine):
    expiry = DAY + 10 * 86400
    await engine.upsert_workers([make_worker("w1"), make_worker(
        "near", skills=(Skill("cleaning", 3, expiry),))], now=NOW)
    await engine.submit_orders([make_order("o1")], NOW)
    await engine.dispatch([], NOW)
    warn = DispatchConfig().certificates.warn_days * 86400
    for t in (expiry - warn - 3 * SCAN_EVERY_S, expiry - warn - SCAN_EVERY_S, expiry - warn):
        await engine.tick(t)
    warned = [e for e in await engine.store.events_after("", 1000)
              if e.type == EventType.CERTIFICATE_EXPIRING]
    assert [(e.worker_id, e.time) for e in warned] == [("near", expiry - warn)]
    assert (await engine.order("o1")).state == OrderState.ASSIGNED
