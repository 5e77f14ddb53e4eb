"""What the simulator records per order and per worker while a run goes on (the facts the KPIs
and the output files are made of)."""

from __future__ import annotations

from dataclasses import dataclass, field

from simulations.demand import SimOrder


@dataclass(slots=True)
class OrderTrack:
    """One order's story in the run; times are seconds since the run's start."""

    sim: SimOrder
    index: int
    epoch: int = 0                 # bumped whenever the order's placement changes
    status: str = "pending"        # pending, offered, assigned, started, served, cancelled, expired
    assigned_s: int | None = None  # when it was first locked (every worker accepted)
    start_s: int | None = None
    end_s: int | None = None
    late_s: int | None = None
    travel_km: float = 0.0
    workers: tuple[str, ...] = ()
    pay: float = 0.0
    offers: int = 0

    @property
    def order_id(self) -> str:
        return self.sim.order.order_id


@dataclass(slots=True)
class WorkerTrack:
    """One worker's day(s) in the run."""

    shift_s: int
    busy_s: int = 0
    jobs: int = 0
    earnings: float = 0.0
    travel_km: float = 0.0
    top_tier_jobs: int = 0


@dataclass(slots=True)
class Round:
    """One placement call: a batch round, or one instant submission."""

    time_s: int
    orders: int
    assigned: int
    solver_s: float


@dataclass(slots=True)
class Log:
    """The event log: (time_s, kind, order_id, worker_id, detail) rows in the order they
    happened."""

    rows: list[tuple[int, str, str, str, str]] = field(default_factory=list)

    def add(self, time_s: int, kind: str, order_id: str = "", worker_id: str = "",
            detail: str = "") -> None:
        self.rows.append((time_s, kind, order_id, worker_id, detail))
