# SPDX-License-Identifier: AGPL-3.0-or-later
"""Finding a customer in the back-office and reading their ledger and invoices on their page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance

CHANGELIST = reverse("admin:customers_customer_changelist")


@pytest.fixture
def customers(make_customer):
    return {
        "atelier": make_customer(name="Atelier Numérique", email="compta@atelier.example"),
        "boulangerie": make_customer(name="Boulangerie Martin", email="pain@martin.example"),
        "mairie": make_customer(name="Mairie de Rivière", email="dgs@riviere.example"),
    }


def _found(client, term: str) -> set[str]:
    response = client.get(CHANGELIST, {"q": term}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return {customer.name for customer in response.context["cl"].result_list}


@pytest.mark.parametrize(
    "spelling",
    [
        lambda n: n,
        lambda n: n.lower(),
        lambda n: f"{n[0].lower()} {n[1:4]} {n[4:]}",  # read back over the phone: "c 100 0015"
        lambda n: f"{n[:4]}.{n[4:]}",
    ],
)
def test_search_finds_a_customer_by_number_however_it_is_typed(admin_client, customers, spelling):
    number = customers["boulangerie"].number

    assert _found(admin_client, spelling(number)) == {"Boulangerie Martin"}


def test_search_finds_customers_by_name_and_email(admin_client, customers):
    assert _found(admin_client, "boulangerie") == {"Boulangerie Martin"}
    assert _found(admin_client, "rivière") == {"Mairie de Rivière"}
    assert _found(admin_client, "compta@atelier") == {"Atelier Numérique"}
    assert _found(admin_client, "nobody@nowhere") == set()


def test_the_customer_page_shows_their_ledger_and_invoices(admin_client, books):
    customer = books.customer
    html = admin_client.get(
        reverse("admin:customers_customer_change", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert 'id="customer-transactions"' in html
    for txn in LedgerTransaction.objects.filter(customer=customer):
        assert reverse("admin:ledger_ledgertransaction_change", args=[txn.pk]) in html
    assert reverse("admin:invoicing_invoice_change", args=[books.invoice.pk]) in html
    assert books.invoice.number in html
    # The 5.00 top-up credited the balance; the 17.88 invoice was issued paying 5.00 from the
    # balance in the same journal transaction, so 12.88 became due.
    assert html.count("+€5.00") == 1
    assert "+€12.88" in html
    assert html.count("\u2212€5.00") == 1  # out of the balance
    assert f"customer__id__exact={customer.pk}" in html  # "see all" links


def test_the_customer_page_lists_only_that_customer(admin_client, books, make_customer, top_up):
    other = make_customer(name="Autre Client")
    top_up(other, "77.77")

    html = admin_client.get(
        reverse("admin:customers_customer_change", args=[books.customer.pk]),
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()

    assert "77.77" not in html


def test_the_payment_form_is_reachable_from_the_customer_page(admin_client, books):
    customer = books.customer
    page = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    url = reverse("admin:customers_customer_record_payment", args=[customer.pk])

    assert url in page.content.decode()
    response = admin_client.post(
        url,
        {
            "amount": "12.88",
            "method": "bank_transfer",
            "reference": "VIR-DASH-1",
            "reason": "Transfer seen on the statement",
        },
    )
    assert response.status_code == 302
    txn = LedgerTransaction.objects.get(idempotency_key="topup:bank_transfer:VIR-DASH-1")
    assert txn.reason == "Transfer seen on the statement"
    assert customer_balance(customer).due == Decimal("0.00")
