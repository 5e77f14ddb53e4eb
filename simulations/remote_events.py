"""This run's events from a server's ``WatchEvents`` stream, read in the background.

The simulation reads events the way it reads an in-process store's (``events_after`` with a
cursor), so the stream is buffered here, translated into the run's ids and times, with local
cursors ("1", "2", ...). Events of other runs or clients (ids without this run's prefix) are
skipped.

A unary answer can come back before the stream has delivered the events the call caused. The
simulation must see them before it goes on (an offer's answer is scheduled from the event), so
a call names the last events it is known to have caused (:meth:`expect`: an event type, or None
for any, an order and a worker, or "" for any), and :meth:`events_after` first waits until each
has arrived since the call went out, at most ``wait_s`` seconds (then it goes on and counts it
in ``late``). Events of one write arrive in order, so with its last one all have come.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from homedispatch.v1 import dispatch_pb2 as pb
from matcher.model import Event, EventType
from server import EVENT_TYPE
from simulations.remote_codec import RunTranslation
from simulations.remote_connect import TargetError

# (event type or None for any, order id, worker id or "" for any)
Key = tuple[EventType | None, str, str]


class EventFollower:
    """Follows ``stub.WatchEvents`` from the start of the server's log."""

    def __init__(self, stub, translation: RunTranslation, wait_s: float = 2.0) -> None:
        self.stub, self.translation, self.wait_s = stub, translation, wait_s
        self.events: list[Event] = []
        self.arrivals = 0                    # events of this run received so far
        self.last_arrival: dict[Key, int] = {}  # arrival number of the last event of a key
        self.expected: dict[Key, int] = {}      # arrival number a key's event must pass
        self.late = 0
        self.finished: set[str] = set()         # orders completed or cancelled
        self.failure: BaseException | None = None
        self._arrived = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def mark(self) -> int:
        """The arrival count now: pass it to :meth:`expect` after the call returns."""
        return self.arrivals

    def expect(self, keys: Iterable[Key], mark: int) -> None:
        """An event of each key (in the run's ids) must arrive after arrival ``mark``."""
        for key in keys:
            self.expected[key] = max(self.expected.get(key, -1), mark)

    async def events_after(self, cursor: str, limit: int) -> list[Event]:
        await self._caught_up()
        start = int(cursor or 0)
        return self.events[start:start + limit]

    async def _caught_up(self) -> None:
        deadline = time.monotonic() + self.wait_s
        while True:
            self._raise_failure()
            waiting = [k for k, m in self.expected.items() if self.last_arrival.get(k, -1) <= m]
            left = deadline - time.monotonic()
            if not waiting or left <= 0:
                self.late += len(waiting)
                self.expected.clear()
                return
            self._arrived.clear()
            try:  # (not wait_for: on 3.11 it drops a cancellation that meets the event)
                async with asyncio.timeout(left):
                    await self._arrived.wait()
            except TimeoutError:
                pass

    def _raise_failure(self) -> None:
        if self.failure is not None:
            raise TargetError(f"the event stream: {self.failure}") from self.failure

    async def _follow(self) -> None:
        try:
            async for response in self.stub.WatchEvents(pb.WatchEventsRequest()):
                self._take(response.event)
        except Exception as error:  # the stream broke, or sent what this client cannot read
            self.failure = error
            self._arrived.set()

    def _take(self, message: pb.Event) -> None:
        ours = self.translation.ours
        ids = [i for i in (message.order_id, message.worker_id) if i]
        if not any(map(ours, ids)):
            return
        if not all(map(ours, ids)):  # e.g. this run's order offered to another run's worker
            self.failure = RuntimeError(
                f"order {message.order_id!r} and worker {message.worker_id!r} are not both this "
                f"run's: another client uses the server; run one simulation per server at a time")
            self._arrived.set()
            return
        event = self.translation.event_in(Event(
            EVENT_TYPE.to_domain(message.type, "type", None), message.event_time.seconds,
            message.order_id, message.worker_id, message.detail))
        self.arrivals += 1
        self.events.append(Event(event.type, event.time, event.order_id, event.worker_id,
                                 event.detail, str(len(self.events) + 1)))
        if event.type in (EventType.COMPLETED, EventType.CANCELLED):
            self.finished.add(event.order_id)
        for key in ((event.type, event.order_id, event.worker_id),
                    (event.type, event.order_id, ""), (None, event.order_id, "")):
            self.last_arrival[key] = self.arrivals
        self._arrived.set()
