"""Between the simulation's world and a running server's: ids get a per-run prefix, times a
constant shift.

The simulation keeps its own ids and times (seconds since the epoch of the scenario's day), so
its tracks, KPIs and output files read as an in-process run's do. What goes to the server is
translated on the way out (:meth:`RunTranslation.worker_out`, :meth:`RunTranslation.order_out`,
:meth:`RunTranslation.time_out`); what comes back on the way in. The shift is a whole number of
days, so local dates, daily limits and certificate days fall as they do in the scenario.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from matcher.model import Assignment, Event, Job, Order, OrderRecord, Worker

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class RunTranslation:
    """``prefix`` goes in front of every worker, agency, customer and order id sent;
    ``offset`` seconds are added to every time sent (server time = simulated time + offset)."""

    prefix: str
    offset: int

    @staticmethod
    def starting_at(sim_start: int, server_now: float, prefix: str) -> "RunTranslation":
        """The shift of whole days that puts the simulated start at or after ``server_now``
        (less than a day after it)."""
        days = -(-(int(server_now) - sim_start) // DAY_S)
        return RunTranslation(prefix, days * DAY_S)

    # ------------------------------------------------------------------ out to the server

    def id_out(self, value: str) -> str:
        return self.prefix + value if value else value

    def time_out(self, seconds: int) -> int:
        return seconds + self.offset

    def worker_out(self, worker: Worker) -> Worker:
        return dataclasses.replace(
            worker, worker_id=self.id_out(worker.worker_id),
            agency_id=self.id_out(worker.agency_id),
            skills=tuple(dataclasses.replace(s, certified_until=self.time_out(s.certified_until))
                         for s in worker.skills),
            shifts=tuple(dataclasses.replace(s, start=self.time_out(s.start),
                                             end=self.time_out(s.end)) for s in worker.shifts),
            breaks=tuple(dataclasses.replace(b, start=self.time_out(b.start),
                                             end=self.time_out(b.end)) for b in worker.breaks))

    def order_out(self, order: Order) -> Order:
        link = order.link and dataclasses.replace(order.link,
                                                  order_id=self.id_out(order.link.order_id))
        return dataclasses.replace(
            order, order_id=self.id_out(order.order_id),
            customer_id=self.id_out(order.customer_id),
            earliest_start=self.time_out(order.earliest_start),
            latest_start=self.time_out(order.latest_start),
            preferred_worker_ids=frozenset(map(self.id_out, order.preferred_worker_ids)),
            blocked_worker_ids=frozenset(map(self.id_out, order.blocked_worker_ids)), link=link)

    # ------------------------------------------------------------------ in from the server

    def ours(self, value: str) -> bool:
        """Whether a server id belongs to this run (another run's or client's does not)."""
        return value.startswith(self.prefix)

    def id_in(self, value: str) -> str:
        return value.removeprefix(self.prefix)

    def time_in(self, seconds: int) -> int:
        return seconds - self.offset if seconds else seconds

    def worker_in(self, worker: Worker) -> Worker:
        back = RunTranslation("", -self.offset)
        shifted = back.worker_out(worker)
        return dataclasses.replace(shifted, worker_id=self.id_in(worker.worker_id),
                                   agency_id=self.id_in(worker.agency_id))

    def order_in(self, order: Order) -> Order:
        back = RunTranslation("", -self.offset).order_out(order)
        link = back.link and dataclasses.replace(back.link, order_id=self.id_in(back.link.order_id))
        return dataclasses.replace(
            back, order_id=self.id_in(order.order_id), customer_id=self.id_in(order.customer_id),
            preferred_worker_ids=frozenset(map(self.id_in, order.preferred_worker_ids)),
            blocked_worker_ids=frozenset(map(self.id_in, order.blocked_worker_ids)), link=link)

    def assignment_in(self, a: Assignment) -> Assignment:
        return dataclasses.replace(a, order_id=self.id_in(a.order_id),
                                   worker_id=self.id_in(a.worker_id),
                                   planned_start=self.time_in(a.planned_start),
                                   planned_end=self.time_in(a.planned_end))

    def record_in(self, record: OrderRecord) -> OrderRecord:
        return dataclasses.replace(
            record, order=self.order_in(record.order),
            submitted_at=self.time_in(record.submitted_at),
            assignments=[self.assignment_in(a) for a in record.assignments],
            accepted={self.id_in(w) for w in record.accepted},
            excluded={self.id_in(w) for w in record.excluded},
            offer_deadline=self.time_in(record.offer_deadline),
            started_at=self.time_in(record.started_at),
            completed_at=self.time_in(record.completed_at))

    def event_in(self, event: Event) -> Event:
        return dataclasses.replace(event, time=self.time_in(event.time),
                                   order_id=self.id_in(event.order_id),
                                   worker_id=self.id_in(event.worker_id))

    def job_in(self, job: Job) -> Job:
        return dataclasses.replace(job, order_id=self.id_in(job.order_id),
                                   customer_id=self.id_in(job.customer_id),
                                   start=self.time_in(job.start), end=self.time_in(job.end))
