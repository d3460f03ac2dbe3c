# SPDX-License-Identifier: AGPL-3.0-or-later
"""Top-ups, cheques refused, reversals booked on the receivable when the balance is spent."""

from decimal import Decimal

import pytest
from django.utils import translation

from encaisse.core.exceptions import ValidationError
from encaisse.ledger.models import LedgerTransaction
from encaisse.ledger.selectors import customer_balance
from encaisse.payments import hooks
from encaisse.payments.exceptions import ChequeRefused, UnknownPaymentMethod
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


@pytest.mark.parametrize(
    ("reference", "reason"), [("VIR\x1b-1", ""), ("VIR\x00-1", ""), ("VIR-1", "re\x00çu")]
)
def test_control_characters_in_a_top_up_are_refused(make_customer, actor, reference, reason):
    """Issue 12, finding 4: the back-office form and every other caller, not only the API."""
    from encaisse.payments.services import record_top_up

    customer = make_customer()
    with pytest.raises(ValidationError):
        record_top_up(
            customer,
            amount="10.00",
            method="bank_transfer",
            reference=reference,
            actor=actor,
            reason=reason,
        )
    assert not LedgerTransaction.objects.filter(customer=customer).exists()


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


def test_a_top_up_calls_the_money_received_hooks_once_after_commit(
    make_customer, top_up, django_capture_on_commit_callbacks
):
    seen = []

    class Spy:
        identifier = "spy"

        def top_up_recorded(self, transaction_id):
            seen.append(transaction_id)

    hooks.hooks.register(Spy())
    try:
        customer = make_customer()
        with django_capture_on_commit_callbacks(execute=True):
            txn = top_up(customer, "10.00", reference="VIR-1")
        with django_capture_on_commit_callbacks(execute=True):
            top_up(customer, "10.00", reference="VIR-1")  # replayed: nothing posted, no hook
    finally:
        hooks.hooks.unregister("spy")
    assert seen == [txn.pk]


def test_part_of_a_top_up_goes_back_once_per_refund_reference(
    make_customer, top_up, actor, assert_ledger_ok
):
    customer = make_customer()
    funding = top_up(customer, "20.00", method="card", reference="ch_1")
    first = reverse_top_up(
        funding, actor=actor, reason="partial refund", amount=Decimal("5.00"), reference="re_1"
    )
    again = reverse_top_up(
        funding, actor=actor, reason="replay", amount=Decimal("5.00"), reference="re_1"
    )
    assert again.pk == first.pk and first.reverses is None
    assert customer_balance(customer).prepaid == Decimal("15.00")
    with pytest.raises(ValidationError):
        reverse_top_up(funding, actor=actor, reason="too much", amount=Decimal("21"), reference="x")
    with pytest.raises(ValidationError):
        reverse_top_up(funding, actor=actor, reason="no reference", amount=Decimal("1"))
    assert_ledger_ok()


def test_staff_methods_and_provider_identifiers_are_distinct(make_customer, top_up):
    with pytest.raises(UnknownPaymentMethod):
        top_up(make_customer(), "10.00", method="fake")
