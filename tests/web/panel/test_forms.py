# SPDX-License-Identifier: AGPL-3.0-or-later
"""Panel forms reject bad input with a translated message next to the field, and change nothing."""

from __future__ import annotations

import html
from decimal import Decimal
from unittest import mock

import pytest
from django.urls import reverse
from segno import helpers

from encaisse.core.models import AuditLog

GOOD = {
    "name": "Alice Hébergement",
    "email": "compta@alice.example",
    "address_line1": "3 rue des Lilas",
    "address_line2": "",
    "postal_code": "69003",
    "city": "Lyon",
    "country": "FR",
    "vat_number": "FR44732829320",
    "siret": "73282932000074",
    "language": "fr",
}

BAD = [
    ("siret", "73282932000075", "n'est pas un numéro SIRET valide", "is not a valid SIRET number"),
    ("vat_number", "FR32732829320", "n'est pas un numéro de TVA", "is not a valid EU VAT number"),
    ("postal_code", "6900", "n'est pas un code postal valide", "is not a valid postal code"),
    ("country", "XX", "n'est pas un code pays ISO 3166", "is not an ISO 3166 country code"),
    ("email", "compta@", "Saisissez une adresse de courriel valide", "Enter a valid email address"),
]


def post_settings(client, ui_language, **changes):
    client.cookies["django_language"] = ui_language
    return client.post(reverse("panel:billing_settings"), {**GOOD, **changes})


@pytest.mark.parametrize(("field", "value", "french", "english"), BAD)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_bad_identity_is_refused_in_the_readers_language(
    alice_client, alice, field, value, french, english, language
):
    before = {f: getattr(alice.customer, f) for f in GOOD}
    audits = AuditLog.objects.count()
    response = post_settings(alice_client, language, **{field: value})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert (french if language == "fr" else english) in errors
    assert (french if language == "fr" else english) in html.unescape(response.content.decode())
    alice.customer.refresh_from_db()
    assert {f: getattr(alice.customer, f) for f in GOOD} == before
    assert AuditLog.objects.count() == audits


def test_good_identity_is_saved_audited_and_sets_the_language(alice_client, alice):
    response = post_settings(alice_client, "fr", language="en")
    assert response.status_code == 302
    alice.customer.refresh_from_db()
    assert alice.customer.city == "Lyon"
    assert alice.customer.language == "en"
    assert response.cookies["django_language"].value == "en"
    audit = AuditLog.objects.filter(action="encaisse.customer.updated").latest("pk")
    assert audit.actor_kind == "customer"
    assert audit.actor_id == str(alice.customer.pk)


def test_saving_other_fields_keeps_the_language_being_browsed(alice_client, alice):
    response = post_settings(alice_client, "en", language=alice.customer.language)
    assert response.status_code == 302
    assert "django_language" not in response.cookies
    assert (
        "Your billing settings are saved."
        in alice_client.get(response["Location"]).content.decode()
    )


def test_service_code_is_offered_to_public_bodies_only(client, panel_customer):
    company = panel_customer("company@example.org")
    public = panel_customer("mairie@example.org", kind="public_body", name="Mairie de Lyon")
    client.force_login(company.user)
    assert (
        "service_code" not in client.get(reverse("panel:billing_settings")).context["form"].fields
    )
    client.force_login(public.user)
    data = {**GOOD, "siret": "21750001600019", "service_code": "SERVICE-FACTURES"}
    assert client.post(reverse("panel:billing_settings"), data).status_code == 302
    public.customer.refresh_from_db()
    assert public.customer.service_code == "SERVICE-FACTURES"
    data["service_code"] = "<script>"
    client.cookies["django_language"] = "fr"
    response = client.post(reverse("panel:billing_settings"), data)
    assert "n'est pas un code service valide" in " ".join(
        response.context["form"].errors["service_code"]
    )
    public.customer.refresh_from_db()
    assert public.customer.service_code == "SERVICE-FACTURES"


def test_a_public_body_cannot_drop_its_siret(client, panel_customer):
    public = panel_customer("mairie@example.org", kind="public_body", name="Mairie de Lyon")
    client.force_login(public.user)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("panel:billing_settings"), {**GOOD, "siret": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["siret"]
    public.customer.refresh_from_db()
    assert public.customer.siret == "21750001600019"


@pytest.mark.parametrize(
    "amount", ["-5", "0", "abc", "1e3", "12.345", "NaN", "1000000000", "12,3,4"]
)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_bad_transfer_amount_is_refused(alice_client, amount, language):
    alice_client.cookies["django_language"] = language
    response = alice_client.get(reverse("panel:payment_methods"), {"amount": amount})
    assert response.status_code == 200
    assert response.context["qr_svg"] == ""
    message = " ".join(response.context["form"].errors["amount"])
    assert ("Saisissez un montant" if language == "fr" else "Enter an amount") in message


@pytest.mark.parametrize("amount", ["49,90", "49.90", "1 000", "50"])
def test_a_good_transfer_amount_gives_an_epc_qr_code(alice_client, amount):
    response = alice_client.get(reverse("panel:payment_methods"), {"amount": amount})
    assert response.context["form"].is_valid()
    assert response.context["qr_svg"].startswith("<svg")


def test_the_epc_qr_code_names_the_provider_amount_and_reference(alice_client, alice, settings):
    """EPC069-12 SEPA credit transfer: the provider as beneficiary, the amount, our reference."""
    with mock.patch.object(helpers, "make_epc_qr", wraps=helpers.make_epc_qr) as spy:
        alice_client.get(reverse("panel:payment_methods"), {"amount": "49,90"})
    kwargs = spy.call_args.kwargs
    assert kwargs["iban"] == settings.ENCAISSE_SELLER["iban"]
    assert kwargs["bic"] == settings.ENCAISSE_SELLER["bic"]
    assert kwargs["amount"] == Decimal("49.90")
    assert kwargs["text"] == alice.customer.number
