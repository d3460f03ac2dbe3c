# SPDX-License-Identifier: AGPL-3.0-or-later
"""Invoices: issue a customer's pending charges now, list, read, and download the PDF."""

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router
from ninja.pagination import paginate

from encaisse.customers.selectors import get_by_number
from encaisse.invoicing import selectors
from encaisse.invoicing.issuance import issue_invoice_now
from encaisse.invoicing.models import Invoice, InvoiceStatus
from encaisse.invoicing.pdf import render_invoice_pdf

from .auth import ApiKeyAuth, actor_of
from .errors import PdfUnavailable
from .idempotency import run_once
from .models import Scope
from .params import IdempotencyKey, Number, Pages, QueryText
from .responses import Outcome, respond, to_json
from .schemas import ERRORS, READ_ERRORS, ErrorOut, InvoiceDetailOut, InvoiceOut, IssuedInvoiceOut

router = Router(tags=["invoices"])
PDF_RESPONSE = {"200": {"description": "The invoice PDF", "content": {"application/pdf": {}}}}


@router.post(
    "/customers/{number}/invoices",
    response={201: IssuedInvoiceOut, 200: IssuedInvoiceOut, **ERRORS},
    auth=ApiKeyAuth(Scope.INVOICES),
)
def issue_invoice(
    request: HttpRequest, number: Number, idempotency_key: IdempotencyKey
) -> HttpResponse:
    """Invoice the customer's uninvoiced charges now, settling from the prepaid balance.

    201 with the invoice, or 200 with ``{"invoice": null}`` when there is nothing to invoice.
    """

    def operation() -> Outcome:
        customer = get_by_number(number)
        today = timezone.localdate()
        invoice = issue_invoice_now(customer, period_end=today, actor=actor_of(request))
        if invoice is None:
            return Outcome(200, {"invoice": None})
        detail = selectors.get_invoice(invoice.number)
        return Outcome(201, {"invoice": to_json(InvoiceDetailOut, detail)})

    return respond(request, run_once(request, idempotency_key, operation))


@router.get(
    "/invoices", response={200: list[InvoiceOut], **READ_ERRORS}, auth=ApiKeyAuth(Scope.READ)
)
@paginate(Pages, page_size=50, max_page_size=200)
def list_invoices(
    request: HttpRequest, customer: QueryText = "", status: InvoiceStatus | None = None
) -> QuerySet[Any]:
    """Invoices and credit notes, newest first; filter by customer number and status."""
    owner = get_by_number(customer) if customer.strip() else None
    return selectors.list_invoices(customer=owner, status=status.value if status else None)


@router.get(
    "/invoices/{number}",
    response={200: InvoiceDetailOut, **READ_ERRORS},
    auth=ApiKeyAuth(Scope.READ),
)
def get_invoice(request: HttpRequest, number: Number) -> Any:
    """One invoice with its lines, VAT breakdown, totals, what is paid and what is still due."""
    return selectors.get_invoice(number)


@router.get(
    "/invoices/{number}/pdf",
    response={**READ_ERRORS, 503: ErrorOut},
    openapi_extra={"responses": PDF_RESPONSE},
    auth=ApiKeyAuth(Scope.READ),
)
def get_invoice_pdf(request: HttpRequest, number: Number) -> FileResponse:
    """The invoice PDF, rendered now if the background task has not produced it yet."""
    invoice = selectors.get_invoice(number)
    if not invoice.pdf:
        _render_pdf(invoice)
    return FileResponse(
        invoice.pdf.open("rb"), content_type="application/pdf", filename=f"{invoice.number}.pdf"
    )


def _render_pdf(invoice: Invoice) -> None:
    try:
        render_invoice_pdf(invoice)
    except ImportError as exc:  # WeasyPrint, loaded at the first render, is missing: not a 500
        raise PdfUnavailable(number=invoice.number) from exc
    invoice.refresh_from_db(fields=["pdf"])
    if not invoice.pdf:
        raise PdfUnavailable(number=invoice.number)
