# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading invoices: listings and one invoice with its lines (for the API and the panels)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Count, ExpressionWrapper, F, Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import NotFound
from encaisse.core.fields import CentsField
from encaisse.customers.models import Customer

from .models import BillingRun, Charge, Interval, Invoice, InvoiceKind, InvoiceStatus, Subscription


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
            Invoice.objects.select_related("customer", "credited_invoice", "buyer")
            .prefetch_related(lines)
            .get(number=number.strip())
        )
    except Invoice.DoesNotExist as exc:
        raise NotFound(_("No invoice %(number)s."), number=number) from exc


class PaymentState(models.TextChoices):
    """What a customer needs to know about an invoice, derived from its settlement columns."""

    PAID = "paid", _("Paid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    DUE = "due", _("Due")
    OVERDUE = "overdue", _("Overdue")
    CANCELLED = "cancelled", _("Cancelled by credit note")
    CREDIT_NOTE = "credit_note", _("Credit note")


def payment_state(invoice: Invoice, today: dt.date) -> PaymentState:
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return PaymentState.CREDIT_NOTE
    if invoice.status == InvoiceStatus.CANCELLED:
        return PaymentState.CANCELLED
    return _open_state(invoice, today)


def _open_state(invoice: Invoice, today: dt.date) -> PaymentState:
    if invoice.amount_due <= 0:
        return PaymentState.PAID
    if invoice.due_date < today:
        return PaymentState.OVERDUE
    return PaymentState.PARTLY_PAID if invoice.paid > 0 else PaymentState.DUE


#: Not a state: every invoice still to pay (due, partly paid or overdue), for "see what I owe".
UNPAID = "unpaid"


def filter_by_state(invoices: QuerySet[Invoice], state: str, today: dt.date) -> QuerySet[Invoice]:
    """The SQL form of :func:`payment_state`, so a filtered listing stays one paginated query."""
    still_open = models.Q(kind=InvoiceKind.INVOICE, status=InvoiceStatus.OPEN)
    filters = {
        UNPAID: still_open,
        PaymentState.PAID: models.Q(kind=InvoiceKind.INVOICE, status=InvoiceStatus.PAID),
        PaymentState.OVERDUE: still_open & models.Q(due_date__lt=today),
        PaymentState.PARTLY_PAID: still_open & models.Q(due_date__gte=today, paid__gt=0),
        PaymentState.DUE: still_open & models.Q(due_date__gte=today, paid=0),
        PaymentState.CANCELLED: models.Q(kind=InvoiceKind.INVOICE, status=InvoiceStatus.CANCELLED),
        PaymentState.CREDIT_NOTE: models.Q(kind=InvoiceKind.CREDIT_NOTE),
    }
    return invoices.filter(filters[state]) if state in filters else invoices


def customer_invoice(customer: Customer, pk: int) -> Invoice:
    """One of *this customer's* invoices with its lines; another customer's is :class:`NotFound`."""
    lines = Prefetch("lines", queryset=Charge.objects.order_by("id"))
    try:
        return (
            Invoice.objects.select_related("credited_invoice", "buyer")
            .prefetch_related(lines)
            .get(pk=pk, customer=customer)
        )
    except Invoice.DoesNotExist as exc:
        raise NotFound(_("No such invoice.")) from exc


def recurring_monthly_cost(customer: Customer) -> Decimal:
    """What the active subscriptions cost per month, VAT included (yearly plans count 1/12)."""
    total = Decimal(0)
    subscriptions = Subscription.objects.filter(customer=customer, status="active").select_related(
        "plan"
    )
    for sub in subscriptions:
        price = sub.plan.unit_price * sub.quantity * (1 + sub.plan.vat_rate / 100)
        total += price / 12 if sub.plan.interval == Interval.YEAR else price
    return total.quantize(Decimal("0.01"))


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


#: Average days per month (365.25 / 12), to turn a monthly cost into a daily one.
DAYS_PER_MONTH = Decimal("30.4375")


@dataclass(frozen=True)
class Forecast:
    monthly_cost: Decimal
    days_left: int | None  # None: no recurring charges, the balance is not being used up

    @property
    def low(self) -> bool:
        return self.days_left is not None and self.days_left < settings.ENCAISSE_LOW_BALANCE_DAYS


def forecast(available: Decimal, monthly_cost: Decimal) -> Forecast:
    """How many days the available balance (overdraft included) pays the recurring charges."""
    if monthly_cost <= 0:
        return Forecast(monthly_cost, None)
    if available <= 0:
        return Forecast(monthly_cost, 0)
    days = (available * DAYS_PER_MONTH / monthly_cost).to_integral_value(rounding=ROUND_FLOOR)
    return Forecast(monthly_cost, int(days))
