# SPDX-License-Identifier: AGPL-3.0-or-later
"""Periodic jobs: one per identifier, due on their interval, run by ``encaisse worker`` beside
the tasks (a thread) or once each with ``--batch``; a failing job never stops the others."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django_tasks_db.management.commands import db_worker

from encaisse.core import periodic
from encaisse.core.registry import DuplicateIdentifier, Registry

MINUTE = dt.timedelta(minutes=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def registry(monkeypatch) -> Registry[periodic.PeriodicJob]:
    """An empty registry in place of the apps' jobs."""
    jobs: Registry[periodic.PeriodicJob] = Registry("periodic jobs")
    monkeypatch.setattr(periodic, "jobs", jobs)
    return jobs


@pytest.fixture
def worker_tasks(monkeypatch, settings):
    """The task loop of ``db_worker`` replaced by a recorder (no database), and its signal
    handlers kept out of pytest: ``.runs`` grows at each run, ``.during`` is called inside it."""

    class TaskLoop:
        def __init__(self) -> None:
            self.runs: list[str] = []
            self.during: Callable[[], object] = lambda: None

    loop = TaskLoop()

    def run(worker) -> None:
        loop.runs.append("tasks")
        loop.during()

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    monkeypatch.setattr(db_worker.Worker, "run", run)
    monkeypatch.setattr(db_worker.Worker, "configure_signals", lambda worker: None)
    return loop


def _counting(identifier: str, log: list[str], interval: dt.timedelta = MINUTE):
    def run() -> int:
        log.append(identifier)
        return 1

    return periodic.PeriodicJob(identifier=identifier, interval=interval, run=run)


def _signalling(identifier: str, event: threading.Event) -> periodic.PeriodicJob:
    def run() -> int:
        event.set()
        return 1

    return periodic.PeriodicJob(identifier=identifier, interval=MINUTE, run=run)


def test_a_second_job_under_an_identifier_taken_is_refused():
    taken = periodic.jobs.get("notifications.send_pending")
    with pytest.raises(DuplicateIdentifier):
        periodic.jobs.register(periodic.PeriodicJob(taken.identifier, MINUTE, lambda: 0))
    assert periodic.jobs.get(taken.identifier) is taken


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        periodic.PeriodicJob("nothing", dt.timedelta(0), lambda: 0)


def test_a_job_is_due_at_once_then_once_its_interval_has_passed(registry):
    clock, log = Clock(), []
    registry.register(job := _counting("often", log))
    schedule = periodic.Schedule(clock=clock)
    assert schedule.due() == [job]
    schedule.done(job)
    assert schedule.due() == []
    assert schedule.seconds_to_next() == 60.0
    clock.now += 59.9
    assert schedule.due() == []
    clock.now += 0.1
    assert schedule.due() == [job]


def test_a_failing_job_is_logged_and_the_others_still_run(registry, caplog):
    log: list[str] = []

    def broken() -> int:
        raise RuntimeError("mail server unreachable")

    registry.register(periodic.PeriodicJob("broken", MINUTE, broken))
    registry.register(_counting("fine", log))
    assert periodic.run_all() == {"broken": None, "fine": 1}
    assert log == ["fine"]
    assert "Periodic job broken failed" in caplog.text


def test_the_thread_runs_the_due_jobs_until_stopped(registry):
    ran = threading.Event()
    registry.register(_signalling("signal", ran))
    thread = periodic.PeriodicThread()
    thread.start()
    assert ran.wait(10)
    thread.stop(10)
    assert not thread.is_alive()


def test_encaisse_worker_batch_runs_the_tasks_then_every_job_once(registry, worker_tasks):
    registry.register(_counting("first", worker_tasks.runs))
    registry.register(_counting("second", worker_tasks.runs))
    out = io.StringIO()
    call_command("worker", "--batch", "--no-startup-delay", stdout=out)
    assert worker_tasks.runs == ["tasks", "first", "second"]
    assert out.getvalue().splitlines() == ["first: 1 done", "second: 1 done"]


def test_encaisse_worker_runs_the_jobs_in_a_thread_beside_the_tasks(registry, worker_tasks):
    ran = threading.Event()
    registry.register(_signalling("beside", ran))
    worker_tasks.during = lambda: ran.wait(10)  # the task loop runs while the job does
    call_command("worker", "--no-startup-delay", "--no-reload")
    assert ran.is_set()
    assert not [t for t in threading.enumerate() if t.name == "encaisse-periodic"]


def test_encaisse_worker_no_periodic_runs_tasks_only(registry, worker_tasks):
    registry.register(_counting("skipped", worker_tasks.runs))
    call_command("worker", "--batch", "--no-startup-delay", "--no-periodic")
    assert worker_tasks.runs == ["tasks"]
