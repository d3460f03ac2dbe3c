# SPDX-License-Identifier: AGPL-3.0-or-later
import pytest
from django.urls import reverse

PAGES = [
    "dashboard",
    "invoices",
    "payment_methods",
    "billing_settings",
    "movements",
    "movements_csv",
]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_page_answers_for_its_customer(alice_client, alice, name, language):
    alice_client.cookies["django_language"] = language
    response = alice_client.get(reverse(f"panel:{name}"))
    assert response.status_code == 200
    if name != "movements_csv":
        assert alice.customer.number in response.content.decode()
