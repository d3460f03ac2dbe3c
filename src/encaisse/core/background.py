# SPDX-License-Identifier: AGPL-3.0-or-later
"""Enqueueing background work so that it commits with its cause: a crash loses none of it.

The task runner is Django's tasks framework on the database (django-tasks-db, decisions §3): a
task is a row written on the same connection as the money it follows. Enqueued *inside* the
transaction that moved the money, it commits or rolls back with it: no e-mail for a rolled-back
top-up, and no top-up whose e-mail, PDF or collection is lost because the process died between
COMMIT and an ``on_commit`` callback (the transactional outbox pattern). The worker only sees the
row once committed, so the task still runs after COMMIT.

Another backend (a broker, or the immediate backend of the tests) would run the task at once,
inside the transaction or without it: there the enqueue waits for COMMIT instead.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.tasks import task_backends
from django_tasks_db.backend import DatabaseBackend


def tasks_commit_with_the_transaction() -> bool:
    """Whether the default task backend writes its tasks in the default database."""
    return isinstance(task_backends["default"], DatabaseBackend)


def enqueue_with_the_transaction(enqueue: Callable[[], object]) -> None:
    """Call ``enqueue`` — which only enqueues tasks — so that they commit with the current
    transaction (database backend), or once it has committed (any other backend)."""
    if tasks_commit_with_the_transaction():
        enqueue()
    else:
        transaction.on_commit(enqueue)
