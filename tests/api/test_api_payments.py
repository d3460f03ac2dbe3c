# SPDX-License-Identifier: AGPL-3.0-or-later
"""Recording payments: top-ups of the prepaid balance; cheques are refused."""

import pytest

from encaisse.ledger.models import LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import customer_balance
from encaisse.payments.exceptions import ChequeRefused


def _pay(api, customer, **change):
    body = {"amount": "25.00", "method": "bank_transfer", "reference": "VIR-2026-001"}
    body.update(change)
    return api.post(f"/customers/{customer.number}/payments", body)


def test_a_top_up_credits_the_prepaid_balance(api, api_key, make_customer):
    customer = make_customer()

    response = _pay(api, customer, amount="25", reason="virement reçu")

    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "25.00"
    assert (body["customer"], body["method"], body["reference"]) == (
        customer.number,
        "bank_transfer",
        "VIR-2026-001",
    )
    assert body["reason"] == "virement reçu"
    txn = LedgerTransaction.objects.get(kind=TransactionKind.TOP_UP)
    assert body["transaction"] == txn.pk
    assert (txn.actor_kind, txn.actor_id) == ("api_key", str(api_key.pk))
    assert str(customer_balance(customer).prepaid) == "25.00"


def test_the_same_payment_reference_is_counted_once(api, make_customer):
    customer = make_customer()
    first = _pay(api, customer)

    again = _pay(api, customer)  # another Idempotency-Key, same bank entry

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["transaction"] == first.json()["transaction"]
    assert str(customer_balance(customer).prepaid) == "25.00"


@pytest.mark.parametrize("method", ["cheque", "chèque", "Cheque", " CHÈQUE "])
def test_cheques_are_refused_with_the_cheque_message(api, make_customer, method):
    customer = make_customer()

    response = _pay(api, customer, method=method)

    assert response.status_code == 422
    assert response.json() == {"code": "cheque_refused", "message": str(ChequeRefused.message)}
    assert not LedgerTransaction.objects.filter(kind=TransactionKind.TOP_UP).exists()


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": "-5.00"}, "invalid"),
        ({"amount": "0"}, "invalid"),
        ({"amount": 25}, "invalid_request"),
        ({"amount": 25.5}, "invalid_request"),
        ({"amount": "abc"}, "invalid_request"),
        ({"amount": "10.001"}, "invalid_request"),
        ({"method": "bitcoin"}, "unknown_payment_method"),
        ({"reference": ""}, "invalid_request"),
    ],
)
def test_a_bad_payment_changes_nothing(api, make_customer, change, code):
    customer = make_customer()

    response = _pay(api, customer, **change)

    assert response.status_code == 422
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert str(customer_balance(customer).prepaid) == "0.00"


def test_a_top_up_settles_an_invoice_left_due(api, make_customer, charge, bill):
    from encaisse.invoicing.models import Invoice

    customer = make_customer()
    charge(customer, "9.90")
    bill()

    assert _pay(api, customer, amount="20.00").status_code == 201

    assert Invoice.objects.get(customer=customer).status == "paid"
    balance = api.get(f"/customers/{customer.number}/balance").json()
    assert (balance["prepaid"], balance["due"]) == ("8.12", "0.00")


def test_a_payment_for_an_unknown_customer_is_a_404(api, db):
    class Nobody:
        number = "C9999999"

    assert _pay(api, Nobody()).status_code == 404


def test_a_reference_reused_for_another_amount_is_a_conflict_not_kept(api, make_customer):
    from encaisse.api.models import IdempotencyRecord

    customer = make_customer()
    _pay(api, customer)

    response = api.post(
        f"/customers/{customer.number}/payments",
        {"amount": "99.00", "method": "bank_transfer", "reference": "VIR-2026-001"},
        key="pay-other-amount",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_conflict"
    assert not IdempotencyRecord.objects.filter(key="pay-other-amount").exists()
    assert str(customer_balance(customer).prepaid) == "25.00"
