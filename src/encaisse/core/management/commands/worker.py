# SPDX-License-Identifier: AGPL-3.0-or-later
"""``encaisse worker``: the background task worker plus the periodic jobs (:mod:`core.periodic`).

It is django_tasks_db's ``db_worker`` (same options) with the registered periodic jobs run
beside it, in a thread of their own (:class:`~encaisse.core.periodic.PeriodicThread`, with its
own database connection) rather than between two tasks:

* a task may run for minutes (a billing run, a chunk's PDFs): between tasks, the e-mail retries
  would wait for it; and a job may wait on the network (a mail server that stalls for its
  timeout): between tasks, the queue would wait for it. In a thread, neither delays the other.
* it is safe: jobs hold short transactions only and are built to run on several workers at once
  (the contract in :mod:`encaisse.core.periodic`), so one more connection beside the task loop is
  one more concurrent worker; on SQLite they queue for the write lock like any writer.

``--batch`` runs the outstanding tasks, then one pass of every job, and exits (cron, tests);
``--no-periodic`` runs tasks only (say, a worker dedicated to a queue).
"""

from __future__ import annotations

import os
from argparse import ArgumentParser, BooleanOptionalAction
from typing import Any

from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from encaisse.core.periodic import PeriodicThread, run_all

#: How long a stopping worker waits for the pass in progress (the thread is a daemon after that).
STOP_SECONDS = 15.0


class Command(DatabaseWorkerCommand):
    help = "Run the background task worker and the periodic jobs (sending e-mails left to send)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--periodic",
            action=BooleanOptionalAction,
            default=True,
            help="Run the periodic jobs beside the tasks (default: %(default)s).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        periodic = options.pop("periodic")
        if options["batch"]:
            super().handle(*args, **options)
            if periodic:
                self.run_every_job_once(options["verbosity"])
            return
        thread = PeriodicThread() if periodic and self.runs_tasks(options["reload"]) else None
        if thread is not None:
            thread.start()
        try:
            super().handle(*args, **options)
        finally:
            if thread is not None:
                thread.stop(STOP_SECONDS)

    @staticmethod
    def runs_tasks(reload: bool) -> bool:
        """False in the parent process of ``--reload``, which only restarts the child that works."""
        return not reload or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true"

    def run_every_job_once(self, verbosity: int) -> None:
        for identifier, done in run_all().items():
            if verbosity >= 1:
                outcome = "failed (see the log)" if done is None else f"{done} done"
                self.stdout.write(f"{identifier}: {outcome}")
