# SPDX-License-Identifier: AGPL-3.0-or-later
"""The payment state machine: allowed moves only, one audit row each, money on two kinds only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from encaisse.core.exceptions import ValidationError
from encaisse.core.models import AuditLog
from encaisse.invoicing.models import Invoice
from encaisse.ledger.models import LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import customer_balance
from encaisse.payments import transitions
from encaisse.payments.exceptions import InvalidTransition, RefundRefused
from encaisse.payments.models import Payment, PaymentStatus


@pytest.fixture
def pending(make_customer, actor):
    def make(amount="20.00", customer=None):
        return transitions.open_payment(
            customer or make_customer(), provider="psp", amount=Decimal(amount), actor=actor
        )

    return make


def _actions(payment):
    return list(
        AuditLog.objects.filter(object_type="payments.payment", object_id=str(payment.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    )


def test_every_state_has_its_row_in_the_table_of_transitions():
    assert set(transitions.ALLOWED) == set(PaymentStatus)
    assert transitions.ALLOWED[PaymentStatus.REFUNDED] == frozenset()
    assert transitions.ALLOWED[PaymentStatus.CANCELLED] == frozenset()


def test_a_payment_that_succeeds_is_credited_once_and_each_step_is_audited(pending, actor):
    payment = pending()
    transitions.require_action(payment, actor=actor, reason="3-D Secure")
    transitions.resume_payment(payment, actor=actor)
    transitions.succeed_payment(payment, actor=actor)
    transitions.succeed_payment(payment, actor=actor)  # a replay: nothing more

    payment.refresh_from_db()
    assert payment.status == "succeeded" and payment.top_up is not None
    assert customer_balance(payment.customer).prepaid == Decimal("20.00")
    assert payment.top_up.idempotency_key == f"topup:psp:{payment.pk}"
    assert _actions(payment) == [
        "encaisse.payment.pending",
        "encaisse.payment.requires_action",
        "encaisse.payment.pending",
        "encaisse.payment.succeeded",
    ]


def test_money_comes_from_the_provider_clearing_account_not_the_bank(pending, actor):
    payment = transitions.succeed_payment(pending(), actor=actor)
    legs = {e.account.code: e.amount for e in payment.top_up.entries.select_related("account")}
    assert legs["psp_clearing:psp"] == Decimal("20.00")
    assert not any(code.startswith("bank") for code in legs)


@pytest.mark.parametrize(
    ("path", "service"),
    [
        (["succeed"], "fail"),
        (["succeed"], "require_action"),
        (["cancel"], "succeed"),
        (["fail"], "cancel"),
        ([], "win_dispute"),
        (["succeed"], "win_dispute"),
    ],
)
def test_a_move_the_table_does_not_allow_is_refused_and_changes_nothing(
    pending, actor, path, service
):
    calls = {
        "succeed": lambda p: transitions.succeed_payment(p, actor=actor),
        "fail": lambda p: transitions.fail_payment(p, actor=actor, reason="declined"),
        "cancel": lambda p: transitions.cancel_payment(p, actor=actor, reason="abandoned"),
        "require_action": lambda p: transitions.require_action(p, actor=actor),
        "win_dispute": lambda p: transitions.win_dispute(p, actor=actor),
    }
    payment = pending()
    for step in path:
        calls[step](payment)
    payment.refresh_from_db()
    before = (payment.status, customer_balance(payment.customer).prepaid, len(_actions(payment)))

    if (payment.status, service) == ("succeeded", "win_dispute"):
        calls[service](payment)  # already succeeded: the same state again is a no-op
    else:
        with pytest.raises(InvalidTransition):
            calls[service](payment)

    payment.refresh_from_db()
    assert (
        payment.status,
        customer_balance(payment.customer).prepaid,
        len(_actions(payment)),
    ) == before


def test_a_payment_that_failed_and_then_succeeds_at_the_provider_is_credited(pending, actor):
    payment = transitions.fail_payment(pending(), actor=actor, reason="timeout")
    assert payment.failure_reason == "timeout"
    payment = transitions.succeed_payment(payment, actor=actor)
    assert payment.failure_reason == ""
    assert customer_balance(payment.customer).prepaid == Decimal("20.00")


def test_partial_refunds_are_booked_once_each_and_the_last_one_ends_the_payment(
    pending, actor, assert_ledger_ok
):
    payment = transitions.succeed_payment(pending("20.00"), actor=actor)
    for _replay in range(2):
        transitions.refund_payment(
            payment, amount=Decimal("5.00"), reference="re_1", actor=actor, reason="goodwill"
        )
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("succeeded", Decimal("5.00"))

    with pytest.raises(RefundRefused):
        transitions.refund_payment(
            payment, amount=Decimal("15.01"), reference="re_2", actor=actor, reason="too much"
        )
    payment = transitions.refund_payment(
        payment, amount=Decimal("15.00"), reference="re_3", actor=actor, reason="the rest"
    )
    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("20.00"))
    assert customer_balance(payment.customer).prepaid == 0
    reversals = LedgerTransaction.objects.filter(
        customer=payment.customer, kind=TransactionKind.REVERSAL
    )
    assert reversals.count() == 2
    assert "encaisse.payment.partially_refunded" in _actions(payment)
    assert _actions(payment)[-1] == "encaisse.payment.refunded"
    assert_ledger_ok()


def test_a_refund_of_the_whole_payment_is_the_mirror_of_its_top_up(pending, actor):
    payment = transitions.succeed_payment(pending("20.00"), actor=actor)
    payment = transitions.refund_payment(
        payment, amount=Decimal("20.00"), reference="re_9", actor=actor, reason="refund"
    )
    reversal = LedgerTransaction.objects.get(kind=TransactionKind.REVERSAL)
    assert reversal.reverses == payment.top_up
    assert payment.status == "refunded"


def test_a_payment_that_never_succeeded_cannot_be_refunded(pending, actor):
    with pytest.raises(InvalidTransition):
        transitions.refund_payment(
            pending(), amount=Decimal(1), reference="re_1", actor=actor, reason="no"
        )


def test_a_dispute_moves_nothing_until_lost_then_reverses_what_was_not_refunded(
    pending, actor, assert_ledger_ok
):
    payment = transitions.succeed_payment(pending("20.00"), actor=actor)
    transitions.refund_payment(
        payment, amount=Decimal("5.00"), reference="re_1", actor=actor, reason="goodwill"
    )
    payment = transitions.dispute_payment(payment, actor=actor, reason="dp_1")
    assert customer_balance(payment.customer).prepaid == Decimal("15.00")

    payment = transitions.lose_dispute(payment, reference="dp_1", actor=actor)
    transitions.lose_dispute(payment, reference="dp_1", actor=actor)  # replayed

    assert (payment.status, payment.refunded_amount) == ("refunded", Decimal("20.00"))
    assert customer_balance(payment.customer).prepaid == 0
    assert_ledger_ok()


def test_a_won_dispute_returns_to_succeeded_and_moves_nothing(pending, actor):
    payment = transitions.succeed_payment(pending("20.00"), actor=actor)
    transitions.dispute_payment(payment, actor=actor)
    payment = transitions.win_dispute(payment, actor=actor, reason="evidence accepted")
    assert payment.status == "succeeded"
    assert customer_balance(payment.customer).prepaid == Decimal("20.00")


def test_a_collection_that_succeeds_pays_its_invoice(make_customer, charge, bill, actor):
    customer = make_customer()
    charge(customer, "10.00")
    bill()
    invoice = Invoice.objects.get(customer=customer)
    payment = transitions.open_payment(
        customer, provider="psp", amount=invoice.amount_due, actor=actor, invoice=invoice
    )
    assert not payment.is_top_up
    transitions.succeed_payment(payment, actor=actor)
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_the_provider_reference_is_set_once(pending):
    payment = transitions.set_reference(pending(), external_ref="ch_1")
    assert transitions.set_reference(payment, external_ref="ch_1").external_ref == "ch_1"
    with translation.override("en"), pytest.raises(ValidationError, match="already has"):
        transitions.set_reference(payment, external_ref="ch_2")
    assert Payment.objects.get(pk=payment.pk).external_ref == "ch_1"
