"""Shutdown ends the background tasks even when one swallows its first cancellation (as a
cancel landing inside redis-py's timeout can be, on Python 3.11)."""

from __future__ import annotations

import asyncio

from server import cancel_and_wait


async def test_a_task_that_swallows_a_cancel_is_cancelled_again():
    swallowed = []

    async def stubborn_loop():
        while True:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                if swallowed:
                    raise
                swallowed.append(True)  # the first cancel is lost, the loop runs on
                asyncio.current_task().uncancel()

    task = asyncio.create_task(stubborn_loop())
    await asyncio.sleep(0.01)
    await asyncio.wait_for(cancel_and_wait([task]), 5)
    assert task.cancelled() and swallowed == [True]


async def test_tasks_already_done_are_fine():
    task = asyncio.create_task(asyncio.sleep(0))
    await task
    await cancel_and_wait([task])
