# SPDX-License-Identifier: AGPL-3.0-or-later
"""Panel forms: parse and check input field by field, then leave the decision to the services.

Field checks reuse the customers app's validators so that a wrong SIRET, VAT number or postal code
is reported next to its field with the same translated message the API gives; the service then
validates the whole again before anything is saved.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from encaisse.core.exceptions import ValidationError as EncaisseValidationError
from encaisse.core.money import MoneyError, parse_typed_amount
from encaisse.core.templatetags.formatting import money
from encaisse.core.text import ControlCharacterValidator
from encaisse.customers import validators
from encaisse.customers.models import Customer, CustomerKind, Language
from encaisse.customers.services import CustomerData

MAX_TRANSFER = Decimal("999999999.99")  # the EPC QR code's upper bound (EPC069-12)


def _check(field_cleaner: Any, value: str, *args: str) -> str:
    try:
        return str(field_cleaner(value, *args))
    except EncaisseValidationError as exc:
        raise forms.ValidationError(str(exc)) from exc


class TextForm(forms.Form):
    """A form whose text fields refuse control characters (``core.text``) with a field error.

    Django's own ``CharField`` only refuses NUL; the other C0 characters would reach invoices,
    PDFs and Chorus Pro. Fields listed in ``multiline_fields`` may hold TAB, LF and CR.
    """

    multiline_fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if isinstance(field, forms.CharField):
                multiline = name in self.multiline_fields
                field.validators.append(ControlCharacterValidator(multiline=multiline))


class BillingSettingsForm(TextForm):
    """Facturation > Moyens de paiement > Paramètres: who is invoiced, where, and how."""

    name = forms.CharField(label=_("Name or company name"), max_length=200)
    email = forms.EmailField(label=_("Billing e-mail"), max_length=254)
    address_line1 = forms.CharField(label=_("Street"), max_length=140)
    address_line2 = forms.CharField(label=_("Address complement"), max_length=140, required=False)
    postal_code = forms.CharField(label=_("Postal code"), max_length=16)
    city = forms.CharField(label=_("Town"), max_length=70)
    country = forms.CharField(
        label=_("Country"), max_length=2, help_text=_("Two-letter code, for example FR or BE.")
    )
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=20,
        required=False,
        help_text=_("For example FR44732829320."),
    )
    siret = forms.CharField(
        label=_("SIRET"), max_length=20, required=False, help_text=_("14 digits.")
    )
    service_code = forms.CharField(
        label=_("Chorus Pro service code"),
        max_length=100,
        required=False,
        help_text=_("Only if your administration uses one."),
    )
    language = forms.ChoiceField(
        label=_("Language of invoices and e-mails"), choices=Language.choices
    )

    def __init__(self, *args: Any, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        if customer.kind != CustomerKind.PUBLIC_BODY:
            del self.fields["service_code"]
        if customer.kind == CustomerKind.INDIVIDUAL:
            del self.fields["siret"]
        else:
            self.fields["siret"].required = customer.kind == CustomerKind.PUBLIC_BODY

    def clean_country(self) -> str:
        return _check(validators.clean_country, self.cleaned_data["country"])

    def clean_vat_number(self) -> str:
        value = self.cleaned_data["vat_number"].strip()
        return _check(validators.clean_vat_number, value) if value else ""

    def clean_siret(self) -> str:
        value = self.cleaned_data["siret"].strip()
        return _check(validators.clean_siret, value) if value else ""

    def clean_service_code(self) -> str:
        value = self.cleaned_data["service_code"].strip()
        return _check(validators.clean_service_code, value) if value else ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        country, postal_code = cleaned.get("country"), cleaned.get("postal_code")
        if country and postal_code:
            try:
                cleaned["postal_code"] = validators.clean_postal_code(postal_code, country)
            except EncaisseValidationError as exc:
                self.add_error("postal_code", str(exc))
        return cleaned

    def customer_data(self) -> CustomerData:
        values = {
            field: self.cleaned_data.get(field, getattr(self.customer, field))
            for field in ("name", "email", "address_line1", "address_line2", "postal_code",
                          "city", "country", "vat_number", "siret", "service_code", "language")
        }  # fmt: skip
        return CustomerData(
            kind=self.customer.kind, external_id=self.customer.external_id, **values
        )


class TransferAmountForm(TextForm):
    """How much the customer means to transfer: only used to prepare the bank's QR code."""

    amount = forms.CharField(
        label=_("Amount to transfer (€)"), max_length=20, help_text=_("For example 50 or 49,90.")
    )

    def clean_amount(self) -> Decimal:
        try:
            amount = parse_typed_amount(self.cleaned_data["amount"])
        except MoneyError as exc:
            raise forms.ValidationError(
                _("Enter an amount in euros with at most two decimals, such as 49.90.")
            ) from exc
        if amount < Decimal("0.01") or amount > MAX_TRANSFER:
            raise forms.ValidationError(
                _("Enter an amount between %(low)s and %(high)s."),
                params={"low": money(Decimal("0.01")), "high": money(MAX_TRANSFER)},
            )
        return amount
