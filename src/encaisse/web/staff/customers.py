# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customers in the back-office: search, balances at a glance, and staff actions on money.

Creating and editing a customer go through ``customers.services`` (number allocation, accounts,
identifier validation, audit) from ``save_model``; the form validates with the same function first
so errors show on the form instead of failing half-way. Balances come from the ledger's accounts
as two subqueries of the changelist's single query: no query per row. Recording a payment and
issuing an invoice now are staff forms in :mod:`encaisse.web.staff.views` that call the services.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError as EncaisseValidationError
from encaisse.core.templatetags.formatting import money
from encaisse.customers import numbers
from encaisse.customers.models import Customer
from encaisse.customers.services import (
    CustomerData,
    clean_customer_data,
    create_customer,
    update_customer,
)
from encaisse.invoicing.selectors import list_invoices
from encaisse.ledger.models import Account, AccountKind
from encaisse.ledger.selectors import customer_transactions

from . import views

IDENTITY_FIELDS = tuple(f.name for f in fields(CustomerData))
#: Latest ledger transactions and invoices shown on a customer's page (the rest: "see all").
RECENT_ROWS = 15


def _balance(kind: AccountKind) -> Subquery:
    accounts = Account.objects.filter(customer=OuterRef("pk"), kind=kind)
    return Subquery(accounts.values("balance")[:1])


def with_balances(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    """Annotate the prepaid balance, the amount due and the floor, in the same query."""
    floor = Account.objects.filter(customer=OuterRef("pk"), kind=AccountKind.PREPAID)
    return customers.annotate(
        prepaid_balance=_balance(AccountKind.PREPAID),
        amount_due=_balance(AccountKind.RECEIVABLE),
        prepaid_floor=Subquery(floor.values("floor")[:1]),
    )


def _money(value: Decimal | None) -> str:
    """An amount in the reader's language ("1 234,56 €"), as the rest of the back-office shows it."""
    return "" if value is None else money(value)


def customer_data(cleaned: dict[str, Any]) -> CustomerData:
    return CustomerData(**{name: cleaned.get(name) or "" for name in IDENTITY_FIELDS})


class CustomerForm(forms.ModelForm):
    """Checks the identity with the service's own validation (SIRET, VAT number, postal code)."""

    class Meta:
        model = Customer
        fields = IDENTITY_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                clean_customer_data(customer_data(cleaned))
            except EncaisseValidationError as exc:
                self.add_error(None, str(exc))
        return cleaned


class CustomerAddForm(CustomerForm):
    overdraft = forms.DecimalField(
        label=_("Overdraft granted"),
        min_value=Decimal(0),
        max_digits=12,
        decimal_places=2,
        required=False,
        localize=True,
        help_text=_("How far the prepaid balance may go below zero to pay invoices (0: none)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["overdraft"].initial = settings.ENCAISSE_DEFAULT_OVERDRAFT


IDENTITY_FIELDSETS: tuple[Any, ...] = (
    (None, {"fields": ("name", "kind", "email", "language")}),
    (
        _("Address"),
        {"fields": ("address_line1", "address_line2", "postal_code", "city", "country")},
    ),
    (_("Legal identity"), {"fields": ("siret", "service_code", "vat_number", "external_id")}),
)


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("number", "name", "email", "kind", "prepaid_display", "due_display")
    list_filter = ("kind", "language", "country")
    search_fields = ("number", "name", "email")
    ordering = ("number",)
    form = CustomerForm
    add_form = CustomerAddForm
    fieldsets: ClassVar[Any] = (
        (None, {"fields": ("number",)}),
        *IDENTITY_FIELDSETS,
        (_("Money"), {"fields": ("prepaid_display", "due_display", "overdraft_display", "links")}),
    )
    add_fieldsets = (*IDENTITY_FIELDSETS, (_("Money"), {"fields": ("overdraft",)}))
    readonly_fields = ("number", "prepaid_display", "due_display", "overdraft_display", "links")
    actions = ("issue_invoice_now",)
    change_form_template = "admin/customers/customer/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return with_balances(super().get_queryset(request))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Customer | None = None,
    ) -> Any:
        """Show the customer's latest ledger transactions and invoices under the form."""
        if obj is not None and obj.pk:
            context["recent_transactions"] = list(customer_transactions(obj)[:RECENT_ROWS])
            context["recent_invoices"] = list(list_invoices(customer=obj)[:RECENT_ROWS])
            context["history_query"] = urlencode({"customer__id__exact": obj.pk})
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def get_search_results(self, request: HttpRequest, queryset: Any, search_term: str) -> Any:
        """Also find "c 100 0014" or "c1000014": customers read their number back with spaces."""
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if numbers.is_valid(search_term):
            found = found | queryset.filter(number=numbers.normalize(search_term))
        return found, duplicates

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a customer has accounts and invoices to keep for ten years

    def save_model(self, request: HttpRequest, obj: Customer, form: Any, change: bool) -> None:
        """Write through the services, never ``obj.save()``: they allocate, open accounts, audit."""
        actor, data = Actor.staff(request.user), customer_data(form.cleaned_data)
        if change:
            update_customer(Customer.objects.get(pk=obj.pk), data, actor=actor)
            return
        overdraft = form.cleaned_data.get("overdraft")
        created = create_customer(data, actor=actor, overdraft=overdraft)
        obj.pk, obj.number, obj.created_at = created.pk, created.number, created.created_at
        obj._state.adding = False

    @admin.display(description=_("prepaid balance"), ordering="prepaid_balance")
    def prepaid_display(self, obj: Customer) -> str:
        return _money(getattr(obj, "prepaid_balance", None))

    @admin.display(description=_("amount due"), ordering="amount_due")
    def due_display(self, obj: Customer) -> str:
        return _money(getattr(obj, "amount_due", None))

    @admin.display(description=_("overdraft granted"))
    def overdraft_display(self, obj: Customer) -> str:
        floor = getattr(obj, "prepaid_floor", None)
        return _money(-floor if floor else Decimal(0))

    @admin.display(description=_("see also"))
    def links(self, obj: Customer) -> str:
        query = {"customer__id__exact": obj.pk}
        targets = (
            ("admin:invoicing_invoice_changelist", query, _("Invoices")),
            ("admin:ledger_ledgertransaction_changelist", query, _("Ledger transactions")),
            ("admin:invoicing_charge_changelist", query, _("Charges")),
            ("admin:invoicing_subscription_changelist", query, _("Subscriptions")),
            ("admin:core_auditlog_changelist", {"object_id": obj.pk}, _("Audit log")),
        )
        return format_html_join(
            " · ",
            '<a href="{}">{}</a>',
            ((f"{reverse(name)}?{urlencode(params)}", label) for name, params, label in targets),
        )

    @admin.action(description=_("Issue invoice now (uninvoiced charges)"), permissions=["change"])
    def issue_invoice_now(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        views.issue_invoices_now(request, list(queryset.order_by("pk")))

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/record-payment/",
                wrap(partial(views.record_payment, model_admin=self)),
                name="customers_customer_record_payment",
            ),
            path(
                "<path:object_id>/issue-invoice/",
                wrap(partial(views.issue_invoice, model_admin=self)),
                name="customers_customer_issue_invoice",
            ),
            *super().get_urls(),
        ]
