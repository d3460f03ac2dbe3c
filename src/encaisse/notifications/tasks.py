# SPDX-License-Identifier: AGPL-3.0-or-later
"""Background e-mail tasks, enqueued by the hooks (:mod:`.hooks`) once their cause committed.

Each adds its rows to the outbox, then sends them at once (:func:`.outbox.deliver`); what fails
is retried by the worker's periodic pass (:func:`.outbox.send_pending`). They take ids and are
idempotent (the rows are keyed by their cause), so the worker may run them twice.
"""

from __future__ import annotations

from django.tasks import task

from encaisse.invoicing.models import Invoice
from encaisse.ledger.models import LedgerTransaction

from . import outbox
from .services import queue_document_emails, queue_low_balance_warning, queue_payment_receipt


@task()
def invoices_issued(invoice_ids: list[int]) -> int:
    """E-mail each invoice to its customer, then warn the customers whose balance runs low."""
    invoices = list(Invoice.objects.filter(pk__in=invoice_ids).select_related("customer"))
    invoices.sort(key=lambda invoice: invoice.pk)
    ids = queue_document_emails(invoices)
    customers = {invoice.customer_id: invoice.customer for invoice in invoices}
    for customer in customers.values():
        warning = queue_low_balance_warning(customer)
        if warning is not None:
            ids.append(warning)
    return outbox.deliver(ids)


@task()
def credit_note_issued(credit_note_id: int) -> int:
    """E-mail a credit note to its customer (the same templates as an invoice's)."""
    note = Invoice.objects.select_related("customer").get(pk=credit_note_id)
    return outbox.deliver(queue_document_emails([note]))


@task()
def payment_received(transaction_id: int) -> int:
    top_up = LedgerTransaction.objects.select_related("customer").get(pk=transaction_id)
    row = queue_payment_receipt(top_up)
    return outbox.deliver([row]) if row is not None else 0
