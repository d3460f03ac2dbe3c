# SPDX-License-Identifier: AGPL-3.0-or-later
"""Periodic jobs of the worker: small passes that pick up what is left to do.

An app registers a :class:`PeriodicJob` in its ``AppConfig.ready()`` (``notifications`` sends
what is left in its e-mail outbox); ``encaisse worker`` runs every job again once its interval
has passed, beside the background tasks, and ``encaisse worker --batch`` runs each job once
(cron, tests). Registration goes through a :class:`~encaisse.core.registry.Registry`: a second
job with the same identifier is refused at start-up.

**The contract of a job** (``run`` returns how many things it did, for the log):

* **Idempotent**: a pass that finds nothing to do does nothing; a pass interrupted anywhere
  (SIGKILL, a lost connection) leaves the database so that the next pass completes the work.
* **Safe on several workers at once**: every worker process, on every machine, runs every job
  on its own schedule, so two passes run together routinely. A job claims its rows (``SELECT …
  FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite has a single writer) instead of assuming it is
  alone.
* **Short transactions**: claim, COMMIT, work, then mark in another transaction; never a network
  call inside a transaction (on SQLite it would hold the database-wide write lock), and bounded
  work per pass (a limit), so a stop never waits long and the next pass takes the rest.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import close_old_connections, connections

from .registry import Registry

logger = logging.getLogger(__name__)

#: How long the runner sleeps when no job is registered.
IDLE_SECONDS = 60.0


@dataclass(frozen=True)
class PeriodicJob:
    """A pass run every ``interval`` by each worker (see the module's contract)."""

    identifier: str
    interval: dt.timedelta
    run: Callable[[], int]

    def __post_init__(self) -> None:
        if self.interval <= dt.timedelta(0):
            raise ValueError(f"periodic job {self.identifier}: the interval must be positive")


jobs: Registry[PeriodicJob] = Registry("periodic jobs")


def run_job(job: PeriodicJob) -> int | None:
    """Run one pass of ``job``; how many things it did, None if it failed (logged: the next
    pass tries again, a failing job never stops the worker)."""
    started = time.monotonic()
    try:
        done = job.run()
    except Exception:
        logger.exception("Periodic job %s failed", job.identifier)
        return None
    if done:
        elapsed = time.monotonic() - started
        logger.info("Periodic job %s: %s done in %.1f s", job.identifier, done, elapsed)
    return done


def run_all(registry: Registry[PeriodicJob] | None = None) -> dict[str, int | None]:
    """One pass of every job (of :data:`jobs` by default), now, in registration order
    (``encaisse worker --batch``)."""
    return {job.identifier: run_job(job) for job in (jobs if registry is None else registry)}


class Schedule:
    """When each job is next due in this process (a monotonic clock: immune to clock changes).

    A job is due as soon as it is registered, then ``interval`` after its last pass ended, so a
    slow pass never makes passes pile up."""

    def __init__(
        self,
        registry: Registry[PeriodicJob] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.registry = jobs if registry is None else registry
        self.clock = clock
        self._next: dict[str, float] = {}

    def due(self) -> list[PeriodicJob]:
        now = self.clock()
        return [job for job in self.registry if self._next.get(job.identifier, now) <= now]

    def done(self, job: PeriodicJob) -> None:
        self._next[job.identifier] = self.clock() + job.interval.total_seconds()

    def seconds_to_next(self) -> float:
        now = self.clock()
        waits = [self._next.get(job.identifier, now) - now for job in self.registry]
        return max(0.0, min(waits, default=IDLE_SECONDS))


class PeriodicThread(threading.Thread):
    """Runs the due jobs of a :class:`Schedule` until stopped, with its own database connection
    (Django's connections are per thread), closed when the thread ends.

    A daemon thread: a worker that exits (SIGTERM) does not wait for a pass, which the contract
    lets stop anywhere."""

    def __init__(self, schedule: Schedule | None = None) -> None:
        super().__init__(name="encaisse-periodic", daemon=True)
        self.schedule = schedule or Schedule()
        self._stopping = threading.Event()

    def run(self) -> None:
        names = ", ".join(job.identifier for job in self.schedule.registry) or "none"
        logger.info("Periodic jobs: %s", names)
        try:
            while not self._stopping.is_set():
                for job in self.schedule.due():
                    if self._stopping.is_set():
                        break
                    close_old_connections()  # a connection dropped since the last pass
                    run_job(job)
                    self.schedule.done(job)
                self._stopping.wait(self.schedule.seconds_to_next())
        finally:
            connections.close_all()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to stop after the job it is running, and wait ``timeout`` for it."""
        self._stopping.set()
        self.join(timeout)
