# SPDX-License-Identifier: AGPL-3.0-or-later
"""Follow-ups of a billing chunk: one small task by the chunk's id, fanned out in the worker.

A chunk's transaction issues ≈ 2,000 invoices; it enqueues one task by its own id instead of
lists of ids (:func:`after_chunk_issued`), and only when some hook has work to do. The worker
finds the chunk's invoices and calls the issuance hooks (:mod:`.hooks`) with them.
"""

from __future__ import annotations

from functools import partial

from django.tasks import task

from encaisse.core.background import enqueue_with_the_transaction

from . import hooks
from .models import BillingRunChunk, Invoice, InvoiceStatus


@task()
def chunk_issued(chunk_id: int) -> int:
    """The follow-up of one billing chunk, by the chunk's id: its invoices are those of its run
    and customer range (the run's unique (run, customer) index finds them)."""
    chunk = BillingRunChunk.objects.get(pk=chunk_id)
    rows = list(
        Invoice.objects.filter(
            billing_run_id=chunk.run_id,
            customer_id__gte=chunk.first_customer_id,
            customer_id__lte=chunk.last_customer_id,
        )
        .order_by("pk")
        .values_list("pk", "status")
    )
    invoice_ids = [pk for pk, _ in rows]
    due = [pk for pk, status in rows if status == InvoiceStatus.OPEN]
    hooks.documents_issued(invoice_ids, due)
    return len(invoice_ids)


def after_chunk_issued(chunk_id: int) -> None:
    """Enqueue the follow-up of a billing chunk with the chunk's transaction."""
    if hooks.follow_up_wanted():
        enqueue_with_the_transaction(partial(chunk_issued.enqueue, chunk_id))
