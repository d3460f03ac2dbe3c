# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading invoices: listings and one invoice with its lines (for the API and the panels)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, ExpressionWrapper, F, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import NotFound
from encaisse.core.fields import CentsField
from encaisse.customers.models import Customer

from .models import BillingRun, Charge, Invoice, InvoiceKind, InvoiceStatus


def list_invoices(
    *, customer: Customer | None = None, status: str | None = None
) -> QuerySet[Invoice]:
    """Invoices and credit notes, newest first, optionally of one customer and in one status."""
    invoices = Invoice.objects.select_related("customer").order_by("-issue_date", "-id")
    if customer is not None:
        invoices = invoices.filter(customer=customer)
    if status:
        invoices = invoices.filter(status=status)
    return invoices


def get_invoice(number: str) -> Invoice:
    """One invoice by number, with its customer, its lines in order and the credited invoice."""
    lines = Prefetch("lines", queryset=Charge.objects.order_by("id"))
    try:
        return (
            Invoice.objects.select_related("customer", "credited_invoice")
            .prefetch_related(lines)
            .get(number=number.strip())
        )
    except Invoice.DoesNotExist as exc:
        raise NotFound(_("No invoice %(number)s."), number=number) from exc


@dataclass(frozen=True)
class OpenInvoiceTotals:
    """Invoices left (partly) unpaid: those still within their terms and those past due."""

    due_count: int
    due_amount: Decimal
    overdue_count: int
    overdue_amount: Decimal

    @property
    def count(self) -> int:
        return self.due_count + self.overdue_count

    @property
    def amount(self) -> Decimal:
        return self.due_amount + self.overdue_amount


def open_invoice_totals(*, today: dt.date) -> OpenInvoiceTotals:
    """One aggregate query; an invoice is overdue the day after its due date."""
    amount_due = ExpressionWrapper(
        F("total_incl_vat") - F("paid") - F("credited"), output_field=CentsField()
    )
    late, in_terms = Q(due_date__lt=today), Q(due_date__gte=today)
    totals = Invoice.objects.filter(kind=InvoiceKind.INVOICE, status=InvoiceStatus.OPEN).aggregate(
        due_count=Count("id", filter=in_terms),
        due_amount=Sum(amount_due, filter=in_terms, default=0),
        overdue_count=Count("id", filter=late),
        overdue_amount=Sum(amount_due, filter=late, default=0),
    )
    return OpenInvoiceTotals(**totals)


def recent_billing_runs(*, limit: int = 5) -> list[BillingRun]:
    """The latest runs, newest first, each with ``invoice_count`` and ``invoiced`` (incl. VAT)."""
    runs = BillingRun.objects.annotate(
        invoice_count=Count("invoices"), invoiced=Sum("invoices__total_incl_vat", default=0)
    )
    return list(runs.order_by("-id")[:limit])
