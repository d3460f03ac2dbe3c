# SPDX-License-Identifier: AGPL-3.0-or-later
"""Facturation > Moyens de paiement, and its Paramètres page.

The page explains each way to pay, as the provider's product page does: the prepaid account and
how to top it up (card, PayPal, bank transfer or mandat administratif), automatic debit (bank
account or card), accepted card brands, and that cheques are refused. Ways of paying that a later
module wires (card, PayPal, SEPA mandate) show as "coming" until their provider is configured.

For a transfer the customer gets the provider's IBAN and BIC and its own reference, the customer
number with its check digit (the statement matcher reads it from the transfer comment), and, for an
amount it chooses, an EPC069-12 QR code ("virement par QR code") that banking apps scan.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext
from segno import helpers

from encaisse.core.actors import Actor
from encaisse.core.exceptions import EncaisseError
from encaisse.customers.seller import current_seller
from encaisse.customers.services import update_customer
from encaisse.ledger.selectors import customer_balance
from encaisse.payments.collection import registry
from encaisse.web.language import set_language_cookie

from .access import PanelRequest, customer_view
from .forms import BillingSettingsForm, TransferAmountForm

CARD_BRANDS = ("CB", "Visa", "Mastercard")


def transfer_qr_svg(amount: Decimal, reference: str) -> str:
    """An EPC QR code (SEPA credit transfer) as inline SVG."""
    seller = current_seller()
    qr = helpers.make_epc_qr(
        name=seller.name[:70],
        iban=seller.iban,
        bic=seller.bic,
        amount=amount,
        text=reference,
    )
    return str(qr.svg_inline(scale=4, dark="#1b1b1b", title=gettext("QR code for your transfer")))


def _grouped(value: str) -> str:
    compact = value.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


@customer_view
def payment_methods(request: PanelRequest) -> HttpResponse:
    customer = request.customer
    balance = customer_balance(customer)
    form = TransferAmountForm(request.GET if "amount" in request.GET else None)
    qr_svg = ""
    if form.is_bound and form.is_valid():
        qr_svg = transfer_qr_svg(form.cleaned_data["amount"], customer.number)
    seller = current_seller()
    context = {
        "balance": balance,
        "seller": seller,
        "iban": _grouped(seller.iban),
        "reference": customer.number,
        "card_brands": CARD_BRANDS,
        "form": form,
        "qr_svg": qr_svg,
        # Automatic-debit methods (card, SEPA) register themselves when their module is set up.
        "automatic_debit": [m for m in registry.policy() if m.collects_without_customer],
    }
    return render(request, "panel/payment_methods.html", context)


@customer_view
def billing_settings(request: PanelRequest) -> HttpResponse:
    customer = request.customer
    initial = {field: getattr(customer, field) for field in BillingSettingsForm.base_fields}
    form = BillingSettingsForm(request.POST or None, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        previous_language = customer.language
        try:
            update_customer(customer, form.customer_data(), actor=Actor.customer(customer))
        except EncaisseError as exc:
            form.add_error(None, str(exc))
        else:
            response = redirect("panel:billing_settings")
            if customer.language != previous_language:
                # A new preferred language: the panel follows it, as at the next sign-in.
                translation.activate(customer.language)
                set_language_cookie(response, customer.language)
            messages.success(request, gettext("Your billing settings are saved."))
            return response
    return render(request, "panel/billing_settings.html", {"form": form})
