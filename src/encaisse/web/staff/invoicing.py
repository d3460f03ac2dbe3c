# SPDX-License-Identifier: AGPL-3.0-or-later
"""Invoicing in the back-office.

Issued invoices and billing runs are read-only (the database freezes an invoice's content; a
correction is a credit note). Charges are added through ``invoicing.charges.add_charge`` and never
edited afterwards: the service takes the customer's money lock, which a plain admin edit would
not, and could race a billing run totalling that charge. Plans and subscriptions are configuration
and stay editable, but never deleted (charges point to them): deactivate or cancel instead.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from encaisse.core.actors import Actor
from encaisse.core.exceptions import ValidationError as EncaisseValidationError
from encaisse.invoicing.charges import add_charge, check_period, clean_description
from encaisse.invoicing.models import (
    BillingRun,
    BillingRunSetAside,
    Charge,
    Invoice,
    Plan,
    Subscription,
)

from . import views
from .readonly import ReadOnlyAdmin, ReadOnlyTabularInline


def _vat_rate_choices() -> list[tuple[str, str]]:
    # Two decimals on both sides, so a stored 20.00 selects the "20.00" choice on edit.
    return [(f"{rate:.2f}", f"{rate:.2f} %") for rate in settings.ENCAISSE_VAT_RATES]


def _decimal(label: Any, places: int, **kwargs: Any) -> forms.DecimalField:
    """Fixed-point model fields are integers underneath: the form must still speak decimals."""
    return forms.DecimalField(
        label=label, max_digits=14, decimal_places=places, localize=True, **kwargs
    )


def _vat_rate_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=_("VAT rate (%)"), choices=_vat_rate_choices, coerce=Decimal
    )


class ChargeInline(ReadOnlyTabularInline):
    model = Charge
    verbose_name = _("line")
    verbose_name_plural = _("lines")
    fields = (
        "description",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "vat_rate",
        "amount",
    )
    readonly_fields = fields
    show_change_link = False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "kind",
        "customer",
        "issue_date",
        "due_date",
        "total_incl_vat",
        "paid",
        "amount_due",
        "status",
        "pdf_link",
    )
    list_filter = ("status", "kind", "issue_date")
    search_fields = ("number", "customer__number", "customer__name")
    list_select_related = ("customer",)
    date_hierarchy = "issue_date"
    inlines = (ChargeInline,)
    exclude = ("pdf",)
    readonly_fields = ("pdf_link",)
    change_form_template = "admin/invoicing/invoice/change_form.html"

    @admin.display(description=_("amount due"))
    def amount_due(self, obj: Invoice) -> Decimal:
        return obj.amount_due

    @admin.display(description=_("PDF"))
    def pdf_link(self, obj: Invoice) -> str:
        url = reverse("admin:invoicing_invoice_pdf", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("PDF"))

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(partial(views.invoice_pdf, model_admin=self))
        return [
            path("<path:object_id>/pdf/", view, name="invoicing_invoice_pdf"),
            *super().get_urls(),
        ]


class ChargeForm(forms.ModelForm):
    quantity = _decimal(_("quantity"), 4, initial=Decimal(1))
    unit_price = _decimal(_("unit price excl. VAT"), 4)
    vat_rate = _vat_rate_field()

    class Meta:
        model = Charge
        fields = (
            "customer",
            "description",
            "quantity",
            "unit_price",
            "vat_rate",
            "period_start",
            "period_end",
        )

    def clean_description(self) -> str:
        """The service's own rules, as a form error rather than a 500 from ``save_model``."""
        try:
            return clean_description(self.cleaned_data["description"])
        except EncaisseValidationError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end:
            try:
                check_period(start, end)
            except EncaisseValidationError as exc:
                self.add_error("period_end", str(exc))
        return cleaned


@admin.register(Charge)
class ChargeAdmin(admin.ModelAdmin):
    form = ChargeForm
    list_display = (
        "description",
        "customer",
        "period_start",
        "period_end",
        "quantity",
        "unit_price",
        "vat_rate",
        "amount",
        "invoice",
    )
    list_filter = (("invoice", admin.EmptyFieldListFilter), "vat_rate")
    search_fields = (
        "description",
        "customer__number",
        "customer__name",
        "invoice__number",
        "external_id",
    )
    list_select_related = ("customer", "invoice")
    autocomplete_fields = ("customer",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Charge, form: Any, change: bool) -> None:
        """Through the service (validation, customer lock); ``obj`` becomes the created charge."""
        data = form.cleaned_data
        created, _created = add_charge(
            data["customer"],
            description=data["description"],
            quantity=data["quantity"],
            unit_price=data["unit_price"],
            vat_rate=data["vat_rate"],
            period_start=data["period_start"],
            period_end=data["period_end"],
            actor=Actor.staff(request.user),
        )
        obj.pk, obj.amount = created.pk, created.amount
        obj._state.adding = False


class PlanForm(forms.ModelForm):
    unit_price = _decimal(_("price excl. VAT"), 4, min_value=Decimal(0))
    vat_rate = _vat_rate_field()

    class Meta:
        model = Plan
        fields = ("code", "name", "unit_price", "vat_rate", "interval", "active")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanForm
    list_display = ("code", "name", "unit_price", "vat_rate", "interval", "active")
    list_filter = ("interval", "active")
    search_fields = ("code", "name")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SubscriptionForm(forms.ModelForm):
    quantity = _decimal(_("quantity"), 4, min_value=Decimal("0.0001"), initial=Decimal(1))

    class Meta:
        model = Subscription
        fields = ("customer", "plan", "quantity", "status", "next_period_start")


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("customer", "plan", "quantity", "status", "next_period_start")
    list_filter = ("status", "plan")
    search_fields = ("customer__number", "customer__name", "plan__name")
    list_select_related = ("customer", "plan")
    autocomplete_fields = ("customer",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SetAsideInline(ReadOnlyTabularInline):
    """Customers the run could not invoice: their charges wait until staff fix the cause."""

    model = BillingRunSetAside
    fields = ("customer", "reason", "total", "created_at")
    readonly_fields = fields
    show_change_link = False


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    inlines = (SetAsideInline,)
    list_display = (
        "__str__",
        "period_start",
        "period_end",
        "issue_date",
        "status",
        "invoice_count",
        "set_aside_count",
        "created_at",
        "finished_at",
        "actor_label",
    )
    list_filter = ("status",)
    readonly_fields = ("progress",)
    change_list_template = "admin/invoicing/billingrun/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[BillingRun]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_invoices=Count("invoices", distinct=True),
                n_set_aside=Count("set_aside", distinct=True),
            )
        )

    @admin.display(description=_("invoices"), ordering="n_invoices")
    def invoice_count(self, obj: BillingRun) -> int:
        return getattr(obj, "n_invoices", 0)

    @admin.display(description=_("customers set aside"), ordering="n_set_aside")
    def set_aside_count(self, obj: BillingRun) -> int:
        return getattr(obj, "n_set_aside", 0)

    @admin.display(description=_("chunks done"))
    def progress(self, obj: BillingRun) -> str:
        done = obj.chunks.filter(status="done").count()
        return f"{done} / {obj.chunks.count()}"

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(partial(views.start_billing_run, model_admin=self))
        return [path("start/", view, name="invoicing_billingrun_start"), *super().get_urls()]
