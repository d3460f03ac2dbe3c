# SPDX-License-Identifier: AGPL-3.0-or-later
"""Customers through the API: create, read, search, balance and movements."""

from decimal import Decimal

import pytest

from encaisse.core.models import AuditLog
from encaisse.customers import numbers
from encaisse.customers.models import Customer
from encaisse.ledger.models import Account, AccountKind


def test_creating_a_customer_returns_it_with_its_number(api, api_key, customer_body):
    response = api.post("/customers", {**customer_body, "overdraft": "50.00"})

    assert response.status_code == 201
    body = response.json()
    assert numbers.is_valid(body["number"])
    assert body["name"] == "Atelier Numérique SARL"
    assert body["siret"] == "73282932000074"
    assert body["vat_number"] == "FR44732829320"
    assert body["kind"] == "company"
    assert body["language"] == "fr"
    assert body["country"] == "FR"
    assert {"address_line1", "address_line2", "postal_code", "city", "created_at"} <= body.keys()
    customer = Customer.objects.get(number=body["number"])
    prepaid = Account.objects.get(customer=customer, kind=AccountKind.PREPAID)
    assert prepaid.floor == Decimal("-50.00")
    audit = AuditLog.objects.get(action="encaisse.customer.created")
    assert (audit.actor_kind, audit.actor_id) == ("api_key", str(api_key.pk))


def test_a_created_customer_reads_back_the_same(api, customer_body):
    created = api.post("/customers", customer_body).json()

    response = api.get(f"/customers/{created['number']}")

    assert response.status_code == 200
    assert response.json() == created
    # Numbers are normalised as customers type them in transfer comments.
    spaced = created["number"].lower()[:4] + " " + created["number"][4:]
    assert api.get(f"/customers/{spaced}").json() == created


def test_an_unknown_customer_is_a_404(api):
    response = api.get("/customers/C9999999")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "C9999999" in response.json()["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"siret": "73282932000075"}, "SIRET"),
        ({"vat_number": "FR00732829320"}, "VAT"),
        ({"email": "not-an-email"}, "e-mail"),
        ({"postal_code": "6900"}, "postal code"),
        ({"kind": "public_body", "siret": ""}, "SIRET"),
    ],
)
def test_an_invalid_identity_is_refused_with_a_clear_message(api, customer_body, change, field):
    response = api.post("/customers", {**customer_body, **change}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert field in response.json()["message"]
    assert Customer.objects.count() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"overdraft": 50},
        {"overdraft": "-5"},
        {"overdraft": "1.001"},
        {"kind": "alien"},
        {"name": "x" * 201},
        {"unknown_field": "typo"},
    ],
)
def test_a_malformed_customer_is_refused_before_anything_runs(api, customer_body, change):
    response = api.post("/customers", {**customer_body, **change})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["message"]
    assert body["errors"] and body["errors"][0]["loc"][0] == "body"
    assert Customer.objects.count() == 0


def test_customers_are_listed_by_number_and_searchable(api, make_customer):
    first = make_customer(name="Boulangerie Martin", email="martin@pain.example")
    second = make_customer(name="Garage Dupont", email="contact@garage.example")

    listing = api.get("/customers").json()
    assert listing["count"] == 2
    assert [c["number"] for c in listing["items"]] == [first.number, second.number]

    assert [c["number"] for c in api.get("/customers", {"search": "dupont"}).json()["items"]] == [
        second.number
    ]
    assert api.get("/customers", {"search": "pain.example"}).json()["count"] == 1
    assert api.get("/customers", {"search": first.number}).json()["items"][0]["name"] == (
        "Boulangerie Martin"
    )
    page = api.get("/customers", {"page": 2, "page_size": 1}).json()
    assert page["count"] == 2 and page["items"][0]["number"] == second.number


def test_the_balance_shows_prepaid_due_and_available_as_strings(
    api, make_customer, charge, top_up, bill
):
    customer = make_customer(overdraft=Decimal("20.00"))
    top_up(customer, "5.00")
    charge(customer, "9.90")  # 11.88 incl. VAT: 5.00 from the balance, then 6.88 of overdraft
    bill()

    response = api.get(f"/customers/{customer.number}/balance")

    assert response.status_code == 200
    assert response.json() == {
        "customer": customer.number,
        "currency": "EUR",
        "prepaid": "-6.88",
        "due": "0.00",
        "available": "13.12",
    }


def test_movements_are_signed_from_the_customers_viewpoint(
    api, make_customer, charge, top_up, bill
):
    customer = make_customer()
    top_up(customer, "50.00")
    charge(customer, "9.90")
    bill()

    response = api.get(f"/customers/{customer.number}/movements")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    newest, oldest = body["items"]
    assert (oldest["kind"], oldest["amount"]) == ("top_up", "50.00")
    assert (newest["kind"], newest["amount"]) == ("invoice_issued", "-11.88")
    assert {"transaction", "date", "description", "reason"} <= newest.keys()
    assert api.get("/customers/C9999999/movements").status_code == 404
