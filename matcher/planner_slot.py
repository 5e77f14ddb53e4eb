"""The planner in force, swapped in one step when the config is reloaded.

A request pins the planner (and so the config) it starts with: every read of the engine's
planner inside the pinned context (the same task and the tasks it starts) sees that one planner
until the request ends, however many reloads happen meanwhile. Outside a pinned context (the
server's background ticks) each read sees the planner in force at that moment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

from matcher.planner import Planner


class PlannerSlot:
    """One engine's planner: :attr:`current`, :meth:`swap` and :meth:`pinned`."""

    def __init__(self, planner: Planner) -> None:
        self._in_force = planner
        # one variable per slot, so that two engines in one process never see each other's pin
        self._pinned: ContextVar[Planner | None] = ContextVar(f"planner_{id(self)}",
                                                              default=None)

    @property
    def current(self) -> Planner:
        """The pinned planner inside :meth:`pinned`, else the one in force."""
        return self._pinned.get() or self._in_force

    @property
    def in_force(self) -> Planner:
        """The planner new requests start with."""
        return self._in_force

    def swap(self, planner: Planner) -> None:
        """Put ``planner`` in force: one assignment, so no request sees half of it."""
        self._in_force = planner

    @contextlib.contextmanager
    def pinned(self, planner: Planner | None = None) -> Iterator[Planner]:
        """Use ``planner`` for everything inside (the engine answering a queued request
        with the planner that request started with); by default the current one: the planner
        in force now, or the outer pin's (a nested pin keeps the outer)."""
        token = self._pinned.set(planner or self.current)
        try:
            yield self.current
        finally:
            self._pinned.reset(token)
