"""The remote run's event follower: waiting for the events a call caused."""

from __future__ import annotations

import asyncio

import pytest

from simulations.remote_events import EventFollower


async def test_a_cancelled_wait_for_events_stays_cancelled_when_an_event_comes_at_once():
    """Ctrl-C cancels the run; when the cancellation met an event's arrival, asyncio.wait_for
    (Python 3.11) returned as if the event had come and dropped it, and the run went on to its
    end as if never stopped."""
    follower = EventFollower(stub=None, translation=None, wait_s=1.0)
    follower.expected[(None, "o1", "")] = 0  # an event the last call caused, not come yet
    waiting = asyncio.create_task(follower.events_after("", 10))
    await asyncio.sleep(0)  # waiting for the next arrival now
    follower._arrived.set()  # an event arrives (of another key) ...
    waiting.cancel()  # ... in the same turn of the loop as the cancellation
    with pytest.raises(asyncio.CancelledError):
        await waiting
