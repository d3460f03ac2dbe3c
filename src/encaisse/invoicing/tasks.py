# SPDX-License-Identifier: AGPL-3.0-or-later
"""Background work after issuance: PDFs and the rest of the collection policy.

Never inside the money path: enqueued with ``transaction.on_commit`` once the invoices exist.
Tasks take ids, load objects and are idempotent, so the worker may run them twice. A billing
chunk enqueues one task by its own id (:func:`chunk_issued`), which fans out in the worker.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.tasks import task

from encaisse.core.actors import Actor


@task()
def render_invoice_pdfs(invoice_ids: list[int]) -> int:
    from .models import Invoice
    from .pdf import render_invoice_pdf

    done = 0
    for invoice in Invoice.objects.filter(pk__in=invoice_ids, pdf="").select_related("buyer"):
        render_invoice_pdf(invoice)
        done += 1
    return done


@task()
def collect_due_invoices(invoice_ids: list[int]) -> int:
    from encaisse.payments.collection import collect_invoice

    from .models import Invoice, InvoiceStatus

    actor = Actor.system("collection")
    started = 0
    for invoice in Invoice.objects.filter(pk__in=invoice_ids, status=InvoiceStatus.OPEN):
        started += collect_invoice(invoice, actor=actor) is not None
    return started


def _follow_up_wanted() -> bool:
    from encaisse.payments.collection import registry

    return bool(
        settings.ENCAISSE_RENDER_PDF
        or settings.ENCAISSE_EMAIL_NOTIFICATIONS
        or any(m.collects_without_customer for m in registry.policy())
    )


@task()
def chunk_issued(chunk_id: int) -> int:
    """The follow-up of one billing chunk, by the chunk's id: its invoices are those of its run
    and customer range (the run's unique (run, customer) index finds them). The chunk's
    transaction enqueues this one small task instead of lists of 2,000 ids; the worker fans out."""
    from .models import BillingRunChunk, Invoice, InvoiceStatus

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
    after_issuance(invoice_ids, due)
    return len(invoice_ids)


def after_chunk_issued(chunk_id: int) -> None:
    """Schedule the follow-up of a billing chunk (PDFs, e-mails, collection), once committed."""
    if _follow_up_wanted():
        transaction.on_commit(lambda: chunk_issued.enqueue(chunk_id))


def after_issuance(invoice_ids: list[int], due_invoice_ids: list[int]) -> None:
    """Schedule PDFs and collection of what the balance did not cover, once committed."""
    if invoice_ids and settings.ENCAISSE_RENDER_PDF:
        transaction.on_commit(lambda: render_invoice_pdfs.enqueue(invoice_ids))
    if settings.ENCAISSE_EMAIL_NOTIFICATIONS:
        from encaisse.notifications.tasks import after_invoices_issued

        after_invoices_issued(invoice_ids)
    from encaisse.payments.collection import registry

    # The balance was applied at issuance; only an automatic-debit method has more to do.
    if due_invoice_ids and any(m.collects_without_customer for m in registry.policy()):
        transaction.on_commit(lambda: collect_due_invoices.enqueue(due_invoice_ids))


@task()
def run_billing(period: str) -> int:
    """Run, or resume, the billing run of ``period`` (``"2026-11"``) for the staff button.

    Safe to run twice: ``start_run`` resumes the period's unfinished run and ``process_run``
    skips the chunks already done. The staff member who asked is in the audit log
    (``encaisse.billing_run.requested``); the run itself is a system job. Returns the number of
    invoices of the run.
    """
    from .billing import process_run, start_run

    actor = Actor.system("billing-run")
    return process_run(start_run(period, actor=actor), actor=actor).invoices
