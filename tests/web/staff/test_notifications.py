# SPDX-License-Identifier: AGPL-3.0-or-later
"""Staff see the e-mail outbox and give a failed e-mail new attempts, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from encaisse.core.models import AuditLog
from encaisse.notifications.models import Notification, NotificationStatus

pytestmark = pytest.mark.django_db


def test_staff_retry_a_failed_email_and_only_a_failed_one(admin_client, admin_user, books):
    failed = Notification.objects.get()
    Notification.objects.filter(pk=failed.pk).update(
        status=NotificationStatus.FAILED, attempts=10, last_error="SMTPRecipientsRefused: 550"
    )
    sent = Notification.objects.create(
        key="payment_received:999",
        kind="payment_received",
        customer=books.customer,
        cause_id=999,
        recipient=failed.recipient,
        status=NotificationStatus.SENT,
    )

    page = admin_client.get(reverse("admin:notifications_notification_changelist"))
    assert "SMTPRecipientsRefused: 550" in page.content.decode()
    answer = admin_client.post(
        reverse("admin:notifications_notification_changelist"),
        {"action": "retry", "_selected_action": [failed.pk, sent.pk]},
        follow=True,
    )

    assert answer.status_code == 200
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == (NotificationStatus.PENDING, 0)
    assert sent.status == NotificationStatus.SENT
    [entry] = AuditLog.objects.filter(action="encaisse.notification.retried")
    assert (entry.object_id, entry.actor_label) == (str(failed.pk), admin_user.username)
