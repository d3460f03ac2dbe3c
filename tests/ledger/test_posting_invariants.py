# SPDX-License-Identifier: AGPL-3.0-or-later
"""Posting rules of ``ledger.services.post`` and the floor (I1, I3, I4, I6).

* I1 zero-sum: an unbalanced set of legs, a single leg or a zero leg is refused and writes nothing.
* I4/I6 idempotency: the same key twice posts once; the same key with other legs is rejected.
* I3 floor: a voluntary debit never takes a prepaid balance below 0 or the agreed overdraft; the
  billing run uses an overdraft down to exactly its limit and leaves the rest due; the CHECK
  constraint is the backstop when a caller forgets the guard.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from encaisse.invoicing.models import Invoice, InvoiceStatus
from encaisse.ledger.accounts import customer_account, system_account
from encaisse.ledger.exceptions import IdempotencyConflict, InsufficientFunds, UnbalancedTransaction
from encaisse.ledger.models import Account, AccountKind, Entry, LedgerTransaction, TransactionKind
from encaisse.ledger.selectors import check_ledger, customer_balance
from encaisse.ledger.services import Leg, post

pytestmark = pytest.mark.django_db


def _snapshot() -> tuple:
    """Everything a posting could change: counts and every stored balance."""
    return (
        LedgerTransaction.objects.count(),
        Entry.objects.count(),
        dict(Account.objects.values_list("code", "balance")),
    )


@pytest.fixture
def funded(make_customer, top_up):
    """A customer holding 10.00 on a prepaid account without overdraft."""
    customer = make_customer()
    top_up(customer, "10.00")
    return customer


def _spend(customer, amount: str, key: str, actor, **kwargs):
    """A voluntary debit of the prepaid balance (what a purchase from the balance would post)."""
    return post(
        key=key,
        kind=TransactionKind.INVOICE_SETTLED,
        description="spend",
        legs=[
            Leg(customer_account(customer, AccountKind.PREPAID), Decimal(amount)),
            Leg(system_account(AccountKind.REVENUE), -Decimal(amount)),
        ],
        actor=actor,
        customer=customer,
        **kwargs,
    )


@pytest.mark.parametrize(
    "amounts",
    [
        ["10.00", "-9.99"],  # off by one cent
        ["10.00"],  # a single leg
        ["10.00", "-10.00", "0.00"],  # a zero leg
        ["0.00", "0.00"],  # nothing at all
        ["5.00", "5.00", "-9.00"],
    ],
)
def test_post_refuses_legs_that_do_not_sum_to_zero(funded, actor, amounts):
    """I1: nothing is written for an unbalanced, single-leg or zero-leg transaction."""
    prepaid = customer_account(funded, AccountKind.PREPAID)
    revenue = system_account(AccountKind.REVENUE)
    bank = system_account(AccountKind.BANK, "main")
    accounts = [prepaid, revenue, bank]
    legs = [Leg(accounts[i], Decimal(a)) for i, a in enumerate(amounts)]
    before = _snapshot()

    with pytest.raises(UnbalancedTransaction):
        post(
            key="unbalanced", kind=TransactionKind.REVERSAL, description="x", legs=legs, actor=actor
        )

    assert _snapshot() == before
    assert not LedgerTransaction.objects.filter(idempotency_key="unbalanced").exists()


def test_the_same_key_posts_once(funded, actor):
    """I4/I6: a retried posting returns the first transaction and writes no entry."""
    first, created = _spend(funded, "3.00", "spend:1", actor)
    assert created
    after_first = _snapshot()

    again, created_again = _spend(funded, "3.00", "spend:1", actor)

    assert not created_again
    assert again.pk == first.pk
    assert _snapshot() == after_first
    assert customer_balance(funded).prepaid == Decimal("7.00")
    assert check_ledger().ok


def test_the_same_key_with_other_legs_is_rejected(funded, make_customer, actor):
    """I6: reusing a key for a different movement is a conflict, and changes nothing."""
    _spend(funded, "3.00", "spend:1", actor)
    other = make_customer()
    before = _snapshot()

    with pytest.raises(IdempotencyConflict):
        _spend(funded, "3.01", "spend:1", actor)
    with pytest.raises(IdempotencyConflict):
        _spend(other, "3.00", "spend:1", actor)  # same amount, other account

    assert _snapshot() == before


def test_a_top_up_replayed_with_another_amount_is_rejected(funded, actor):
    """I6 at the payment entry point: one bank line cannot be booked with two amounts."""
    from encaisse.payments.services import record_top_up

    record_top_up(funded, amount="25.00", method="bank_transfer", reference="line-1", actor=actor)
    before = _snapshot()

    _, created = record_top_up(
        funded, amount="25.00", method="bank_transfer", reference=" line-1 ", actor=actor
    )
    assert not created
    with pytest.raises(IdempotencyConflict):
        record_top_up(
            funded, amount="26.00", method="bank_transfer", reference="line-1", actor=actor
        )

    assert _snapshot() == before
    assert customer_balance(funded).prepaid == Decimal("35.00")


def test_a_voluntary_debit_never_crosses_the_floor(funded, actor):
    """I3: 10.01 cannot be taken from 10.00; exactly 10.00 can; then not one more cent."""
    before = _snapshot()

    with pytest.raises(InsufficientFunds):
        _spend(funded, "10.01", "spend:too-much", actor)

    assert _snapshot() == before
    assert not LedgerTransaction.objects.filter(idempotency_key="spend:too-much").exists()

    _spend(funded, "10.00", "spend:all", actor)
    assert customer_balance(funded).prepaid == Decimal("0.00")
    with pytest.raises(InsufficientFunds):
        _spend(funded, "0.01", "spend:one-cent", actor)
    assert customer_balance(funded).prepaid == Decimal("0.00")
    assert check_ledger().ok


def test_the_check_constraint_backs_up_a_forgotten_guard(funded, actor):
    """I3 backstop: even ``enforce_floor=False`` or raw SQL cannot store a balance under the floor."""
    before = _snapshot()

    with pytest.raises(IntegrityError), transaction.atomic():
        _spend(funded, "10.01", "spend:unguarded", actor, enforce_floor=False)
    prepaid = customer_account(funded, AccountKind.PREPAID)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE ledger_account SET balance = -1 WHERE id = %s", [prepaid.pk])

    assert _snapshot() == before


def test_the_billing_run_uses_the_overdraft_down_to_its_limit_and_no_further(
    make_customer, charge, top_up, bill, actor
):
    """I3 with an agreed overdraft of 20.00: the run settles 20.00 of a 30.00 invoice, 10.00 stay due.

    A second customer with the same overdraft and 5.00 of credit pays a 12.00 invoice in full
    (balance -7.00, within the overdraft). Nothing voluntary may then take the first one lower.
    """
    short = make_customer(overdraft=Decimal("20"))
    within = make_customer(overdraft=Decimal("20"))
    charge(short, "25.00")  # 30.00 incl. 20 % VAT
    charge(within, "10.00")  # 12.00
    top_up(within, "5.00")

    bill()

    short_invoice = Invoice.objects.get(customer=short)
    assert short_invoice.total_incl_vat == Decimal("30.00")
    assert short_invoice.paid == Decimal("20.00")
    assert short_invoice.amount_due == Decimal("10.00")
    assert short_invoice.status == InvoiceStatus.OPEN
    assert customer_balance(short).prepaid == Decimal("-20.00")
    assert customer_balance(short).due == Decimal("10.00")
    assert Invoice.objects.get(customer=within).status == InvoiceStatus.PAID
    assert customer_balance(within).prepaid == Decimal("-7.00")
    assert customer_balance(within).due == Decimal("0.00")

    with pytest.raises(InsufficientFunds):
        _spend(short, "0.01", "spend:past-overdraft", actor)
    assert customer_balance(short).prepaid == Decimal("-20.00")

    # Money arriving later goes to the amount due first, never back into the overdraft.
    top_up(short, "4.00")
    assert customer_balance(short).prepaid == Decimal("-20.00")
    assert customer_balance(short).due == Decimal("6.00")
    assert check_ledger().ok


def test_a_long_payment_reference_behaves_the_same_on_both_engines(
    make_customer, charge, bill, actor
):
    """A reference is either refused up front (ValidationError) or booked and applied; never a
    database error that depends on the engine (SQLite does not enforce max_length).

    170 characters (a remittance text) keep the top-up key within 200 characters, but not the key
    of the settlement it triggers when an invoice is due.
    """
    from encaisse.core.exceptions import ValidationError
    from encaisse.payments.services import record_top_up

    customer = make_customer()
    charge(customer, "10.00")
    bill()
    reference = "VIR SEPA " + "X" * 161
    before = _snapshot()

    try:
        with transaction.atomic():
            record_top_up(
                customer, amount="12.00", method="bank_transfer", reference=reference, actor=actor
            )
    except ValidationError:
        assert _snapshot() == before
        return
    assert Invoice.objects.get(customer=customer).status == InvoiceStatus.PAID
    assert check_ledger().ok
