# SPDX-License-Identifier: AGPL-3.0-or-later
"""Top-ups, cheques refused, reversals booked on the receivable when the balance is spent."""

from decimal import Decimal

import pytest
from django.utils import translation

from encaisse.core.exceptions import ValidationError
from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance
from encaisse.payments.exceptions import ChequeRefused
from encaisse.payments.services import reverse_top_up


@pytest.mark.parametrize("method", ["cheque", "Chèque", "check"])
def test_cheques_are_refused_with_a_clear_message_and_nothing_is_credited(
    make_customer, top_up, method
):
    customer = make_customer()
    with translation.override("en"):
        with pytest.raises(ChequeRefused) as error:
            top_up(customer, "10.00", method=method)
        assert "Cheques are not accepted" in str(error.value)  # lazy: read it in English
    assert customer_balance(customer).prepaid == 0
    assert not LedgerTransaction.objects.filter(customer=customer).exists()


@pytest.mark.parametrize("amount", ["-5", "0", "abc", "1.001", 10.0, "99999999"])
def test_bad_top_up_amounts_are_refused(make_customer, top_up, amount):
    customer = make_customer()
    with pytest.raises(ValidationError):
        top_up(customer, amount)
    assert customer_balance(customer).prepaid == 0


def test_card_top_ups_sit_in_the_psp_clearing_account(make_customer, top_up):
    txn = top_up(make_customer(), "20.00", method="card")
    codes = {e.account.code: e.amount for e in txn.entries.select_related("account")}
    assert codes["psp_clearing:card"] == Decimal("20.00")


def test_a_reversal_the_balance_cannot_cover_becomes_an_amount_due(
    make_customer, charge, top_up, bill, actor, assert_ledger_ok
):
    customer = make_customer()
    funding = top_up(customer, "20.00")
    charge(customer, "10.00")
    bill()  # 12.00 spent, 8.00 left
    reversal = reverse_top_up(funding, actor=actor, reason="SEPA return MD06")
    balance = customer_balance(customer)
    assert balance.prepaid == Decimal("0.00")
    assert balance.due == Decimal("12.00")
    assert reversal.reverses == funding
    again = reverse_top_up(funding, actor=actor, reason="webhook replay")
    assert again.pk == reversal.pk
    assert_ledger_ok()
