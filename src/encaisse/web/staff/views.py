# SPDX-License-Identifier: AGPL-3.0-or-later
"""Staff forms of the back-office that move money or start work: thin views over the services.

Each view parses a small form, calls one service with ``Actor.staff(request.user)`` and reports
the outcome with a message; a refused operation shows the service's message and changes nothing
(the service's transaction rolls back). The views are mounted by the model admins' ``get_urls``
(customers, billing runs, invoices), so they sit under ``/admin/`` with its login and CSRF checks.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from encaisse.core import audit
from encaisse.core.actors import Actor
from encaisse.core.exceptions import EncaisseError
from encaisse.core.money import MoneyError, parse_typed_amount
from encaisse.core.templatetags.formatting import money
from encaisse.customers.models import Customer
from encaisse.invoicing.billing import parse_period
from encaisse.invoicing.issuance import issue_invoice_now
from encaisse.invoicing.models import Invoice
from encaisse.invoicing.pdf import render_invoice_pdf
from encaisse.invoicing.tasks import run_billing
from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance
from encaisse.payments.models import PaymentMethod
from encaisse.payments.services import record_staff_payment

CHEQUES_REFUSED = _("Cheques are not accepted: any cheque received is destroyed.")


class RecordPaymentForm(forms.Form):
    """A payment received outside the automatic channels (transfer, mandat administratif…)."""

    amount = forms.CharField(
        label=_("Amount (€)"), max_length=20, help_text=_("For example 49.90 or 49,90.")
    )
    method = forms.ChoiceField(
        label=_("Payment method"),
        choices=PaymentMethod.choices,
        help_text=CHEQUES_REFUSED,
        error_messages={
            "invalid_choice": _(
                "“%(value)s” is not an accepted payment method. Cheques are not "
                "accepted: any cheque received is destroyed."
            ),
        },
    )
    reference = forms.CharField(
        label=_("Reference"),
        max_length=120,
        error_messages={
            "required": _("A reference is required: it keeps a payment from being credited twice.")
        },
        help_text=_(
            "Bank entry, payment provider transaction or mandat reference. "
            "A reference is credited once, even if the form is sent twice."
        ),
    )
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        error_messages={"required": _("A reason is required: it is kept in the audit log.")},
        help_text=_("Why this payment is recorded by hand (kept in the audit log)."),
    )

    def clean_amount(self) -> Decimal:
        try:
            amount = parse_typed_amount(self.cleaned_data["amount"])
        except MoneyError as exc:
            raise forms.ValidationError(
                _(
                    "“%(value)s” is not an amount: write a number with at most 2 decimals, "
                    "such as 49.90."
                ),
                code="invalid",
                params={"value": self.cleaned_data["amount"]},
            ) from exc
        if amount <= 0:
            raise forms.ValidationError(
                _(
                    "The amount must be greater than zero. Money given back is a refund or a "
                    "credit note, not a negative payment."
                ),
                code="not_positive",
            )
        return amount


def _admin_context(request: HttpRequest, model_admin: Any, **extra: Any) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "app_label": model_admin.model._meta.app_label,
        **extra,
    }


def _customer_for_change(request: HttpRequest, model_admin: Any, object_id: str) -> Customer:
    customer = get_object_or_404(model_admin.get_queryset(request), pk=object_id)
    if not model_admin.has_change_permission(request, customer):
        raise PermissionDenied
    return customer


def record_payment(request: HttpRequest, object_id: str, *, model_admin: Any) -> HttpResponse:
    customer = _customer_for_change(request, model_admin, object_id)
    form = RecordPaymentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            txn, created = record_staff_payment(customer, user=request.user, **data)
        except EncaisseError as exc:
            form.add_error(None, str(exc))
        else:
            _report_payment(request, customer, txn, created, data["amount"])
            return redirect("admin:customers_customer_change", customer.pk)
    context = _admin_context(
        request,
        model_admin,
        title=gettext("Record a payment for %(customer)s") % {"customer": customer},
        original=customer,
        form=form,
        cheques_refused=CHEQUES_REFUSED,
    )
    return TemplateResponse(request, "admin/customers/customer/record_payment.html", context)


def _report_payment(
    request: HttpRequest, customer: Customer, txn: LedgerTransaction, created: bool, amount: Decimal
) -> None:
    if not created:
        messages.warning(
            request,
            gettext(
                "This reference was already recorded (ledger transaction #%(id)s): nothing changed."
            )
            % {"id": txn.pk},
        )
        return
    balance = customer_balance(customer)
    messages.success(
        request,
        gettext(
            "%(amount)s recorded for %(customer)s. Prepaid balance: %(balance)s, amount due: "
            "%(due)s."
        )
        % {
            "amount": money(amount),
            "customer": customer,
            "balance": money(balance.prepaid),
            "due": money(balance.due),
        },
    )


def issue_invoices_now(request: HttpRequest, customers: list[Customer]) -> None:
    """Invoice each customer's uninvoiced charges now, settling from the balance; report each."""
    actor, today = Actor.staff(request.user), timezone.localdate()
    for customer in customers:
        try:
            invoice = issue_invoice_now(customer, period_end=today, actor=actor)
        except EncaisseError as exc:
            messages.error(request, f"{customer}: {exc}")
            continue
        if invoice is None:
            messages.info(
                request, gettext("%(customer)s: nothing to invoice.") % {"customer": customer}
            )
        else:
            messages.success(
                request,
                gettext("%(customer)s: invoice %(number)s issued (%(total)s €, %(status)s).")
                % {
                    "customer": customer,
                    "number": invoice.number,
                    "total": invoice.total_incl_vat,
                    "status": invoice.get_status_display(),
                },
            )


