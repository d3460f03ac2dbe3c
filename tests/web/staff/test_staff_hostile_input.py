# SPDX-License-Identifier: AGPL-3.0-or-later
"""Control characters, blank names and implausible periods in the back-office (issue 12, findings
4 and 9): a form error, nothing stored, never a 500, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.urls import reverse

from encaisse.customers.models import Customer
from encaisse.invoicing.models import Charge

CHARGE = {
    "description": "Stockage",
    "quantity": "1",
    "unit_price": "9,90",
    "vat_rate": "20.00",
    "period_start": "01/11/2026",
    "period_end": "30/11/2026",
}


@pytest.mark.parametrize(
    "change",
    [
        {"description": "Stock\x01age"},
        {"description": "Stock\x1bage"},
        {"description": "Stockage\x00"},
        {"period_start": "01/01/0001", "period_end": "31/12/9999"},
        {"period_start": "30/11/2026", "period_end": "01/11/2026"},
    ],
)
def test_a_hostile_charge_is_a_form_error(admin_client, books, change):
    before = Charge.objects.count()

    response = admin_client.post(
        reverse("admin:invoicing_charge_add"), {**CHARGE, "customer": books.customer.pk, **change}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert Charge.objects.count() == before


def test_a_blank_charge_description_is_a_form_error(admin_client, books):
    response = admin_client.post(
        reverse("admin:invoicing_charge_add"),
        {**CHARGE, "customer": books.customer.pk, "description": "   "},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["description"]


@pytest.mark.parametrize("name", ["Atelier\x01", "Atelier\x00", "Ate\nlier"])
def test_a_control_character_in_a_customer_is_a_form_error(admin_client, name):
    response = admin_client.post(
        reverse("admin:customers_customer_add"),
        {
            "name": name,
            "kind": "individual",
            "email": "a@example.org",
            "language": "fr",
            "address_line1": "3 rue des Lilas",
            "postal_code": "69003",
            "city": "Lyon",
            "country": "FR",
        },
    )

    assert response.status_code == 200
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    "url", ["admin:customers_customer_changelist", "admin:invoicing_charge_changelist"]
)
def test_a_nul_byte_in_a_back_office_search_is_not_a_500(admin_client, books, url):
    response = admin_client.get(reverse(url), {"q": "Atelier\x00"})

    assert response.status_code in (200, 400)
