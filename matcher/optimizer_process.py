"""Re-optimisation in a child process, so that the server goes on answering meanwhile.

OR-Tools' routing search holds Python's global interpreter lock for its whole time limit: run
on a thread of the server's process, it would stop the event loop, and with it every RPC
(health checks too), for seconds. A child process solves instead; the parent waits on its
answer without blocking. The child is started on first use with the ``spawn`` method (a
fork of a process running gRPC's threads is unsafe) and kept for the next runs; it builds a
:class:`~matcher.planner.Planner` per config it is sent and keeps the last one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from matcher.config import DispatchConfig
from matcher.errors import Unavailable
from matcher.planner import Planner
from matcher.reoptimise import PlanScope, Reoptimised, Reoptimiser


class OptimizerProcess:
    """One child process that runs :meth:`Reoptimiser.run`, one run at a time.

    OR-Tools checks its time limit only between neighbourhoods, and a large model has overrun
    it by minutes: a run not answered within twice its time limit and ``slack_s`` is stopped,
    its child with it, and refused as Unavailable (nothing was written; the next run starts a
    new child). The slack covers the child's start: about a second here, as it loads the
    kernels the server compiled at its start; more if it must compile one of its own."""

    def __init__(self, slack_s: float = 60.0) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self.slack_s = slack_s

    async def run(self, planner: Planner, scope: PlanScope, time_limit_s: float,
                  solution_limit: int) -> Reoptimised:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        allowed_s = 2 * time_limit_s + self.slack_s
        answer = asyncio.get_running_loop().run_in_executor(
            self._pool, _run, planner.config, planner.day_rules.matrix, scope, time_limit_s,
            solution_limit)
        # (not wait_for: on 3.11 it can drop a cancellation of the caller)
        try:
            done, _ = await asyncio.wait({answer}, timeout=allowed_s)
        except asyncio.CancelledError:
            # nobody will read this run's answer: stop it rather than let the next run wait
            # behind it (its own time counting) in the one child
            answer.cancel()
            self.close()
            raise
        if not done:
            answer.cancel()  # (its end, an error once the child is stopped, is nobody's)
            self.close()
            raise Unavailable(f"the search overran its {time_limit_s:g} s time limit (no "
                              f"answer within {allowed_s:g} s) and was stopped; nothing was "
                              "written")
        try:
            return answer.result()
        except BrokenProcessPool:
            self._pool = None  # the next run starts a new child
            raise Unavailable("the re-optimisation process stopped before answering; "
                              "retry") from None

    def close(self) -> None:
        """Stop the child now, a run in progress too (it would otherwise search to its time
        limit before the server could exit)."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # (Python 3.14 has ProcessPoolExecutor.terminate_workers; 3.11 does not)
        for process in list((pool._processes or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


_planner: Planner | None = None  # in the child: the planner of the last config it was sent


def _run(config: DispatchConfig, matrix, scope: PlanScope, time_limit_s: float,
         solution_limit: int) -> Reoptimised:
    global _planner
    if _planner is None or _planner.config_hash != config.hash or matrix is not None:
        _planner = Planner(config, matrix)
    return Reoptimiser(_planner).run(scope, time_limit_s, solution_limit)
