# SPDX-License-Identifier: AGPL-3.0-or-later
"""Running jobs at the same time, each in its own thread and database connection (the tests of
races: PostgreSQL row locks and SKIP LOCKED, SQLite's single writer). On the tests' path through
``pythonpath`` in pyproject.toml: ``from concurrency import run_concurrently``."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections

JOIN_TIMEOUT = 300  # seconds; the machine may be busy with benchmarks


def run_concurrently(
    jobs: list[Callable[[], Any]], *, together: bool = True
) -> list[tuple[Any, BaseException | None]]:
    """Run each job in its own thread (and connection); (result, error) per job.

    ``together``: the threads are released at once by a barrier; without it, jobs that order
    themselves with events start as soon as their thread does.
    """
    barrier = threading.Barrier(len(jobs))
    outcomes: list[tuple[Any, BaseException | None]] = [(None, None)] * len(jobs)

    def work(index: int, job: Callable[[], Any]) -> None:
        try:
            if together:
                barrier.wait(timeout=JOIN_TIMEOUT)
            outcomes[index] = (job(), None)
        except BaseException as exc:
            outcomes[index] = (None, exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a worker is stuck (deadlock?)"
    return outcomes
