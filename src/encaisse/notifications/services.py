# SPDX-License-Identifier: AGPL-3.0-or-later
"""Which e-mails a cause calls for: each adds its rows to the outbox (:mod:`.outbox`).

Called by the tasks that follow a committed money transaction (:mod:`.tasks`), never inside it.
These functions only write ``pending`` rows, keyed by their cause so a retried task adds nothing
more; sending is the outbox's business, after COMMIT. Staff give a ``failed`` e-mail another
chance with :func:`retry_failed_email`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.customers.models import Customer
from encaisse.invoicing.models import Invoice
from encaisse.invoicing.selectors import forecast, recurring_monthly_cost
from encaisse.ledger.models import LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import customer_balance

from .models import Notification, NotificationKind, NotificationStatus
from .outbox import Pending, add, add_all


def queue_document_emails(documents: Iterable[Invoice]) -> list[int]:
    """One e-mail per issued invoice or credit note (``invoice_issued:<id>``); their row ids."""
    return add_all(
        [Pending(doc.customer, NotificationKind.INVOICE_ISSUED, doc.pk) for doc in documents]
    )


def queue_payment_receipt(top_up: LedgerTransaction) -> int | None:
    """The "payment received" e-mail of a top-up (``payment_received:<transaction id>``)."""
    if top_up.kind != TransactionKind.TOP_UP or top_up.customer is None:
        return None
    return add(Pending(top_up.customer, NotificationKind.PAYMENT_RECEIVED, top_up.pk)).pk


def queue_low_balance_warning(customer: Customer, *, today: dt.date | None = None) -> int | None:
    """Warn when the balance covers too few days of recurring charges, once a month at most
    (``balance_low:<customer id>:<month>``); None when the balance is not low."""
    balance = customer_balance(customer)
    if not forecast(balance.available, recurring_monthly_cost(customer)).low:
        return None
    month = (today or timezone.localdate()).strftime("%Y-%m")
    return add(Pending(customer, NotificationKind.BALANCE_LOW, customer.pk, (month,))).pk


def retry_failed_email(note: Notification, *, actor: Actor, reason: str = "") -> bool:
    """Give a ``failed`` e-mail a new series of attempts, due now (staff, once the cause is
    fixed: a wrong address, a mail server down for hours); audited. False if it was not failed."""
    with transaction.atomic():
        retried = Notification.objects.filter(pk=note.pk, status=NotificationStatus.FAILED).update(
            status=NotificationStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if retried:
            audit.record(
                "encaisse.notification.retried",
                actor=actor,
                obj=note,
                reason=reason,
                last_error=note.last_error,
            )
    return bool(retried)
