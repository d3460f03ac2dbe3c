# SPDX-License-Identifier: AGPL-3.0-or-later
"""Background work commits with its cause on the database task backend: a rolled-back top-up
enqueues nothing, a committed one leaves its tasks in the same COMMIT (nothing to lose between
COMMIT and an ``on_commit`` callback); other backends wait for COMMIT."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from encaisse.core.background import tasks_commit_with_the_transaction
from encaisse.invoicing.issuance import issue_invoice_now

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class RolledBack(Exception):
    pass


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_TASKS
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = True
    settings.ENCAISSE_RENDER_PDF = True
    assert tasks_commit_with_the_transaction()


def test_tasks_of_a_rolled_back_top_up_vanish_with_it(database_tasks, make_customer, top_up):
    customer = make_customer()
    with pytest.raises(RolledBack), transaction.atomic():
        top_up(customer, "20.00")
        assert DBTaskResult.objects.filter(task_path__endswith="payment_received").exists()
        raise RolledBack
    assert not DBTaskResult.objects.exists()


def test_the_tasks_of_an_issuance_are_written_in_its_transaction(
    database_tasks, make_customer, charge, actor, django_capture_on_commit_callbacks
):
    customer = make_customer()
    charge(customer, "10.00")
    with django_capture_on_commit_callbacks() as callbacks:
        issue_invoice_now(customer, period_end=dt.date(2026, 11, 30), actor=actor)
    assert callbacks == []  # nothing left to a callback that a crash would skip
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert {
        "encaisse.invoicing.tasks.render_invoice_pdfs",
        "encaisse.notifications.tasks.invoices_issued",
    } <= paths


def test_another_backend_waits_for_commit(
    make_customer, top_up, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ENCAISSE_EMAIL_NOTIFICATIONS = True
    assert not tasks_commit_with_the_transaction()  # the tests' immediate backend
    customer = make_customer()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RolledBack), transaction.atomic():
            top_up(customer, "20.00")
            raise RolledBack
        assert mailoutbox == []  # run at once, the task would have e-mailed a rolled-back top-up
        top_up(customer, "20.00")
    assert len(mailoutbox) == 1