@require_POST
def issue_invoice(request: HttpRequest, object_id: str, *, model_admin: Any) -> HttpResponse:
    customer = _customer_for_change(request, model_admin, object_id)
    issue_invoices_now(request, [customer])
    return redirect("admin:customers_customer_change", customer.pk)


class StartBillingRunForm(forms.Form):
    period = forms.CharField(
        label=_("Period"), max_length=7, help_text=_("The month to invoice, as YYYY-MM.")
    )

    def clean_period(self) -> str:
        value = self.cleaned_data["period"].strip()
        error = forms.ValidationError(
            _("“%(value)s” is not a month such as 2026-10."), params={"value": value}
        )
        if not re.fullmatch(r"\d{4}-\d{2}", value):
            raise error
        try:
            start, _end = parse_period(value)
        except EncaisseError as exc:
            raise error from exc
        if start > timezone.localdate():
            raise forms.ValidationError(_("This month has not started yet."))
        return value


def previous_month(today: dt.date) -> str:
    """The period a run started today usually bills: last month."""
    return (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def start_billing_run(request: HttpRequest, *, model_admin: Any) -> HttpResponse:
    """Queue the run for the worker: a run takes minutes and must survive the request."""
    if not request.user.has_perm("invoicing.add_billingrun"):
        raise PermissionDenied
    initial = {"period": previous_month(timezone.localdate())}
    form = StartBillingRunForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        period = form.cleaned_data["period"]
        with transaction.atomic():
            audit.record(
                "encaisse.billing_run.requested", actor=Actor.staff(request.user), period=period
            )
            transaction.on_commit(partial(run_billing.enqueue, period))
        messages.success(
            request,
            gettext("The billing run of %(period)s is queued; the background worker processes it.")
            % {"period": period},
        )
        return redirect("admin:invoicing_billingrun_changelist")
    context = _admin_context(request, model_admin, title=gettext("Start a billing run"), form=form)
    return TemplateResponse(request, "admin/invoicing/billingrun/start_run.html", context)


def invoice_pdf(request: HttpRequest, object_id: str, *, model_admin: Any) -> FileResponse:
    """Serve the invoice PDF to staff only (it holds personal data), rendering it if missing."""
    invoice = get_object_or_404(Invoice.objects.select_related("customer"), pk=object_id)
    if not model_admin.has_view_permission(request, invoice):
        raise PermissionDenied
    render_invoice_pdf(invoice)
    try:
        handle = invoice.pdf.open("rb")
    except FileNotFoundError as exc:
        raise Http404(gettext("The PDF file of this invoice is missing.")) from exc
    return FileResponse(handle, content_type="application/pdf", filename=f"{invoice.number}.pdf")
