# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading invoices: listings and one invoice with its lines (for the API and the panels)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import NotFound
from encaisse.customers.models import Customer

from .models import Charge, Invoice


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
