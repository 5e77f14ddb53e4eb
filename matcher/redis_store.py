"""The shared, durable store: the same :class:`~matcher.store.Store` contract as the memory store,
kept in Redis (``redis.asyncio``, one bounded connection pool per store).

Every key starts with a prefix (``hd`` by default):

=======================  ==============================================================
``P:workers``            hash: worker id -> worker; ``P:workersver`` their version
``P:orders``             hash: order id -> order record; ``P:orderver`` its version,
                         ``P:orderstate`` its state, ``P:state:<n>`` a set per state
``P:plans``              hash: worker id -> day plan (JSON rows); ``P:planver`` its version;
                         ``P:planstamp`` a new version with every write of plans
``P:blocked:<customer>`` set of workers the customer blocked; ``P:blocked_customers``,
                         ``P:blockedver`` their version
``P:loc``                hash: worker id -> reported location; ``P:locver`` their version
``P:credit``             hash: worker id -> credit record; ``P:creditver`` its version;
                         ``P:creditdue`` sorted set of the workers whose record has events,
                         by when it was last refreshed; ``P:creditdue_built`` is set once
                         that set covers every record (stores from before it are indexed
                         on first use)
``P:workerver``          hash: worker id -> the worker's version
``P:notices``            set of notice keys sent
``P:events``             stream: one entry per event (field ``e``); entry ids are cursors;
                         trimmed to about the newest ``event_retention`` entries
``P:req:<request id>``   (fingerprint, first response); expires after ``request_id_ttl_s``
=======================  ==============================================================

Values are :mod:`matcher.codec` JSON. A :class:`~matcher.store.Commit` is one Lua script
(:data:`COMMIT`): it checks the version of every plan and order record it replaces, then
writes them all with their state sets, blocks, workers, credit, locations and notices, and
appends the events, or refuses the whole commit (:class:`~matcher.errors.Aborted`); nothing
is read, changed and written back from Python. Reads that must agree with each other (every
plan with its version, the orders of a state) run in one MULTI transaction. Redis errors
become :class:`~matcher.errors.Unavailable`. A write's new version is past the old one and
past Redis's clock (:data:`NEXT_VERSION`), so versions never repeat, even after Redis lost
writes: a replica's caches and a commit's version checks stay right across such a loss.

Durability is Redis's: run it with ``appendonly yes`` and ``appendfsync everysec`` (README).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import immutables
import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from matcher import codec
from matcher.credit import CreditRecord
from matcher.engine import SubmitResult
from matcher.engine_lifecycle import CreditStanding
from matcher.errors import Aborted, FailedPrecondition, InvalidArgument, Unavailable
from matcher.model import Event, Job, Location, OrderRecord, OrderState, Worker
from matcher.planner import DispatchResult
from matcher.reoptimise import PlanCost, Reoptimised
from matcher.store import Commit, FrozenPlan, Plan, View, dropped_cursor_message

# what idempotent requests answer, kept with their request ids
codec.register(DispatchResult, SubmitResult, Reoptimised, PlanCost, CreditStanding)

# A version a write gives a key: past the key's stored version and past Redis's clock in
# microseconds. So a version never comes back, even one Redis has since lost (restarted from an
# AOF that missed its last second, a failover to a replica behind): a replica's cache or a
# decision made on a lost write then never matches a later write by chance. Versions go to and
# from Lua as decimal strings (Lua's numbers print 14 digits; these have 16).
NEXT_VERSION = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local function next_version(stored)
  return string.format('%d', math.max(tonumber(stored or '0') + 1, now))
end
local function bump_field(key, field)
  local v = next_version(redis.call('HGET', key, field))
  redis.call('HSET', key, field, v)
  return v
end
local function bump(key)
  redis.call('SET', key, next_version(redis.call('GET', key)))
end
"""

