# SPDX-License-Identifier: AGPL-3.0-or-later
"""Background e-mail tasks, enqueued once the money transaction that causes them is committed.

They take ids and are idempotent (see :class:`~encaisse.notifications.models.Notification`), so
the worker may run them twice.
"""

from __future__ import annotations

from django.db import transaction
from django.tasks import task


@task()
def invoices_issued(invoice_ids: list[int]) -> int:
    """E-mail each invoice to its customer, then warn the customers whose balance runs low."""
    from encaisse.invoicing.models import Invoice

    from .services import notify_if_balance_low, notify_invoice_issued

    sent, customers = 0, {}
    invoices = Invoice.objects.filter(pk__in=invoice_ids).select_related("customer")
    for invoice in invoices.order_by("pk"):
        sent += notify_invoice_issued(invoice)
        customers[invoice.customer_id] = invoice.customer
    for customer in customers.values():
        sent += notify_if_balance_low(customer)
    return sent


@task()
def payment_received(transaction_id: int) -> int:
    from encaisse.ledger.models import LedgerTransaction

    from .services import notify_payment_received

    top_up = (
        LedgerTransaction.objects.select_related("customer")
        .prefetch_related("entries__account")
        .get(pk=transaction_id)
    )
    return int(notify_payment_received(top_up))


def after_invoices_issued(invoice_ids: list[int]) -> None:
    if invoice_ids:
        transaction.on_commit(lambda: invoices_issued.enqueue(list(invoice_ids)))


def after_payment_received(transaction_id: int) -> None:
    transaction.on_commit(lambda: payment_received.enqueue(transaction_id))
