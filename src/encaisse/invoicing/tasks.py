# SPDX-License-Identifier: AGPL-3.0-or-later
"""Background work of invoicing: invoice PDFs and the staff's billing-run button.

Never inside the money path: enqueued once the invoices are committed. Tasks take ids, load
objects and are idempotent, so the worker may run them twice. PDFs follow issuance through
invoicing's own issuance hook (:class:`PdfHook`, registered in ``InvoicingConfig.ready()``),
like the e-mails and collections of the layers above.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.tasks import task

from encaisse.core.actors import Actor

from .billing import process_run, start_run
from .hooks import IssuanceHook
from .models import Invoice
from .pdf import render_invoice_pdf


@task()
def render_invoice_pdfs(invoice_ids: list[int]) -> int:
    done = 0
    for invoice in Invoice.objects.filter(pk__in=invoice_ids, pdf="").select_related("buyer"):
        render_invoice_pdf(invoice)
        done += 1
    return done


class PdfHook(IssuanceHook):
    """Render the PDF of every document issued (the legal original the customer receives)."""

    identifier = "pdf"

    def wanted(self) -> bool:
        return bool(settings.ENCAISSE_RENDER_PDF)

    def documents_issued(self, invoice_ids: Sequence[int], due_invoice_ids: Sequence[int]) -> None:
        render_invoice_pdfs.enqueue(list(invoice_ids))

    def credit_note_issued(self, credit_note_id: int, invoice_id: int) -> None:
        render_invoice_pdfs.enqueue([credit_note_id])


@task()
def run_billing(period: str) -> int:
    """Run, or resume, the billing run of ``period`` (``"2026-11"``) for the staff button.

    Safe to run twice: ``start_run`` resumes the period's unfinished run and ``process_run``
    skips the chunks already done. The staff member who asked is in the audit log
    (``encaisse.billing_run.requested``); the run itself is a system job. Returns the number of
    invoices of the run.
    """
    actor = Actor.system("billing-run")
    return process_run(start_run(period, actor=actor), actor=actor).invoices
