# SPDX-License-Identifier: AGPL-3.0-or-later
"""Issue 12, findings 1 and 9: amounts over the API are plain ASCII decimals within bounds."""

from __future__ import annotations

import pytest

from encaisse.core.money import MAX_AMOUNT
from encaisse.invoicing.models import Charge
from encaisse.ledger.models import Entry


@pytest.mark.parametrize("price", ["١٢.٠٠", "１２.００", "1_2.00", "1e2", "۱۲"])
def test_amounts_in_other_digits_are_refused(api, make_customer, charge_body, price):
    customer = make_customer()
    response = api.post("/charges", charge_body(customer, unit_price=price))
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][-1] == "unit_price"
    assert not Charge.objects.exists()


def test_a_fifteen_digit_amount_is_too_large_not_too_precise(api, make_customer):
    customer = make_customer()
    response = api.post(
        f"/customers/{customer.number}/payments",
        {"amount": "123456789012345", "method": "bank_transfer", "reference": "VIR-1"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["type"] == "too_large"
    assert "decimals" not in error["message"]
    assert not Entry.objects.exists()


def test_a_line_above_the_maximum_is_refused_clearly(api, make_customer, charge_body):
    customer = make_customer()
    body = charge_body(customer, quantity="20", unit_price=str(MAX_AMOUNT / 20 + 1))
    response = api.post("/charges", body, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert response.json()["code"] == "line_too_large"
    assert "1,000,000,000.00" in response.json()["message"]
    assert not Charge.objects.exists()