COMMIT = NEXT_VERSION + """
local p = KEYS[1]
local c = cjson.decode(ARGV[1])
for _, plan in ipairs(c.plans) do
  if plan[2] >= 0 then
    local v = tonumber(redis.call('HGET', p .. ':planver', plan[1]) or '0')
    if v ~= plan[2] then return {'ABORTED', 'the plan of worker ' .. plan[1]} end
  end
end
for _, o in ipairs(c.orders) do
  local v = tonumber(redis.call('HGET', p .. ':orderver', o[1]) or '0')
  if v ~= o[2] then return {'ABORTED', 'order ' .. o[1]} end
end
for _, o in ipairs(c.expect_orders) do
  local v = tonumber(redis.call('HGET', p .. ':orderver', o[1]) or '0')
  if v ~= o[2] then return {'ABORTED', 'order ' .. o[1]} end
end
for _, w in ipairs(c.expect_workers) do
  local v = tonumber(redis.call('HGET', p .. ':workerver', w[1]) or '0')
  if v ~= w[2] then return {'ABORTED', 'worker ' .. w[1]} end
end
if c.workers_version >= 0 and
    tonumber(redis.call('GET', p .. ':workersver') or '0') ~= c.workers_version then
  return {'ABORTED', 'the workers'}
end
for _, kv in ipairs(c.credit) do
  local v = tonumber(redis.call('HGET', p .. ':creditver', kv[1]) or '0')
  if v ~= kv[3] then return {'ABORTED', 'the credit of worker ' .. kv[1]} end
end
local out = {'OK'}  -- then the new version of each order record and credit record, the event
                   -- ids, and with plans the plan stamp before and after and their versions
for _, o in ipairs(c.orders) do
  local old = redis.call('HGET', p .. ':orderstate', o[1])
  if old then redis.call('SREM', p .. ':state:' .. old, o[1]) end
  redis.call('SADD', p .. ':state:' .. o[3], o[1])
  redis.call('HSET', p .. ':orderstate', o[1], o[3])
  redis.call('HSET', p .. ':orders', o[1], o[4])
  out[#out + 1] = bump_field(p .. ':orderver', o[1])
end
local planned = {}  -- the plan stamp before and after, then each plan's new version
if #c.plans > 0 then
  local prior = redis.call('GET', p .. ':planstamp') or '0'
  local stamp = next_version(prior)
  redis.call('SET', p .. ':planstamp', stamp)
  planned = {prior, stamp}
end
for _, plan in ipairs(c.plans) do
  redis.call('HSET', p .. ':plans', plan[1], plan[3])
  planned[#planned + 1] = bump_field(p .. ':planver', plan[1])
end
for _, b in ipairs(c.blocked) do
  redis.call('SADD', p .. ':blocked_customers', b[1])
  for _, w in ipairs(b[2]) do redis.call('SADD', p .. ':blocked:' .. b[1], w) end
end
if #c.blocked > 0 then bump(p .. ':blockedver') end
if #c.locations > 0 then bump(p .. ':locver') end
for _, kv in ipairs(c.workers) do
  redis.call('HSET', p .. ':workers', kv[1], kv[2])
  bump_field(p .. ':workerver', kv[1])
end
if #c.workers > 0 then bump(p .. ':workersver') end
for _, kv in ipairs(c.credit) do
  redis.call('HSET', p .. ':credit', kv[1], kv[2])
  out[#out + 1] = bump_field(p .. ':creditver', kv[1])
  if kv[4] then redis.call('ZADD', p .. ':creditdue', kv[5], kv[1])
  else redis.call('ZREM', p .. ':creditdue', kv[1]) end
end
for _, kv in ipairs(c.locations) do redis.call('HSET', p .. ':loc', kv[1], kv[2]) end
for _, key in ipairs(c.notices) do redis.call('SADD', p .. ':notices', key) end
for _, e in ipairs(c.events) do
  out[#out + 1] = redis.call('XADD', p .. ':events', 'MAXLEN', '~', c.event_retention,
                             '*', 'e', e)
end
for _, v in ipairs(planned) do out[#out + 1] = v end
return out
"""

# What dispatch reads, in one call: the plan stamp (a new one with every write of plans) and,
# when it is not the one the caller knows, every plan's version; blocks and locations when
# their version moved; the workers' version. One JSON document back (cheap to parse).
VIEW = """
local p = KEYS[1]
local known = cjson.decode(ARGV[1])
local out = {planstamp = redis.call('GET', p .. ':planstamp') or '0'}
if out.planstamp ~= known.planstamp then
  out.versions = redis.call('HGETALL', p .. ':planver')
end
out.workersver = redis.call('GET', p .. ':workersver') or '0'
out.blockedver = redis.call('GET', p .. ':blockedver') or '0'
if tonumber(out.blockedver) ~= known.blockedver then
  out.blocked = {}
  for _, c in ipairs(redis.call('SMEMBERS', p .. ':blocked_customers')) do
    out.blocked[c] = redis.call('SMEMBERS', p .. ':blocked:' .. c)
  end
end
out.locver = redis.call('GET', p .. ':locver') or '0'
if tonumber(out.locver) ~= known.locver then
  out.loc = redis.call('HGETALL', p .. ':loc')
end
return cjson.encode(out)
"""

