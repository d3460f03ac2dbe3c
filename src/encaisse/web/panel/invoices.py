# SPDX-License-Identifier: AGPL-3.0-or-later
"""Facturation > Factures: the customer's invoices and credit notes, their state and PDFs."""

from __future__ import annotations

from django import forms
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import NotFound
from encaisse.invoicing.models import Invoice
from encaisse.invoicing.pdf import render_invoice_pdf
from encaisse.invoicing.selectors import (
    UNPAID,
    PaymentState,
    customer_invoice,
    filter_by_state,
    list_invoices,
    payment_state,
)

from .access import PanelRequest, customer_view

PAGE_SIZE = 25


class InvoiceFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), (UNPAID, _("All unpaid")), *PaymentState.choices],
    )


@customer_view
def invoice_list(request: PanelRequest) -> HttpResponse:
    today = timezone.localdate()
    form = InvoiceFilterForm(request.GET or None)
    invoices = list_invoices(customer=request.customer).select_related(None)
    if form.is_bound and form.is_valid() and form.cleaned_data["state"]:
        invoices = filter_by_state(invoices, form.cleaned_data["state"], today)
    page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(invoice, payment_state(invoice, today)) for invoice in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "rows": rows, "query": query.urlencode()}
    return render(request, "panel/invoices.html", context)


def _own_invoice(request: PanelRequest, pk: int) -> Invoice:
    try:
        return customer_invoice(request.customer, pk)
    except NotFound as exc:
        raise Http404(str(exc)) from exc


@customer_view
def invoice_detail(request: PanelRequest, pk: int) -> HttpResponse:
    invoice = _own_invoice(request, pk)
    context = {
        "invoice": invoice,
        "state": payment_state(invoice, timezone.localdate()),
        "lines": list(invoice.lines.all()),
        "credit_notes": list(invoice.credit_notes.order_by("id")),
    }
    return render(request, "panel/invoice_detail.html", context)


@customer_view
def invoice_pdf(request: PanelRequest, pk: int) -> FileResponse:
    """The PDF, rendered now if the background worker has not produced it yet."""
    invoice = _own_invoice(request, pk)
    if not invoice.pdf:
        render_invoice_pdf(invoice)
    return FileResponse(
        invoice.pdf.open("rb"),
        content_type="application/pdf",
        as_attachment=request.GET.get("download") == "1",
        filename=f"{invoice.number}.pdf",
    )
