# SPDX-License-Identifier: AGPL-3.0-or-later
"""Notifications written before the outbox keep their meaning: sent, or still to send."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from encaisse.notifications.models import Notification, NotificationStatus

BEFORE = [("notifications", "0001_initial")]
ON_POSTGRESQL = connection.vendor == "postgresql"


@pytest.mark.django_db(transaction=ON_POSTGRESQL)
def test_former_rows_become_sent_or_pending_with_their_cause(shared_database, make_customer):
    customer = make_customer()
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("notifications")
    executor.migrate(BEFORE)
    try:
        former = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        Former = former.get_model("notifications", "Notification")
        sent_at = timezone.now() - dt.timedelta(days=1)
        for key, sent in (("invoice_issued:41", sent_at), ("balance_low:7:2026-11", None)):
            Former.objects.create(
                key=key, kind=key.split(":")[0], customer_id=customer.pk,
                recipient=customer.email, sent_at=sent,
            )  # fmt: skip
    finally:
        MigrationExecutor(connection).migrate(latest)

    sent = Notification.objects.get(key="invoice_issued:41")
    assert (sent.status, sent.cause_id, sent.attempts) == (NotificationStatus.SENT, 41, 1)
    assert sent.next_attempt_at is None
    pending = Notification.objects.get(key="balance_low:7:2026-11")
    assert (pending.status, pending.cause_id, pending.attempts) == (
        NotificationStatus.PENDING,
        7,
        0,
    )
    assert pending.next_attempt_at == pending.created_at  # due now: its task did not finish