# A stream entry id as Redis gives it out: two unsigned 64-bit numbers in ASCII digits (\d would
# take "١", $ a trailing newline; Redis refuses a part past 2**64 - 1).
_CURSOR = re.compile(r"([0-9]{1,20})-([0-9]{1,20})")


def _unavailable(method):
    """Redis errors as Unavailable, with what was being done."""
    @functools.wraps(method)
    async def wrapper(self, *args, **kwargs):
        try:
            return await method(self, *args, **kwargs)
        except RedisError as error:
            raise Unavailable(f"the Redis store is unreachable ({method.__name__}: "
                              f"{error})") from error
    return wrapper


# How much sooner than a call's timeout a blocking read is told to end (Redis ends blocking
# reads on its timer, ten times a second by default).
_BLOCK_MARGIN_S = 0.25


class RedisStore:
    """The :class:`~matcher.store.Store` contract over Redis at ``url``."""

    def __init__(self, url: str, prefix: str = "hd", max_connections: int = 16,
                 timeout_s: float = 2.0, *, event_retention: int = 1_000_000,
                 request_id_ttl_s: float = 86_400.0) -> None:
        if not prefix or ":" in prefix:
            raise ValueError(f"prefix: must be non-empty and without ':' (the keys' separator: "
                             f"'hd' and 'hd:x' would share keys), got {prefix!r}")

        def client() -> aioredis.Redis:
            return aioredis.Redis(connection_pool=aioredis.BlockingConnectionPool.from_url(
                url, max_connections=max_connections, timeout=timeout_s,
                socket_timeout=timeout_s, socket_connect_timeout=timeout_s))

        self.redis = client()
        # A waiting WatchEvents stream holds a connection for its whole wait: those waits get
        # a pool of their own, so that watchers never take the connections requests need.
        self._waits = client()
        self._timeout_s = timeout_s
        self.p = prefix
        self._event_retention = event_retention
        self._request_id_ttl_ms = max(1, round(request_id_ttl_s * 1000))
        self._commit = self.redis.register_script(COMMIT)
        self._view = self.redis.register_script(VIEW)
        # The plans as of the plan stamp ``_planstamp`` (every write of plans gives the store a
        # new one): a view whose stamp is that one reads no plan. A new stamp (another
        # replica's write, or Redis lost writes) makes view() compare every plan's version and
        # read the plans whose version moved; this replica's own commits update the plans
        # they wrote when nothing else was written since the stamp it knew.
        self._plans: immutables.Map = immutables.Map()  # worker id -> FrozenPlan
        self._planstamp = ""
        # blocks and locations with their versions, re-read when the version moved
        self._blocked_cache: tuple[int, dict[str, frozenset[str]]] = (-1, {})
        self._loc_cache: tuple[int, dict[str, Location]] = (-1, {})
        self._credit_due_built = False

    async def close(self) -> None:
        await self.redis.aclose()
        await self._waits.aclose()

    @_unavailable
    async def ping(self) -> bool:
        return bool(await self.redis.ping())

    def _k(self, name: str) -> str:
        return f"{self.p}:{name}"

    # ---------------------------------------------------------------- workers

    @_unavailable
    async def workers(self) -> list[Worker]:
        return [codec.decode(v) for v in (await self.redis.hgetall(self._k("workers"))).values()]

    @_unavailable
    async def worker(self, worker_id: str) -> Worker | None:
        value = await self.redis.hget(self._k("workers"), worker_id)
        return codec.decode(value) if value is not None else None

    async def put_workers(self, workers: Iterable[Worker]) -> None:
        workers = list(workers)
        if workers:  # (the commit's script gives the versions, as for any write)
            await self.commit(Commit(workers=workers))

    @_unavailable
    async def worker_version(self, worker_id: str) -> int:
        return int(await self.redis.hget(self._k("workerver"), worker_id) or 0)

    @_unavailable
    async def workers_version(self) -> int:
        return int(await self.redis.get(self._k("workersver")) or 0)

    # ---------------------------------------------------------------- orders

    @_unavailable
    async def order(self, order_id: str) -> OrderRecord | None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(self._k("orders"), order_id).hget(self._k("orderver"), order_id)
            value, version = await pipe.execute()
        return self._versioned(value, version) if value is not None else None

    @_unavailable
    async def orders_in(self, state: OrderState, *, shared: bool = False) -> list[OrderRecord]:
        # every record read is a fresh object: shared or not, they are the caller's
        ids = sorted(await self.redis.smembers(self._k(f"state:{int(state)}")))
        if not ids:
            return []
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self._k("orders"), ids).hmget(self._k("orderver"), ids)
            values, versions = await pipe.execute()
        records = [self._versioned(v, n) for v, n in zip(values, versions) if v is not None]
        return [r for r in records if r.state == state]  # moved meanwhile: not of this state

    async def linked_orders(self, state: OrderState) -> list[OrderRecord]:
        return [r for r in await self.orders_in(state) if r.order.link is not None]

    async def lapsed_offers(self, now: int) -> list[OrderRecord]:
        return [r for r in await self.orders_in(OrderState.OFFERED) if r.offer_deadline <= now]

    @staticmethod
    def _versioned(value: bytes, version: bytes | None):
        """A stored order or credit record with the version the store counts for it."""
        record = codec.decode(value)
        record.version = int(version or 0)
        return record

    # ---------------------------------------------------------------- plans

    @_unavailable
    async def plan(self, worker_id: str) -> Plan:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(self._k("plans"), worker_id).hget(self._k("planver"), worker_id)
            value, version = await pipe.execute()
        return Plan(_decode_plan(value) if value is not None else [], int(version or 0))

    async def plans(self) -> dict[str, Plan]:
        return {w: Plan(p, p.version) for w, p in sorted((await self.view()).plans.items())}

    async def blocked(self) -> dict[str, frozenset[str]]:
        return dict((await self.view()).blocked)

    @_unavailable
    async def view(self) -> View:
        known = {"planstamp": self._planstamp, "blockedver": self._blocked_cache[0],
                 "locver": self._loc_cache[0]}
        reply = json.loads(await self._view(keys=[self.p], args=[json.dumps(known)]))
        if "versions" in reply:
            await self._compare_plans(reply["planstamp"], reply["versions"] or [])
        if "blocked" in reply:
            self._blocked_cache = (int(reply["blockedver"]), {
                c: frozenset(ws) for c, ws in sorted(reply["blocked"].items())})
        if "loc" in reply:
            flat = reply["loc"]
            self._loc_cache = (int(reply["locver"]), {flat[i]: codec.decode(flat[i + 1])
                                                 for i in range(0, len(flat), 2)})
        # (shared, as the memory store shares its snapshot: a view is read-only, and these
        # are replaced, never changed in place)
        return View(self._plans, self._blocked_cache[1], self._loc_cache[1],
                    int(reply["workersver"]))

    async def _compare_plans(self, stamp: str, flat: list) -> None:
        """The plans as of ``stamp``, whose versions ``flat`` lists (worker id, version, ...):
        those whose version differs from the cached one read again, those gone dropped."""
        versions = {flat[i]: int(flat[i + 1]) for i in range(0, len(flat), 2)}
        moved = sorted(w for w, v in versions.items()
                       if getattr(self._plans.get(w), "version", None) != v)
        fresh = {}
        if moved:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hmget(self._k("plans"), moved).hmget(self._k("planver"), moved)
                values, read = await pipe.execute()
            fresh = {w: FrozenPlan(_decode_plan(value), int(version))
                     for w, value, version in zip(moved, values, read) if value is not None}
        gone = [w for w in self._plans if w not in versions]  # (Redis lost those writes)
        with self._plans.mutate() as plans:
            for worker_id in gone:
                del plans[worker_id]
            plans.update(fresh)
            self._plans = plans.finish()
        self._planstamp = stamp

    def _wrote_plans(self, commit: Commit, planned: list) -> None:
        """After this replica's ``commit``, the plans it wrote in the cache, when the plan
        stamp before it (``planned``: that, the new stamp, then each plan's new version) is
        the one the cache is as of: nothing else was written between."""
        prior, stamp, *versions = (v.decode() for v in planned)
        if prior != self._planstamp:
            return
        with self._plans.mutate() as plans:
            for (worker_id, jobs), version in zip(commit.plans.items(), versions):
                plans[worker_id] = FrozenPlan(jobs, int(version))
            self._plans = plans.finish()
        self._planstamp = stamp

    # ---------------------------------------------------------------- the one write

    @_unavailable
    async def commit(self, commit: Commit) -> None:
        payload = {
            "plans": [[w, commit.expect_versions.get(w, -1), _encode_plan(jobs)]
                      for w, jobs in commit.plans.items()],
            "orders": [[r.order.order_id, r.version, int(r.state), codec.encode(r)]
                       for r in commit.orders],
            "blocked": [[c, sorted(ws)] for c, ws in commit.blocked.items() if ws],
            "workers": [[w.worker_id, codec.encode(w)] for w in commit.workers],
            "credit": [[w, codec.encode(r), r.version, bool(r.events), r.refreshed_at]
                       for w, r in commit.credit.items()],
            "expect_workers": [[w, v] for w, v in commit.expect_workers.items()],
            "expect_orders": [[o, v] for o, v in commit.expect_orders.items()],
            "workers_version": -1 if commit.workers_version is None else commit.workers_version,
            "locations": [[w, codec.encode(loc)] for w, loc in commit.locations.items()],
            "notices": sorted(commit.notices),
            "events": [codec.encode(e) for e in commit.events],
            "event_retention": self._event_retention,
        }
        out = await self._commit(keys=[self.p], args=[json.dumps(payload)])
        status = out[0].decode()
        if status == "ABORTED":
            raise Aborted(f"{out[1].decode()} changed meanwhile; try again")
        for record, version in zip([*commit.orders, *commit.credit.values()], out[1:]):
            record.version = int(version)
        if commit.plans:
            self._wrote_plans(commit, out[1 + len(commit.orders) + len(commit.credit)
                                          + len(commit.events):])

    # ---------------------------------------------------------------- credit, locations

    @_unavailable
    async def credit(self, worker_id: str) -> CreditRecord | None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(self._k("credit"), worker_id).hget(self._k("creditver"), worker_id)
            value, version = await pipe.execute()
        return self._versioned(value, version) if value is not None else None

    @_unavailable
    async def credits(self) -> dict[str, CreditRecord]:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._k("credit")).hgetall(self._k("creditver"))
            values, versions = await pipe.execute()
        return {k.decode(): self._versioned(v, versions.get(k)) for k, v in sorted(values.items())}

    @_unavailable
    async def credits_due(self, refreshed_by: int) -> dict[str, CreditRecord]:
        if not self._credit_due_built:
            await self._build_credit_due()
        ids = sorted(await self.redis.zrangebyscore(self._k("creditdue"), "-inf", refreshed_by))
        if not ids:
            return {}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hmget(self._k("credit"), ids).hmget(self._k("creditver"), ids)
            values, versions = await pipe.execute()
        records = {k.decode(): self._versioned(v, n)
                   for k, v, n in zip(ids, values, versions) if v is not None}
        # written meanwhile (another replica): due no longer
        return {k: r for k, r in records.items() if r.events and r.refreshed_at <= refreshed_by}

    async def _build_credit_due(self) -> None:
        """Index the credit records of a store written before ``P:creditdue`` existed: once per
        store, under WATCH, so that a record committed meanwhile makes it read again."""
        built = self._k("creditdue_built")
        while not await self.redis.exists(built):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(self._k("creditver"), built)
                    records = await pipe.hgetall(self._k("credit"))
                    due = {worker_id: record.refreshed_at for worker_id, record in
                           ((k, codec.decode(v)) for k, v in records.items()) if record.events}
                    pipe.multi()
                    if due:
                        pipe.zadd(self._k("creditdue"), due)
                    pipe.set(built, 1)
                    await pipe.execute()
                except WatchError:
                    continue
        self._credit_due_built = True

    async def locations(self) -> dict[str, Location]:
        return dict((await self.view()).locations)

    @_unavailable
    async def noticed(self, key: str) -> bool:
        return bool(await self.redis.sismember(self._k("notices"), key))

    # ---------------------------------------------------------------- events

    @_unavailable
    async def events_after(self, cursor: str, limit: int) -> list[Event]:
        _check_cursor_form(cursor)
        entries = []
        if limit > 0:
            start = f"({cursor}" if cursor else "-"
            entries = await self.redis.xrange(self._k("events"), start, "+", count=limit)
        await self._check_cursor(cursor)  # after the read: see _check_cursor
        return self._events(entries)

    @_unavailable
    async def wait_events(self, cursor: str, limit: int, timeout_s: float) -> list[Event]:
        _check_cursor_form(cursor)
        await self._check_cursor(cursor)  # an unknown cursor fails now, not after the wait
        # A blocking read must end well before a call may take (timeout_s): Redis ends it up
        # to a timer tick (100 ms) late. With no room for one, read without blocking, then wait.
        wait_s = min(timeout_s, self._timeout_s - _BLOCK_MARGIN_S)
        found = await self._waits.xread({self._k("events"): cursor or "0-0"}, count=limit,
                                        block=int(wait_s * 1000) if wait_s >= 0.001 else None)
        if not found and wait_s < 0.001:
            await asyncio.sleep(min(timeout_s, self._timeout_s))
        await self._check_cursor(cursor)
        return self._events(found[0][1]) if found else []

    async def _check_cursor(self, cursor: str) -> None:
        """The cursor's own entry is still in the stream, so (trimming takes the oldest first)
        nothing after it was trimmed before this check: a read made before it is whole."""
        if cursor == "" or await self.redis.xrange(self._k("events"), cursor, cursor, count=1):
            return
        first = await self.redis.xrange(self._k("events"), "-", "+", count=1)
        if first and _stream_id(cursor) < _stream_id(first[0][0].decode()):
            raise FailedPrecondition(dropped_cursor_message(cursor, self._event_retention))
        raise _unknown_cursor(cursor)

    @staticmethod
    def _events(entries: list) -> list[Event]:
        out = []
        for entry_id, fields in entries:
            event = codec.decode(fields[b"e"])
            out.append(Event(event.type, event.time, event.order_id, event.worker_id,
                             event.detail, entry_id.decode()))
        return out

    # ---------------------------------------------------------------- idempotency

    @_unavailable
    async def remembered(self, request_id: str) -> tuple[str, Any] | None:
        value = await self.redis.get(self._k(f"req:{request_id}"))
        if value is None:
            return None
        fingerprint, response = codec.decode(value)
        return fingerprint, response

    @_unavailable
    async def remember(self, request_id: str, fingerprint: str, response: Any) -> None:
        await self.redis.set(self._k(f"req:{request_id}"), codec.encode((fingerprint, response)),
                             nx=True, px=self._request_id_ttl_ms)

    @_unavailable
    async def remembered_many(self, request_ids: Sequence[str]
                              ) -> list[tuple[str, Any] | None]:
        if not request_ids:
            return []
        values = await self.redis.mget([self._k(f"req:{r}") for r in request_ids])
        return [None if value is None else tuple(codec.decode(value)) for value in values]

    @_unavailable
    async def remember_many(self, entries: Sequence[tuple[str, str, Any]]) -> None:
        if not entries:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for request_id, fingerprint, response in entries:
                pipe.set(self._k(f"req:{request_id}"), codec.encode((fingerprint, response)),
                         nx=True, px=self._request_id_ttl_ms)
            await pipe.execute()


def _check_cursor_form(cursor: str) -> None:
    form = _CURSOR.fullmatch(cursor) if cursor else None
    if cursor and (form is None or any(int(part) >= 2 ** 64 for part in form.groups())):
        raise _unknown_cursor(cursor)


def _unknown_cursor(cursor: str) -> InvalidArgument:
    return InvalidArgument("after_cursor", f"unknown cursor {cursor!r}: pass one this service "
                                           "gave out, or empty for the start")


def _stream_id(entry_id: str) -> tuple[int, int]:
    milliseconds, _, sequence = entry_id.partition("-")
    return int(milliseconds), int(sequence or 0)


def _encode_plan(jobs: Iterable[Job]) -> str:
    """A day plan as compact JSON rows (plans are read on every dispatch: keep them cheap)."""
    return json.dumps([[j.order_id, j.customer_id, j.service_type, j.lat, j.lon, j.start,
                        j.end] for j in jobs], separators=(",", ":"), ensure_ascii=False)


def _decode_plan(value: bytes) -> list[Job]:
    return [Job(*row) for row in json.loads(value)]
