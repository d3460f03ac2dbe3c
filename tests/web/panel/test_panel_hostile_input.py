# SPDX-License-Identifier: AGPL-3.0-or-later
"""Control characters typed or posted into the panel (issue 12, finding 4): a form error next to
the field, nothing stored, and never a 500 (PostgreSQL cannot store a NUL byte; SQLite can)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from encaisse.core.models import AuditLog

from .test_forms import GOOD, post_settings

CHARACTERS = ["\x00", "\x01", "\x1b", "\x7f", "\n"]


@pytest.mark.parametrize("character", CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("field", ["name", "address_line1", "address_line2", "city"])
def test_a_control_character_in_the_billing_settings_is_a_field_error(
    alice_client, alice, field, character
):
    before = {f: getattr(alice.customer, f) for f in GOOD}
    audits = AuditLog.objects.count()

    response = post_settings(alice_client, "en", **{field: f"Alice{character}Hébergement"})

    assert response.status_code == 200
    assert response.context["form"].errors.get(field)
    alice.customer.refresh_from_db()
    assert {f: getattr(alice.customer, f) for f in GOOD} == before
    assert AuditLog.objects.count() == audits


def test_the_field_error_says_what_is_wrong(alice_client):
    response = post_settings(alice_client, "en", city="Ly\x1bon")

    with translation.override("en"):
        assert "control character (U+001B)" in " ".join(response.context["form"].errors["city"])


def test_a_control_character_in_the_transfer_amount_is_a_field_error(alice_client):
    response = alice_client.get(reverse("panel:payment_methods"), {"amount": "49\x0090"})

    assert response.status_code == 200
    assert response.context["form"].errors["amount"]


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice@example.org\x00", "password": "x"},
        {"username": "alice\x00@example.org", "password": "x\x00"},
        {"username": "\x00", "password": "\x00"},
    ],
)
def test_a_nul_byte_at_the_sign_in_is_refused_anonymously_without_a_500(client, alice, credentials):
    response = client.post(reverse("panel:login"), credentials)

    assert response.status_code in (200, 400)
    assert "_auth_user_id" not in client.session


def test_a_nul_byte_in_a_password_reset_is_refused_without_a_500(client, alice, mailoutbox):
    response = client.post(reverse("panel:password_reset"), {"email": "alice@example.org\x00"})

    assert response.status_code in (200, 302, 400)
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("panel:invoices", {"state": "\x00"}),
        ("panel:invoices", {"page": "\x00"}),
        ("panel:movements", {"since": "2026-01-01\x00", "kind": "\x00"}),
        ("panel:movements_csv", {"until": "\x00"}),
    ],
)
def test_a_nul_byte_in_a_panel_filter_is_not_a_500(alice_client, name, params):
    response = alice_client.get(reverse(name), params)

    assert response.status_code == 200
