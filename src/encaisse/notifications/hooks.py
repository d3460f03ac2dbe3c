# SPDX-License-Identifier: AGPL-3.0-or-later
"""The e-mails plugged into the layers below: registered in ``NotificationsConfig.ready()``.

Invoicing and payments call these after COMMIT (:mod:`encaisse.invoicing.hooks`,
:mod:`encaisse.payments.hooks`); each only enqueues a task that takes ids, so the caller is
never slowed down by rendering or by the mail server. Off while
``ENCAISSE_EMAIL_NOTIFICATIONS`` is false (the demo replays its history that way).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings

from encaisse.core import periodic
from encaisse.invoicing.hooks import IssuanceHook
from encaisse.payments.hooks import PaymentHook

from . import outbox, tasks

#: The worker's pass over the outbox; ``ENCAISSE_NOTIFICATION_PASS_SECONDS`` between passes.
PASS_SECONDS = 60
PASS_LIMIT = 100


class IssuedDocumentEmail(IssuanceHook):
    """E-mail every invoice and credit note issued; warn customers whose balance runs low."""

    identifier = "email"

    def wanted(self) -> bool:
        return bool(settings.ENCAISSE_EMAIL_NOTIFICATIONS)

    def documents_issued(self, invoice_ids: Sequence[int], due_invoice_ids: Sequence[int]) -> None:
        tasks.invoices_issued.enqueue(list(invoice_ids))

    def credit_note_issued(self, credit_note_id: int, invoice_id: int) -> None:
        tasks.credit_note_issued.enqueue(credit_note_id)


class PaymentEmail(PaymentHook):
    """The "payment received" e-mail of a top-up."""

    identifier = "email"

    def top_up_recorded(self, transaction_id: int) -> None:
        if settings.ENCAISSE_EMAIL_NOTIFICATIONS:
            tasks.payment_received.enqueue(transaction_id)


def send_pending_pass() -> int:
    """One pass of the outbox: retries, and rows no task sent (see :func:`.outbox.send_pending`).
    Nothing leaves while ``ENCAISSE_EMAIL_NOTIFICATIONS`` is off; the rows wait."""
    if not settings.ENCAISSE_EMAIL_NOTIFICATIONS:
        return 0
    return outbox.send_pending(limit=PASS_LIMIT)


def outbox_job() -> periodic.PeriodicJob:
    seconds = int(getattr(settings, "ENCAISSE_NOTIFICATION_PASS_SECONDS", PASS_SECONDS))
    return periodic.PeriodicJob(
        identifier="notifications.send_pending",
        interval=dt.timedelta(seconds=seconds),
        run=send_pending_pass,
    )
