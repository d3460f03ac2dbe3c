# SPDX-License-Identifier: AGPL-3.0-or-later
"""Posting charges: exact decimal strings in and out, and bad input refused without effect."""

import pytest

from encaisse.invoicing.models import Charge


def test_posting_a_charge_returns_it_with_amounts_as_strings(api, make_customer, charge_body):
    customer = make_customer()

    response = api.post("/charges", charge_body(customer, quantity="3", unit_price="3.3333"))

    assert response.status_code == 201
    body = response.json()
    assert body["customer"] == customer.number
    assert body["quantity"] == "3.0000"
    assert body["unit_price"] == "3.3333"
    assert body["vat_rate"] == "20.00"
    assert body["amount"] == "10.00"
    assert body["invoice"] is None
    assert (body["period_start"], body["period_end"]) == ("2026-11-01", "2026-11-30")
    assert Charge.objects.get().pk == body["id"]


def test_a_repeated_external_id_returns_the_first_charge(api, make_customer, charge_body):
    customer = make_customer()
    first = api.post("/charges", charge_body(customer, external_id="usage-42"))

    again = api.post("/charges", charge_body(customer, external_id="usage-42"))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Charge.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"unit_price": "-1.00"}, "invalid_amount", "unit_price"),
        ({"quantity": "0"}, "invalid_amount", "quantity"),
        ({"vat_rate": "19"}, "unknown_vat_rate", "19"),
        ({"period_start": "2026-12-01"}, "invalid_period", "period"),
        ({"unit_price": "abc"}, "invalid_request", "abc"),
        ({"unit_price": 9.9}, "invalid_request", "string"),
        ({"quantity": 1}, "invalid_request", "string"),
        ({"unit_price": "9.12345"}, "invalid_request", "4 decimals"),
        ({"unit_price": "1e3"}, "invalid_request", "1e3"),
        ({"unit_price": "NaN"}, "invalid_request", "NaN"),
        ({"vat_rate": True}, "invalid_request", "string"),
        ({"period_end": "30/11/2026"}, "invalid_request", "date"),
    ],
)
def test_bad_input_changes_nothing_and_says_why(
    api, make_customer, charge_body, change, code, words
):
    customer = make_customer()

    response = api.post("/charges", charge_body(customer, **change), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == code
    text = body["message"] + " ".join(e["message"] for e in body.get("errors") or [])
    assert words.lower() in text.lower()
    assert Charge.objects.count() == 0


def test_a_charge_for_an_unknown_customer_is_a_404(api, db, charge_body):
    class Nobody:
        number = "C9999999"

    response = api.post("/charges", charge_body(Nobody()))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Charge.objects.count() == 0


def test_a_post_without_an_idempotency_key_is_refused(api, make_customer, charge_body):
    response = api.post("/charges", charge_body(make_customer()), key=None)

    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["header", "Idempotency-Key"]
    assert Charge.objects.count() == 0


def test_a_body_that_is_not_json_is_refused(api, make_customer):
    make_customer()
    response = api.post("/charges", "{not json")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert Charge.objects.count() == 0
